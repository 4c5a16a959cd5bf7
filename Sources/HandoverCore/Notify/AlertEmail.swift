import Foundation

/// An alert as an email (RFC 5322, MIME multipart/alternative with plain text and HTML), carrying the
/// same references as every other notification and nothing clinical. Repeats and the resolution of one
/// alert share a `References` header, so mail clients thread them.
public enum AlertEmail {
    public static func compose(_ f: AlertFacts, from: String, to: String, deliveryID: String) -> String {
        let domain = from.split(separator: "@").last.map(String.init) ?? "handover.invalid"
        let boundary = "handover-" + deliveryID.filter { $0.isLetter || $0.isNumber }
        var lines = [
            "From: Handover <\(from)>", "To: <\(to)>", "Subject: " + headerText("[Handover] " + f.summary),
            "Date: " + rfc5322Date(f.now), "Message-ID: <\(deliveryID)@\(domain)>", "References: <alert-\(f.alertID)@\(domain)>",
            "X-Handover-Alert: " + headerText(f.alertID), "X-Handover-Event: " + (f.isTest ? "alert.test" : f.event.rawValue),
            "Auto-Submitted: auto-generated", "MIME-Version: 1.0", "Content-Type: multipart/alternative; boundary=\"\(boundary)\"", "",
        ]
        for (type, content) in [("text/plain", plainText(f)), ("text/html", html(f))] {
            lines += ["--" + boundary, "Content-Type: \(type); charset=utf-8", "Content-Transfer-Encoding: base64", ""]
            lines += base64Lines(content)
        }
        lines += ["--" + boundary + "--", ""]
        return lines.joined(separator: "\r\n")
    }

    static func plainText(_ f: AlertFacts) -> String {
        var text = f.summary + "\n\n"
        let width = f.facts.map(\.label.count).max() ?? 0
        for fact in f.facts { text += fact.label + ":" + String(repeating: " ", count: width - fact.label.count + 1) + fact.value + "\n" }
        if let link = f.link { text += "\nOpen the alert: \(link)\n" }
        text += "\nThis email carries references only; read the message itself in Handover or the receiving system.\n"
        return text
    }

    static func html(_ f: AlertFacts) -> String {
        func e(_ s: String) -> String {
            s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
                .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
        }
        var html = "<!doctype html><html lang=\"en\"><body style=\"font-family:sans-serif\"><h1 style=\"font-size:1.2em\">\(e(f.summary))</h1>"
        html +=
            "<table>"
            + f.facts.map { "<tr><th scope=\"row\" style=\"text-align:left;padding-right:1em\">\(e($0.label))</th><td>\(e($0.value))</td></tr>" }
            .joined() + "</table>"
        if let link = f.link { html += "<p><a href=\"\(e(link))\">Open the alert in Handover</a></p>" }
        html += "<p>This email carries references only; read the message itself in Handover or the receiving system.</p></body></html>"
        return html
    }

    /// A header value: ASCII as is (without CR or LF), anything else as an RFC 2047 encoded word.
    static func headerText(_ s: String) -> String {
        let flat = s.replacingOccurrences(of: "\r", with: " ").replacingOccurrences(of: "\n", with: " ")
        if flat.utf8.allSatisfy({ $0 >= 32 && $0 < 127 }) { return flat }
        return "=?UTF-8?B?" + Data(flat.utf8).base64EncodedString() + "?="
    }

    static func base64Lines(_ s: String) -> [String] {
        let encoded = Array(Data(s.utf8).base64EncodedString().utf8)
        return stride(from: 0, to: encoded.count, by: 76).map { String(decoding: encoded[$0..<min($0 + 76, encoded.count)], as: UTF8.self) }
    }

    static func rfc5322Date(_ t: Timestamp) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss '+0000'"
        return formatter.string(from: Date(timeIntervalSince1970: TimeInterval(t.secondsSinceEpoch)))
    }
}
