import HandoverCore
import HandoverStore
import Hummingbird

/// Searching messages by the NHS number of the person they are about: for the staff of the
/// organisations at either end (the search sees only their organisations' crossings), with a reason
/// that is recorded. A POST, so the number stays out of addresses, history and access logs; the
/// audit entry keeps the reason, the count found and a keyed hash of the number (the one a reduced
/// crossing record keeps, so searches for one person line up), never the number itself.
extension Console {
    /// How many of the newest messages a search by NHS number looks through.
    static let nhsNumberSearchWindow = 5000

    func nhsNumberSearch(_ request: Request, _ context: ConsoleRequestContext) async throws -> Response {
        let (session, access) = try self.access(context, for: .messages)
        let form = try await ConsoleForm.read(request, expectedToken: session.csrfToken)
        var errors: [String] = []
        var number: NHSNumber?
        switch NHSNumber.parse(form.text("nhs_number") ?? "", allowTestNumbers: true) {
        case .success(let parsed): number = parsed
        // The problem in words, never the value typed.
        case .failure(let problem): errors.append("The NHS number \(problem.rawValue).")
        }
        let reason = String((form.text("reason") ?? "").trimmingCharacters(in: .whitespacesAndNewlines).prefix(500))
        if reason.count < 5 { errors.append("Say why you are searching by NHS number (it is recorded with your name).") }
        guard let number, errors.isEmpty else {
            return messagesPage(rows: nil, errors: errors, byNHSNumber: true, httpStatus: .badRequest, session, access)
        }
        let hash = CrossingSubjectHasher(secrets: secrets).hash(number.digits)
        let found = try await store.searchMessages(MessageQuery(limit: Self.nhsNumberSearchWindow)).filter { message in
            access.mayOpen(message) && message.isAbout(number, hash: hash)
        }
        try await audit(
            access.user, "console.nhs_number_searched", subject: "messages",
            detail: .object([("reason", .string(reason)), ("nhs_number_hash", .string(hash)), ("found", .int(Int64(found.count)))]))
        return messagesPage(rows: messageRows(found, access), errors: [], byNHSNumber: true, session, access)
    }
}

extension MessageRecord {
    /// Whether the crossing is about this person: their number, or its keyed hash once the record has
    /// been reduced. A restricted subject is never found by search (it is shown only to the recipient,
    /// on the message itself).
    func isAbout(_ number: NHSNumber, hash: String) -> Bool {
        (crossing?.subjects ?? []).contains { subject in
            subject.restricted != true
                && (subject.nhsNumber.map { $0.filter { $0 != " " } == number.digits } == true || subject.nhsNumberHash == hash)
        }
    }
}
