import Foundation
import HTTPTypes
import HandoverCore
import HandoverServer
import HandoverTestSupport
import Hummingbird
import Testing

/// Every route has an authentication policy. The router is walked, not a list kept by hand: a route
/// added without its group's authentication middleware answers an anonymous caller and fails here.
@Suite("Route policy")
struct RoutePolicyTests {
    /// The only routes anyone may call: liveness, readiness, metrics and the API description.
    static let publicRoutes: Set<String> = [
        "GET /health", "GET /ready", "GET /metrics", "GET /openapi.yaml", "GET /_status", "GET /_ping", "GET /healthcheck",
        "GET /messageexchange/_ping", "GET /messageexchange/deepping",
    ]

    /// Admin routes that change something, with the least role each needs; every admin GET needs viewer.
    /// A new admin route that is not a GET fails until its role is written here.
    static let leastRole: [String: AdminRole] = [
        "PUT /admin/directory": .admin, "POST /admin/{kind}/{id}/password": .admin, "PUT /admin/{kind}/{id}": .admin,
        "DELETE /admin/{kind}/{id}": .admin, "POST /admin/alerts/{alert}/acknowledge": .operator, "POST /admin/crossings": .operator,
        "POST /admin/directory/proposals": .admin, "POST /admin/directory/proposals/{proposal}/approve": .admin,
        "POST /admin/directory/proposals/{proposal}/reject": .admin,
    ]

    /// A concrete path for a route pattern.
    static func concrete(_ pattern: String) -> String {
        let values = [
            "mailbox": "BOB", "messageID": "20261130000000000000_ABCDEF", "chunk": "2", "localID": "L1", "ods": "X27",
            "workflow": "WF", "version": "1", "alert": "1", "proposal": "1", "kind": "mailboxes", "id": "BOB", "from": "X26", "to": "X27",
        ]
        return pattern.split(separator: "/", omittingEmptySubsequences: false).map { segment in
            let name = segment.trimmingCharacters(in: CharacterSet(charactersIn: "{}:"))
            return segment.hasPrefix("{") || segment.hasPrefix(":") ? values[name] ?? "X" : String(segment)
        }.joined(separator: "/")
    }

    static func routes(_ broker: TestBroker) -> [(method: HTTPRequest.Method, pattern: String)] {
        BrokerApplication.router(broker.parts, sandbox: false).routes.map { ($0.method, "\($0.path)") }
    }

    @Test func everyRouteOutsideThePublicListRefusesAnAnonymousCaller() async throws {
        let broker = try await TestBroker()
        let routes = Self.routes(broker)
        let served = Set(routes.map { "\($0.method) \($0.pattern)" })
        #expect(Self.publicRoutes.subtracting(served).sorted() == [], "listed as public but not served")
        #expect(routes.count > 40)
        try await MeshHarness.run(broker) { h in
            for route in routes where !Self.publicRoutes.contains("\(route.method) \(route.pattern)") {
                let response = try await h.call(route.method, Self.concrete(route.pattern), body: [])
                // MESH answers a missing token 403 with its own body; the admin API 401 problem+json.
                let admin = route.pattern.hasPrefix("/admin")
                #expect(response.status == (admin ? .unauthorized : .forbidden), "\(route.method) \(route.pattern) answered \(response.status)")
                if admin { #expect(response.header("content-type") == "application/problem+json") }
                // The failed-authentication budget is per address; keep under it.
                broker.clock.advance(seconds: 3)
            }
        }
    }

    @Test func aMailboxTokenOpensOnlyItsOwnMailboxRoutes() async throws {
        let broker = try await TestBroker()
        let mailboxRoutes = Self.routes(broker).filter { $0.pattern.hasPrefix("/messageexchange/{mailbox}") }
        #expect(mailboxRoutes.count > 15)
        try await MeshHarness.run(broker) { h in
            for route in mailboxRoutes {
                // ALICE's valid token on BOB's path.
                let response = try await h.call(route.method, Self.concrete(route.pattern), body: [], authorization: broker.auth("ALICE"))
                #expect(response.status == .forbidden, "\(route.method) \(route.pattern) answered \(response.status)")
                broker.clock.advance(seconds: 3)
            }
        }
    }

    @Test func everyAdminRouteRefusesARoleBelowItsOwn() async throws {
        let broker = try await TestBroker()
        var tokens: [AdminRole: String] = [:]
        for role in AdminRole.allCases {
            let token = AdminTokenFormat.generate()
            _ = try await broker.parts.store.createAdminToken(
                name: "\(role)", role: role, tokenHash: AdminTokenFormat.hash(token), expiresAt: nil,
                now: broker.clock.now)
            tokens[role] = "Bearer " + token
        }
        let adminRoutes = Self.routes(broker).filter { $0.pattern.hasPrefix("/admin") }
        for route in adminRoutes where route.method != .get {
            #expect(Self.leastRole["\(route.method) \(route.pattern)"] != nil, "\(route.method) \(route.pattern) has no role written in this test")
        }
        let below: [AdminRole: AdminRole] = [.operator: .viewer, .admin: .operator]
        let headers = tokens
        try await MeshHarness.run(broker) { h in
            for route in adminRoutes {
                let least = route.method == .get ? AdminRole.viewer : Self.leastRole["\(route.method) \(route.pattern)"] ?? .admin
                let uri = Self.concrete(route.pattern)
                if let lower = below[least] {
                    let refused = try await h.call(route.method, uri, body: [], accept: nil, authorization: headers[lower])
                    #expect(refused.status == .forbidden, "\(lower) on \(route.method) \(route.pattern) answered \(refused.status)")
                }
                // The least role gets past authentication (the empty body may still be refused for what it is).
                let admitted = try await h.call(route.method, uri, body: [], accept: nil, authorization: headers[least])
                #expect(
                    ![.unauthorized, .forbidden].contains(admitted.status), "\(least) on \(route.method) \(route.pattern) answered \(admitted.status)"
                )
            }
        }
    }
}
