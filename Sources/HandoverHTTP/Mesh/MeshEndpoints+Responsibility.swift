import Foundation
import HandoverCore
import HandoverStore
import Hummingbird

extension MeshEndpoints {
    struct DecisionBody: Decodable {
        var decision: String
        var by: Person?
        var note: String?
        /// Why a decline: one of `ResponsibilityMachine.declineReasons`.
        var reason: String?
        /// The receiver's own lawful basis (each controller needs its own; a workflow can require it).
        var lawful_basis: LawfulBasis?
        /// On `acks: fhir-itk3` workflows: the ITK business code of the response (default 30001).
        var itk_response_code: String?
    }

    struct OutcomeBody: Decodable {
        var code: String
        var detail: String?
        var by: Person?
    }

    /// `POST /messageexchange/{MB}/inbox/{ID}/responsibility`: the recipient accepts or declines, by name.
    func responsibility(_ request: Request, _ context: Context) async throws -> Response {
        let caller = try context.meshCaller()
        let mailbox = caller.mailbox
        let id = try context.pathMessageID()
        let body: DecisionBody = try await decodeBody(request)
        guard let decision = ResponsibilityMachine.Decision(rawValue: body.decision) else {
            throw MeshError(.badResponsibilityBody, event: "RESPONSIBILITY", message: "decision must be accept or decline")
        }
        let person = body.by ?? Person(name: "")
        let index = caller.directory
        if let basis = body.lawful_basis, let problem = ResponsibilityDesk.basisProblem(basis, mailbox: mailbox, index: index) {
            throw MeshError(problem.code, event: "RESPONSIBILITY", message: problem.description)
        }
        let now = broker.clock()
        let itkCode = body.itk_response_code ?? "30001"
        guard ITK3Response.businessCodes[itkCode] != nil else {
            throw MeshError(
                .badResponsibilityBody, event: "RESPONSIBILITY",
                message: "itk_response_code must be one of " + ITK3Response.businessCodes.keys.sorted().joined(separator: ", "))
        }
        let updated = try await applying {
            try await desk.decide(
                .init(decision, by: person, note: body.note, declineReason: body.reason, receiverBasis: body.lawful_basis, itkResponseCode: itkCode),
                messageID: id, recipient: mailbox, index: index, now: now)
        }
        if decision == .accept, let delivered = updated.deliveredAt {
            broker.metrics.responsibilityAccepted(afterSeconds: now.secondsSinceEpoch - delivered.secondsSinceEpoch)
        }
        context.logger.info("responsibility \(decision.rawValue)ed", metadata: ["handover.message_id": "\(id)", "handover.mailbox": "\(mailbox)"])
        return .json(TrackingView.responsibilityJSON(updated.responsibility ?? ResponsibilityRecord()))
    }

    /// `POST /messageexchange/{MB}/inbox/{ID}/outcome`: what happened, reported back to the sender.
    func outcome(_ request: Request, _ context: Context) async throws -> Response {
        let caller = try context.meshCaller()
        let mailbox = caller.mailbox
        let id = try context.pathMessageID()
        let body: OutcomeBody = try await decodeBody(request)
        let person = body.by ?? Person(name: "")
        let updated = try await applying {
            try await desk.recordOutcome(
                messageID: id, recipient: mailbox, code: body.code, detail: body.detail, by: person, index: caller.directory, now: broker.clock())
        }
        return .json(TrackingView.responsibilityJSON(updated.responsibility ?? ResponsibilityRecord()))
    }

    /// Decisions, redirects, withdrawals and amendments, shared with the console.
    var desk: ResponsibilityDesk { ResponsibilityDesk(store: broker.store, idGenerator: broker.idGenerator) }

    /// Gives the state machine's refusals their codes (409 for state, 400 for input, 417 for policy).
    func applying<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let refusal as ResponsibilityMachine.Refusal {
            throw MeshError(refusal.code, event: "RESPONSIBILITY", message: refusal.message)
        }
    }

    func decodeBody<T: Decodable>(_ request: Request) async throws -> T {
        let buffer = try await request.body.collect(upTo: 64 * 1024)
        do {
            return try JSONDecoder().decode(T.self, from: Data(buffer.readableBytesView))
        } catch {
            throw MeshError(
                .badResponsibilityBody, event: "RESPONSIBILITY", message: "the body must be JSON: see the contract's responsibility and outcome calls"
            )
        }
    }
}
