/// Handover's own stable error codes: one catalogue for both surfaces. On the MESH API a code is the
/// v2 `code` (v1 `errorCode`) beside MESH's own codes, which keep MESH's values and are not listed
/// here; on the admin API it is the problem type `urn:handover:problem:<code>`. Clients may match on
/// these; a code is never renamed. docs/ERRORS.md shows the same table (a test keeps the two equal).
public enum HandoverErrorCode: String, CaseIterable, Sendable {
    // MESH surface: governed crossings.
    case crossingMalformed = "HANDOVER-CROSSING-MALFORMED"
    case crossingInvalid = "HANDOVER-CROSSING-INVALID"
    case crossingMismatch = "HANDOVER-CROSSING-MISMATCH"
    case crossingRequired = "HANDOVER-CROSSING-REQUIRED"
    case fhirUnreadable = "HANDOVER-FHIR-UNREADABLE"
    // MESH surface: responsibility and outcomes.
    case notDownloaded = "HANDOVER-NOT-DOWNLOADED"
    case alreadyDecided = "HANDOVER-ALREADY-DECIDED"
    case personRequired = "HANDOVER-PERSON-REQUIRED"
    case noteRequired = "HANDOVER-NOTE-REQUIRED"
    case receiverBasisRequired = "HANDOVER-RECEIVER-BASIS-REQUIRED"
    case unknownOutcome = "HANDOVER-UNKNOWN-OUTCOME"
    case unknownDeclineReason = "HANDOVER-UNKNOWN-DECLINE-REASON"
    case notAccepted = "HANDOVER-NOT-ACCEPTED"
    case tooManyOutcomes = "HANDOVER-TOO-MANY-OUTCOMES"
    case closedBySender = "HANDOVER-CLOSED-BY-SENDER"
    case redirectRefused = "HANDOVER-REDIRECT-REFUSED"
    case notDelivered = "HANDOVER-NOT-DELIVERED"
    case badResponsibilityBody = "HANDOVER-BAD-BODY"
    // MESH surface: receipts, limits, uploads.
    case receiptNotReady = "HANDOVER-RECEIPT-NOT-READY"
    case receiptsOff = "HANDOVER-RECEIPTS-OFF"
    case rateLimited = "HANDOVER-RATE-LIMITED"
    case replayGuardFull = "HANDOVER-REPLAY-GUARD-FULL"
    case inflatedTooLarge = "HANDOVER-INFLATED-TOO-LARGE"
    case uploadIncomplete = "HANDOVER-UPLOAD-INCOMPLETE"
    // Both surfaces.
    case certificateRevoked = "certificate-revoked"
    case storeUnavailable = "store-unavailable"
    case storageFull = "storage-full"
    case storeFailing = "store-failing"
    // Admin surface.
    case unauthorized
    case forbidden
    case adminCertificateRequired = "admin-certificate-required"
    case notFound = "not-found"
    case badRequest = "bad-request"
    case tooLarge = "too-large"
    case directoryInvalid = "directory-invalid"
    case staleVersion = "stale-version"
    case ifMatchRequired = "if-match-required"
    case routingImpact = "routing-impact"
    case entryReferenced = "entry-referenced"
    case approvalRequired = "approval-required"
    case sameAdmin = "same-admin"
    case proposalDecided = "proposal-decided"
    case unroutable
    case http
    case `internal`

    public enum Surface: String, Sendable {
        case mesh = "MESH"
        case admin = "admin"
        case both = "MESH and admin"
        /// A status event in tracking and NDRs, not an error response.
        case statusEvent = "status event"
    }

    /// The HTTP status, or nil where it varies (`http`: the router's own 404, 405, 413...) or there is
    /// no response (a status event).
    public var status: Int? {
        switch self {
        case .crossingMalformed, .crossingInvalid, .crossingMismatch, .fhirUnreadable, .personRequired, .noteRequired, .unknownOutcome,
            .unknownDeclineReason,
            .badResponsibilityBody, .badRequest:
            400
        case .unauthorized: 401
        case .certificateRevoked, .forbidden, .adminCertificateRequired, .sameAdmin: 403
        case .notFound: 404
        case .notDownloaded, .alreadyDecided, .notAccepted, .tooManyOutcomes, .closedBySender, .redirectRefused, .notDelivered, .receiptNotReady,
            .routingImpact,
            .entryReferenced, .approvalRequired, .proposalDecided:
            409
        case .staleVersion: 412
        case .inflatedTooLarge, .tooLarge: 413
        case .crossingRequired, .receiverBasisRequired: 417
        case .directoryInvalid, .unroutable: 422
        case .ifMatchRequired: 428
        case .rateLimited: 429
        case .internal: 500
        case .receiptsOff, .replayGuardFull, .storeUnavailable, .storageFull, .storeFailing: 503
        case .http, .uploadIncomplete: nil
        }
    }

    public var surface: Surface {
        switch self {
        case .uploadIncomplete: .statusEvent
        case .certificateRevoked, .storeUnavailable, .storageFull, .storeFailing: .both
        case _ where rawValue.hasPrefix("HANDOVER-"): .mesh
        default: .admin
        }
    }

    /// The problem title on the admin API.
    public var title: String {
        switch self {
        case .directoryInvalid: "The directory is invalid"
        case .staleVersion: "The directory has changed"
        case .ifMatchRequired: "If-Match required"
        case .routingImpact: "The edit would stop live addresses routing"
        case .entryReferenced: "The entry is referenced"
        case .approvalRequired: "A second admin must approve this edit"
        case .sameAdmin: "Approved by its proposer"
        case .proposalDecided: "The proposal is already decided"
        case .unroutable: "Not routed"
        case .adminCertificateRequired, .certificateRevoked, .forbidden: "Forbidden"
        case .storeUnavailable, .storageFull, .storeFailing: "Service Unavailable"
        default: meaning.prefix(1).uppercased() + meaning.dropFirst()
        }
    }

    /// What the code means, for the docs table.
    public var meaning: String {
        switch self {
        case .crossingMalformed: "the Mex-Handover-Crossing header is not base64url JSON of the crossing record"
        case .crossingInvalid: "a crossing field fails its rule (NHS number check digit, lawful basis pairing, consent)"
        case .crossingMismatch: "the declared NHS number disagrees with the Transfer of Care payload"
        case .crossingRequired: "the workflow requires a crossing part the send does not give"
        case .fhirUnreadable: "a payload that says it is FHIR cannot be read safely"
        case .notDownloaded: "responsibility is decided only after the message is downloaded"
        case .alreadyDecided: "responsibility was already accepted or declined"
        case .personRequired: "a decision or outcome needs a named person (by.name)"
        case .noteRequired: "declining, redirecting or withdrawing needs a note saying why"
        case .receiverBasisRequired: "the workflow needs the receiver's own lawful basis to accept"
        case .unknownOutcome: "the outcome code is not one of the contract's codes"
        case .unknownDeclineReason:
            "the decline reason is not one of wrong-service, wrong-area, not-eligible, needs-more-information, duplicate, other"
        case .notAccepted: "an outcome is recorded only after responsibility is accepted"
        case .tooManyOutcomes: "the outcome was updated the most times allowed"
        case .closedBySender: "the sender withdrew or amended the message; nothing more is decided on it"
        case .redirectRefused: "a redirect must name another mailbox, before responsibility is decided, at most five times a message"
        case .notDelivered: "a message still uploading or already expired cannot be redirected, withdrawn or amended"
        case .badResponsibilityBody: "a responsibility, outcome, redirect or withdrawal body that is not the expected JSON"
        case .receiptNotReady: "a receipt exists only once the message is delivered"
        case .receiptsOff: "receipts are not configured on this broker"
        case .rateLimited: "too many requests from this mailbox; Retry-After says when to retry"
        case .replayGuardFull: "too many unexpired tokens in use; Retry-After says when to retry"
        case .inflatedTooLarge: "a gzip body inflates past the size limit"
        case .uploadIncomplete: "a chunked upload whose remaining chunks never came was discarded"
        case .certificateRevoked: "the client certificate is on the revocation list"
        case .storeUnavailable: "the database cannot be reached or did not answer in time; nothing was accepted"
        case .storageFull: "the store's disk is full; nothing new was accepted"
        case .storeFailing: "the database is locked or failing; nothing was accepted"
        case .unauthorized: "no known, unrevoked, unexpired admin token"
        case .forbidden: "the token's role may not make this call"
        case .adminCertificateRequired: "under mutual TLS the admin API needs an admin client certificate"
        case .notFound: "the entry, version, message or alert does not exist"
        case .badRequest: "the request is malformed; the detail says how"
        case .tooLarge: "the body is larger than this call accepts"
        case .directoryInvalid: "the directory would be invalid; errors lists each problem by file, entry and field"
        case .staleVersion: "If-Match names a version that is no longer current"
        case .ifMatchRequired: "an edit must say which version it starts from (If-Match)"
        case .routingImpact: "the edit stops live addresses routing; send it again with ?confirm_impact=true"
        case .entryReferenced: "the entry is still referenced by others"
        case .approvalRequired:
            "the edit touches a safeguarding workflow's routing, policy or mailboxes; propose it (POST /admin/directory/proposals) for another admin"
        case .sameAdmin: "a proposal is approved by an admin other than the one who proposed it"
        case .proposalDecided: "the proposal was already approved or rejected"
        case .unroutable: "an off-system crossing the directory does not route"
        case .http: "the router's own refusal (unknown path, method not allowed)"
        case .internal: "an internal error; details are only in the broker's log"
        }
    }
}
