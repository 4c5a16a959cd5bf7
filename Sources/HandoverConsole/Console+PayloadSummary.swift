import Foundation
import HandoverCore
import HandoverGzip
import HandoverStore

/// What a FHIR payload says, for the practitioner who received it, on the message page: read from
/// the stored payload within the FHIR reader's limits, summarised by the core (`FHIRSummaryReader`),
/// every value escaped by the template. A payload that is not FHIR has no summary; one that looks
/// like FHIR but cannot be read says why. Showing it is audited as reading the payload's content.
extension Console {
    enum PayloadSummary {
        case none
        case summary(FHIRSummary)
        case unreadable(String)
    }

    func payloadSummary(of message: MessageRecord) async throws -> PayloadSummary {
        guard message.totalChunks > 0, let (bytes, format) = try await fhirPayload(of: message) else { return .none }
        switch FHIRSummaryReader.summarise(bytes, format: format) {
        case .success(let summary): return .summary(summary)
        case .failure(let problem): return .unreadable(problem.reason)
        }
    }

    /// The payload's bytes and format when it is to be read as FHIR: the broker read it as FHIR
    /// when it was sent, or its content type or first bytes say so. Reading stops past the reader's
    /// limit (the reader then refuses it); a compressed payload is inflated only when it is known
    /// to be FHIR, within the same limit.
    private func fhirPayload(of message: MessageRecord) async throws -> ([UInt8], FHIRFormat)? {
        let known = message.crossing?.derived?.fhir?.format
        let gzip = message.contentEncoding == .gzip
        let typeSays = message.contentType.flatMap { FHIRMessageReader.format(contentType: $0, prefix: [UInt8]()) }
        if gzip && known == nil && typeSays == nil { return nil }
        var bytes: [UInt8] = []
        let limit = FHIRMessageReader.maximumBytes
        chunks: for number in 1...message.totalChunks {
            guard let chunk = try await store.chunk(messageID: message.id, number: number) else { return nil }
            for index in 0..<chunk.segmentCount {
                guard let segment = try await store.segment(of: chunk, index: index) else { return nil }
                bytes.append(contentsOf: segment.readableBytesView)
                if number == 1 && index == 0 && !gzip && known == nil
                    && FHIRMessageReader.format(contentType: message.contentType, prefix: bytes) == nil
                {
                    return nil
                }
                if bytes.count > limit { break chunks }
            }
        }
        if gzip {
            guard bytes.count <= limit else { return (bytes, known ?? typeSays ?? .json) }
            do {
                bytes = Array(try Gzip.decompress(Data(bytes), limit: limit + 1))
            } catch {
                return nil
            }
        }
        guard let format = known ?? FHIRMessageReader.format(contentType: message.contentType, prefix: bytes) else { return nil }
        return (bytes, format)
    }

    /// The summary as template values; the keys are the template's own so none borrows a page value.
    static func summaryValues(_ summary: FHIRSummary) -> [String: Any] {
        var facts: [[String: String]] = []
        func fact(_ name: String, _ value: String?) { if let value { facts.append(["name": name, "value": value]) } }
        fact("Event", summary.event)
        fact("Document", summary.title)
        fact("Kind of document", summary.documentType)
        fact("Written", summary.date)
        fact("Status", summary.status)
        fact("Written by", summary.authors.isEmpty ? nil : summary.authors.joined(separator: ", "))
        fact("About", summary.patient?.name)
        fact("NHS number", summary.patient?.nhsNumber)
        fact("Born", summary.patient?.birthDate)
        fact("Stay", summary.stay?.kind)
        fact("From", summary.stay?.start)
        fact("Until", summary.stay?.end)
        fact("Discharged to", summary.stay?.dischargedTo)
        return [
            "summaryFacts": facts,
            "summarySections": summary.sections.map { section in
                [
                    "sectionTitle": section.title, "sectionText": section.text as Any, "hasSectionText": section.text != nil,
                    "sectionEntries": section.entries.map { ["entryLabel": $0] }, "hasSectionEntries": !section.entries.isEmpty,
                ]
            },
            "summaryContents": summary.resources.map(\.words).joined(separator: ", "),
            "summaryTruncated": summary.truncated,
        ]
    }
}
