import Foundation
import HandoverCore
import HandoverTestSupport
import Testing

/// The scorecard through the admin API, from traffic sent over MESH.
@Suite("The boundary scorecard over the admin API")
struct BoundaryScorecardHTTPTests {
    @Test func scoresDrillDownCSVAndGauges() async throws {
        let broker = try await TestBroker(routesYAML: crossingRoutes, environment: crossingEnvironment)
        let token = AdminTokenFormat.generate()
        try await broker.parts.store.createAdminToken(
            name: "governance-lead", role: .viewer, tokenHash: AdminTokenFormat.hash(token), expiresAt: nil,
            now: broker.clock.now)
        try await MeshHarness.run(broker) { h in
            // Ten crossings X26 → X27 on WF: seven name the person (verified), three do not.
            var anonymous: [String] = []
            for i in 0..<10 {
                let declared = i < 7 ? crossingHeader(#"{"subject":{"nhs_number":"4010232137","nhs_number_status":"01"}}"#) : nil
                let id = try await h.send(headers: declared.map { ["mex-handover-crossing": $0] } ?? [:])
                if i >= 7 { anonymous.append(id) }
            }
            let auth = "Bearer \(token)"
            #expect(try await h.call(.get, "/admin/boundaries", accept: nil).status == .unauthorized)
            let response = try await h.call(.get, "/admin/boundaries", accept: nil, authorization: auth)
            #expect(response.status == .ok)
            let boundaries = try #require(response.json["boundaries"] as? [[String: Any]])
            #expect(boundaries.count == 1)
            let b = boundaries[0]
            #expect(
                b["from"] as? String == "X26" && b["to"] as? String == "X27" && b["workflow_id"] as? String == "WF" && b["crossings"] as? Int == 10)
            let flows = try #require(b["flows"] as? [[String: Any]])
            let identity = try #require(flows.first { $0["flow"] as? String == "identity" })
            // 7 of 10 → 0.7 → level 2.
            #expect(identity["share"] as? String == "0.700" && identity["level"] as? Int == 2)
            // No intent declared: Clinical Intent 0, which caps Alert & Responsibility and Service Routing at 1.
            let routing = try #require(flows.first { $0["flow"] as? String == "service_routing" })
            #expect(routing["level"] as? Int == 1 && routing["capped_from"] as? Int == 4)
            let link = try #require(identity["crossings"] as? String)
            let drill = try await h.call(.get, link, accept: nil, authorization: auth)
            let ids = (drill.json["crossings"] as? [[String: Any]])?.compactMap { $0["message_id"] as? String } ?? []
            #expect(Set(ids) == Set(anonymous) && !drill.text.contains("4010232137"))
            #expect(
                try await h.call(.get, "/admin/boundaries/X26/X27/WF/crossings?flow=colour", accept: nil, authorization: auth).status == .badRequest)
            #expect(try await h.call(.get, "/admin/boundaries?since=yesterday", accept: nil, authorization: auth).status == .badRequest)
            // An empty window.
            let empty = try await h.call(.get, "/admin/boundaries?since=2020-01-01&until=2020-02-01", accept: nil, authorization: auth)
            #expect((empty.json["boundaries"] as? [Any])?.isEmpty == true)

            let csv = try await h.call(.get, "/admin/boundaries.csv", accept: nil, authorization: auth)
            #expect(csv.header("content-type") == "text/csv; charset=utf-8")
            let lines = csv.text.split(separator: "\r\n").map(String.init)
            #expect(lines.count == 2 && lines[0].hasPrefix("from,to,workflow_id,crossings,risk,") && lines[1].hasPrefix("X26,X27,WF,10,"))
            #expect(lines[0].contains("identity_share,identity_level") && lines[1].contains("0.700,2"))

            let metrics = try await h.call(.get, "/metrics").text
            #expect(metrics.contains(#"handover_boundary_level{from="X26",to="X27",workflow="WF",flow="identity"} 2"#))
            #expect(metrics.contains(#"handover_boundary_level{from="X26",to="X27",workflow="WF",flow="service_routing"} 1"#))
            #expect(metrics.contains(#"handover_boundary_risk{from="X26",to="X27",workflow="WF"}"#))
        }
    }
}
