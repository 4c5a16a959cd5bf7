import HandoverCore

/// A crossing record as rows a person can read: each field's path in words ("consent state") beside
/// its value, nested objects and lists flattened. Every value goes through the template's escaping;
/// nothing here is HTML.
enum ConsoleRecordRows {
    static func rows(_ value: JSONValue, limit: Int = 200) -> [[String: String]] {
        var out: [[String: String]] = []
        func walk(_ value: JSONValue, _ path: [String]) {
            guard out.count < limit else { return }
            switch value {
            case .object(let pairs): for (key, child) in pairs { walk(child, path + [key]) }
            case .array(let items):
                if items.isEmpty { return }
                for (n, child) in items.enumerated() { walk(child, path + (items.count > 1 ? ["\(n + 1)"] : [])) }
            case .null: return
            case .bool(let b): out.append(["field": label(path), "value": b ? "yes" : "no"])
            case .int(let i): out.append(["field": label(path), "value": String(i)])
            case .string(let s): out.append(["field": label(path), "value": String(s.prefix(500))])
            }
        }
        walk(value, [])
        return out
    }

    private static func label(_ path: [String]) -> String {
        let words = path.map { $0.replacingOccurrences(of: "_", with: " ") }.joined(separator: " › ")
        return words.prefix(1).uppercased() + words.dropFirst()
    }
}
