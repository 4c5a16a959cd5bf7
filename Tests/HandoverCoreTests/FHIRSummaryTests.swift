import Foundation
import Testing

@testable import HandoverCore

/// The recipient's summary of a FHIR document: what it is, who it is about, the stay, each section's
/// text and entries; narrative kept as text, never markup; bounded.
@Suite("FHIR summary")
struct FHIRSummaryTests {
    @Test func aDischargeMessageIsSummarisedFromItsDocument() throws {
        let summary = try FHIRSummaryReader.summarise(try fixture("fhir/toc-discharge-summary-r4.json"), format: .json).get()
        #expect(summary.event == "ITK Inpatient Discharge (ITK007C)")
        #expect(summary.title == "Discharge to assess: care and support needs")
        #expect(summary.documentType == "Discharge from inpatient care" && summary.status == "final")
        // The author named from the Practitioner the reference points at.
        #expect(summary.authors == ["Sam Okoro"])
        #expect(summary.patient == .init(name: "Morgan Lee Example", nhsNumber: "4010232137", birthDate: "1941-03-09"))
        #expect(summary.stay?.kind == "inpatient encounter" && summary.stay?.end == "2026-11-30T15:00:00+00:00")
        #expect(summary.stay?.dischargedTo == "Discharge to residential home")
        #expect(
            summary.sections.map(\.title) == [
                "Plan and requested actions", "Medications and medical devices", "Allergies and adverse reactions", "Observations",
                "Observations › Mobility",
            ])
        // The narrative as text: tags gone, the script and its content gone, references decoded.
        #expect(summary.sections[0].text == "Needs a package of care: two calls a day & a key safe.\nLives alone <no family nearby>.")
        #expect(summary.sections[1].entries == ["Medication statement: Sertraline 50mg tablets, one each morning", "Walking frame"])
        #expect(summary.sections[2].entries == ["Allergy intolerance: Allergy to penicillin"])
        #expect(summary.sections[4].entries == ["Observation: Walks with assistance: 10 metres with a frame"])
        #expect(summary.resources.first == .init(type: "AllergyIntolerance", count: 1))
        #expect(summary.resources.map(\.words).contains("1 medication statement") && !summary.truncated)
        #expect(!summary.resources.contains { $0.type == "Bundle" })
    }

    @Test func anXMLNarrativeIsKeptAsTextAndTheFactsStillRead() throws {
        let bytes = try fixture("fhir/toc-edischarge-stu3.xml")
        let summary = try FHIRSummaryReader.summarise(bytes, format: .xml).get()
        #expect(summary.title == "Inpatient discharge summary" && summary.authors == ["Dr Ada Okafor"])
        #expect(summary.patient?.name == "Florence Testpatient" && summary.patient?.nhsNumber == "9434765919")
        #expect(summary.sections.map(\.title) == ["Plan and requested actions"])
        #expect(summary.sections.first?.text == "Assessment for care and support needs before discharge.")
        // Keeping the narrative as text did not change what the broker reads from the message.
        let reading = try #require(try FHIRMessageReader.read(bytes, format: .xml).get())
        #expect(reading.subjects.first?.nhsNumber == "9434765919" && reading.provenance?.author?.name == "Dr Ada Okafor")
    }

    @Test func anXMLNarrativeDropsScriptsAndMarkup() throws {
        let xml = """
            <Bundle xmlns="http://hl7.org/fhir"><type value="document"/><entry><resource><Composition><title value="T"/>
            <section><title value="S"/><text><div xmlns="http://www.w3.org/1999/xhtml"><p>One &amp; <b>two</b></p>
            <script>steal()</script><p>three</p></div></text></section></Composition></resource></entry></Bundle>
            """
        let summary = try FHIRSummaryReader.summarise(Array(xml.utf8), format: .xml).get()
        #expect(summary.sections.first?.text == "One & two\nthree")
    }

    @Test func sectionsAndEntriesAreBounded() throws {
        let entries = (0..<80).map { _ in ["reference": "urn:uuid:missing"] }
        let sections = (0..<70).map { n in ["title": "Section \(n)", "entry": entries] as [String: Any] }
        let bundle: [String: Any] = [
            "resourceType": "Bundle", "type": "document",
            "entry": [["resource": ["resourceType": "Composition", "title": String(repeating: "long ", count: 200), "section": sections]]],
        ]
        let summary = try FHIRSummaryReader.summarise(Array(try JSONSerialization.data(withJSONObject: bundle)), format: .json).get()
        #expect(summary.sections.count == FHIRSummaryReader.maximumSections && summary.truncated)
        #expect(summary.sections[0].entries.count == FHIRSummaryReader.maximumEntriesPerSection)
        #expect((summary.title?.count ?? 0) <= 300)
    }

    @Test func whatIsNotABundleOrNotReadableIsRefusedWithAReason() {
        let notBundle = FHIRSummaryReader.summarise(Array(#"{"resourceType":"Patient"}"#.utf8), format: .json)
        #expect(throws: CrossingProblem.self) { try notBundle.get() }
        let broken = FHIRSummaryReader.summarise(Array(#"{"resourceType":"Bundle""#.utf8), format: .json)
        #expect(throws: CrossingProblem.self) { try broken.get() }
        let dtd = FHIRSummaryReader.summarise(Array(#"<!DOCTYPE x [<!ENTITY a "b">]><Bundle/>"#.utf8), format: .xml)
        #expect(throws: CrossingProblem.self) { try dtd.get() }
    }

    @Test func narrativeTextDecodesReferencesAndDropsControlCharacters() {
        #expect(Narrative.tidy(Narrative.characters(ofXHTML: "<p>a&#x41;&#66;&#1;&unknown;</p><br/>  <style>p{}</style>z")) == "aAB&#1;&unknown;\nz")
        #expect(Narrative.characters(ofXHTML: "no tags & no end") == "no tags & no end")
        #expect(Narrative.characters(ofXHTML: "<p unclosed") == "")
        #expect(Narrative.words(ofTypeName: "MedicationStatement") == "Medication statement")
    }
}
