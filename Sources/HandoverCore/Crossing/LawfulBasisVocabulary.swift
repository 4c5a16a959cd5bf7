/// The codes a lawful basis may use. Handover records the basis each controller states; it does not
/// judge whether the basis is right, only that it is one the boundary's governance recognises and
/// that it does not contradict itself. The built-in lists are the default; a directory can replace
/// them (`vocabulary:`), so a board can adopt new codes without a new release.
public struct LawfulBasisVocabulary: Hashable, Sendable {
    /// UK GDPR Article 6(1) conditions.
    public var article6: [String]
    /// UK GDPR Article 9(2) conditions for special-category (health and care) data.
    public var article9: [String]
    /// DPA 2018 Schedule 1 conditions, needed with Article 9(2)(b), (g), (h) and (i).
    public var schedule1: [String]
    /// The common-law duty of confidentiality.
    public var confidentiality: [String]

    public init(article6: [String], article9: [String], schedule1: [String], confidentiality: [String]) {
        (self.article6, self.article9, self.schedule1, self.confidentiality) = (article6, article9, schedule1, confidentiality)
    }

    public static let builtIn = LawfulBasisVocabulary(
        article6: ["A6-1a", "A6-1c", "A6-1d", "A6-1e", "A6-1ea", "A6-1f"],
        article9: ["A9-2a", "A9-2b", "A9-2c", "A9-2g", "A9-2h", "A9-2i"],
        schedule1: [
            "S1-P1-1",  // employment, social security and social protection
            "S1-P1-2",  // health or social care purposes
            "S1-P1-3",  // public health
            "S1-P2-6",  // statutory and government purposes
            "S1-P2-10",  // preventing or detecting unlawful acts
            "S1-P2-16",  // support for individuals with a particular disability or medical condition
            "S1-P2-18",  // safeguarding of children and of individuals at risk
            "S1-P2-19",  // safeguarding of economic well-being of certain individuals
        ],
        confidentiality: [
            "CLDC-implied-direct-care", "CLDC-explicit-consent", "CLDC-public-interest", "CLDC-legal-requirement",
            "CLDC-s251-support",
        ])

    public static let listNames = ["article6", "article9", "dpa18_sch1", "confidentiality"]

    /// The built-in lists, each replaced by the directory's codes for that list where it gives any.
    public static func from(_ codes: [LawfulBasisCode]) -> LawfulBasisVocabulary {
        guard !codes.isEmpty else { return builtIn }
        func list(_ name: String, _ fallback: [String]) -> [String] {
            let given = codes.filter { $0.list == name }.map(\.code)
            return given.isEmpty ? fallback : given
        }
        return LawfulBasisVocabulary(
            article6: list("article6", builtIn.article6), article9: list("article9", builtIn.article9),
            schedule1: list("dpa18_sch1", builtIn.schedule1), confidentiality: list("confidentiality", builtIn.confidentiality))
    }

    /// Article 9 conditions that need a Schedule 1 condition beside them.
    public static let needsSchedule1: Set<String> = ["A9-2b", "A9-2g", "A9-2h", "A9-2i"]
    /// Article 6 conditions a public authority cannot rely on for its tasks.
    public static let notForPublicAuthorities: Set<String> = ["A6-1ea", "A6-1f"]
    /// Confidentiality bases that allow sharing without (or against) the person's agreement.
    public static let overridingConfidentiality: Set<String> = ["CLDC-public-interest", "CLDC-legal-requirement"]
}

/// One code of the directory's lawful-basis vocabulary (`lawful_basis_codes:`).
public struct LawfulBasisCode: Hashable, Sendable {
    public var code: String
    /// `article6`, `article9`, `dpa18_sch1` or `confidentiality`.
    public var list: String
    public var name: String?

    public init(code: String, list: String, name: String? = nil) { (self.code, self.list, self.name) = (code, list, name) }
}

extension Directory {
    /// The vocabulary crossings are checked against: the built-in lists, or the directory's where given.
    public var vocabulary: LawfulBasisVocabulary { LawfulBasisVocabulary.from(lawfulBasisCodes) }
}
