import Foundation
import HandoverServer
import HandoverTestSupport
import Hummingbird
import Testing
import Yams

/// The API reference and the router agree both ways: every route is documented, every documented
/// route is served; and the broker serves the document.
@Suite("OpenAPI reference")
struct OpenAPITests {
    static let document = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("docs/openapi.yaml")

    @Test func everyRouteIsDocumentedAndEveryDocumentedRouteIsServed() async throws {
        let yaml = try #require(try Yams.load(yaml: String(contentsOf: Self.document, encoding: .utf8)) as? [String: Any])
        #expect(yaml["openapi"] as? String == "3.1.0")
        let paths = try #require(yaml["paths"] as? [String: Any])
        var documented: Set<String> = []
        let methods: Set<String> = ["get", "put", "post", "delete", "head", "patch"]
        for (path, item) in paths {
            // The router describes captures as OpenAPI does (`{mailbox}`).
            for key in (item as? [String: Any] ?? [:]).keys where methods.contains(key) { documented.insert("\(key.uppercased()) \(path)") }
        }
        let broker = try await TestBroker()
        let served = Set(BrokerApplication.router(broker.parts, sandbox: false).routes.map { "\($0.method) \($0.path)" })
        #expect(served.subtracting(documented).sorted() == [], "served but not documented")
        #expect(documented.subtracting(served).sorted() == [], "documented but not served")
        // Outcome codes, duration units, roles and error types are written there too.
        let description = (yaml["info"] as? [String: Any])?["description"] as? String ?? ""
        for words in ["s42-enquiry", "3wh", "operator", "directory-invalid", "stale-version"] { #expect(description.contains(words), "\(words)") }
    }

    @Test func theBrokerServesTheDocument() async throws {
        try await MeshHarness.run { h in
            let response = try await h.call(.get, "/openapi.yaml", accept: nil)
            #expect(response.status == .ok && response.text.hasPrefix("openapi: 3.1.0"))
        }
    }
}
