import Foundation
import HandoverCore
import Testing

/// Handover's own error codes are one catalogue (`HandoverErrorCode`); docs/ERRORS.md shows it, and
/// no code is written anywhere else.
@Suite("Error catalogue")
struct ErrorCatalogueTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The table docs/ERRORS.md must contain, row for row.
    static var expectedTable: String {
        var lines = ["| Code | Status | Where | Meaning |", "| --- | --- | --- | --- |"]
        for code in HandoverErrorCode.allCases {
            lines.append("| `\(code.rawValue)` | \(code.status.map(String.init) ?? "varies") | \(code.surface.rawValue) | \(code.meaning) |")
        }
        return lines.joined(separator: "\n")
    }

    @Test func theDocsTableIsTheCatalogue() throws {
        let docs = try String(contentsOf: Self.root.appendingPathComponent("docs/ERRORS.md"), encoding: .utf8)
        #expect(docs.contains(Self.expectedTable), "docs/ERRORS.md differs from HandoverErrorCode; its table should read:\n\(Self.expectedTable)")
    }

    @Test func codesAreUniqueAndStatusesAreErrors() {
        #expect(Set(HandoverErrorCode.allCases.map(\.rawValue)).count == HandoverErrorCode.allCases.count)
        for code in HandoverErrorCode.allCases {
            if let status = code.status { #expect((400...599).contains(status), "\(code)") }
            #expect(
                code.surface == .mesh || code.surface == .statusEvent ? code.rawValue.hasPrefix("HANDOVER-") : !code.rawValue.hasPrefix("HANDOVER-"))
        }
    }

    /// A `HANDOVER-` code or a problem type written as a literal outside the catalogue would be a
    /// second, unchecked place for it.
    @Test func noCodeIsSpelledOutsideTheCatalogue() throws {
        let sources = Self.root.appendingPathComponent("Sources")
        let files =
            FileManager.default.enumerator(at: sources, includingPropertiesForKeys: nil)?.compactMap { $0 as? URL }
            .filter { $0.pathExtension == "swift" && $0.lastPathComponent != "HandoverErrorCode.swift" } ?? []
        #expect(files.count > 100)
        for file in files {
            let text = try String(contentsOf: file, encoding: .utf8)
            #expect(!text.contains("\"HANDOVER-"), "\(file.lastPathComponent) spells a HANDOVER- code")
            #expect(!text.contains("type: \""), "\(file.lastPathComponent) spells a problem type")
        }
    }
}
