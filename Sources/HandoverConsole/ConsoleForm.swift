import Foundation
import HandoverCore
import Hummingbird

/// A submitted HTML form (`application/x-www-form-urlencoded`), bounded in size and field count.
struct ConsoleForm: Sendable {
    let fields: [String: String]

    static let maximumFields = 64

    subscript(_ name: String) -> String? { fields[name] }

    /// The trimmed value, or nil when missing or blank.
    func text(_ name: String) -> String? {
        let value = fields[name]?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        return value.isEmpty ? nil : value
    }

    init(fields: [String: String]) { self.fields = fields }

    init(body: String) throws {
        var fields: [String: String] = [:]
        for pair in body.split(separator: "&", omittingEmptySubsequences: true) {
            guard fields.count < Self.maximumFields else { throw HTTPError(.badRequest, message: "too many form fields") }
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = Self.decode(parts[0])
            let value = parts.count > 1 ? Self.decode(parts[1]) : ""
            guard let name, let value else { throw HTTPError(.badRequest, message: "the form is not well formed") }
            fields[name] = value
        }
        self.fields = fields
    }

    static func decode(_ text: Substring) -> String? { text.replacingOccurrences(of: "+", with: " ").removingPercentEncoding }

    /// Reads the form and checks its CSRF token against the session's (or the sign-in cookie's).
    static func read(_ request: Request, expectedToken: String, maximumBytes: Int = 64 * 1024) async throws -> ConsoleForm {
        let buffer = try await request.body.collect(upTo: maximumBytes)
        let form = try ConsoleForm(body: String(decoding: buffer.readableBytesView, as: UTF8.self))
        guard let token = form["csrf"], !expectedToken.isEmpty, constantTimeEqual(token, expectedToken) else {
            throw ConsoleRefusal.forgedForm
        }
        return form
    }
}

/// Why the console refused a request; each renders as a page, never a bare error.
enum ConsoleRefusal: Error {
    /// A POST without this session's CSRF token, or from another origin.
    case forgedForm
    /// The page is not for this person's roles.
    case notYourPage
    /// Nothing there, or something this person may not know exists.
    case notFound
}
