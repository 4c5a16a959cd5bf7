/// The boundary scorecard (docs/CROSSINGS.md, "The boundary scorecard"): from live traffic, how well
/// each of the Seven Flows holds between two organisations on one workflow. A completeness measure,
/// not an audit. Pure: the facts of each crossing are gathered elsewhere.
public enum Flow: String, CaseIterable, Hashable, Sendable {
    case identity, consent, provenance
    case clinicalIntent = "clinical_intent"
    case alertResponsibility = "alert_responsibility"
    case serviceRouting = "service_routing"
    case outcome
}

/// What the scorecard needs to know about one crossing, each flow's credit already judged.
public struct CrossingFacts: Hashable, Sendable {
    /// 1 for a valid NHS number verified (`01`) or present but not traced (`02`); 0.5 for any other
    /// status or a stated absent reason; 0 for nothing.
    public var identity: Double
    public var consent: Bool
    public var provenance: Bool
    public var clinicalIntent: Bool
    /// nil when left out: for-information crossings, and those whose first not-accepted deadline has
    /// not yet passed without an acceptance.
    public var alertResponsibility: Bool?
    public var serviceRouting: Bool
    /// nil for for-information crossings.
    public var outcome: Bool?
    public var secondsToAcceptance: Int64?
    public var secondsToOutcome: Int64?

    public init(
        identity: Double, consent: Bool, provenance: Bool, clinicalIntent: Bool, alertResponsibility: Bool?, serviceRouting: Bool,
        outcome: Bool?, secondsToAcceptance: Int64? = nil, secondsToOutcome: Int64? = nil
    ) {
        (self.identity, self.consent, self.provenance, self.clinicalIntent) = (identity, consent, provenance, clinicalIntent)
        (self.alertResponsibility, self.serviceRouting, self.outcome) = (alertResponsibility, serviceRouting, outcome)
        (self.secondsToAcceptance, self.secondsToOutcome) = (secondsToAcceptance, secondsToOutcome)
    }

    /// The credit this crossing gives `flow`, or nil when it is left out of that flow.
    public func credit(_ flow: Flow) -> Double? {
        func one(_ b: Bool) -> Double { b ? 1 : 0 }
        switch flow {
        case .identity: return identity
        case .consent: return one(consent)
        case .provenance: return one(provenance)
        case .clinicalIntent: return one(clinicalIntent)
        case .alertResponsibility: return alertResponsibility.map(one)
        case .serviceRouting: return one(serviceRouting)
        case .outcome: return outcome.map(one)
        }
    }
}

public struct FlowScore: Hashable, Sendable {
    public var flow: Flow
    /// Crossings counted for this flow.
    public var counted: Int
    public var share: Double?
    /// 0 to 4 after the cascade caps; nil for insufficient data.
    public var level: Int?
    /// The level before the cascade caps, so a reader can see which cap lowered it.
    public var uncappedLevel: Int?
}

public struct BoundaryScore: Hashable, Sendable {
    public var crossings: Int
    public var flows: [FlowScore]
    /// round(100 × (1 − sum of levels / 28)): 0 is fully governed, 100 ungoverned; nil unless every
    /// flow has a level.
    public var risk: Int?
    public var medianSecondsToAcceptance: Int64?
    public var medianSecondsToOutcome: Int64?

    public func score(_ flow: Flow) -> FlowScore? { flows.first { $0.flow == flow } }
}

public enum BoundaryScorecard {
    /// Fewer crossings than this (on the boundary, or counted for a flow) show no level.
    public static let minimumCrossings = 10

    public static func level(share: Double) -> Int {
        switch share {
        case ..<0.2: 0
        case ..<0.5: 1
        case ..<0.8: 2
        case ..<0.95: 3
        default: 4
        }
    }

    /// The cascade, in order, each rule reading the levels as capped so far: a flow that fails
    /// undermines the flows that depend on it.
    public static let caps: [(when: Flow, below: Int, capped: [Flow], at: Int)] = [
        (.identity, 2, [.consent, .provenance], 1),
        (.clinicalIntent, 2, [.alertResponsibility, .serviceRouting], 1),
        (.consent, 2, [.serviceRouting], 2),
        (.alertResponsibility, 2, [.outcome], 1),
    ]

    public static func score(_ crossings: [CrossingFacts]) -> BoundaryScore {
        var tally = BoundaryTally(from: "", to: "", workflowID: "", crossings: crossings.count, flows: [:])
        for flow in Flow.allCases {
            let credits = crossings.compactMap { $0.credit(flow) }
            tally.flows[flow] = (credits.count, credits.reduce(0, +))
        }
        tally.medianSecondsToAcceptance = median(crossings.compactMap(\.secondsToAcceptance))
        tally.medianSecondsToOutcome = median(crossings.compactMap(\.secondsToOutcome))
        return score(tally)
    }

    /// The score from a boundary's sums (what the store's aggregate query returns).
    public static func score(_ tally: BoundaryTally) -> BoundaryScore {
        var levels: [Flow: Int] = [:]
        var flows: [FlowScore] = []
        for flow in Flow.allCases {
            let (counted, credit) = tally.flows[flow] ?? (0, 0)
            let share = counted == 0 ? nil : credit / Double(counted)
            let enough = tally.crossings >= minimumCrossings && counted >= minimumCrossings
            let level = enough ? share.map { self.level(share: $0) } : nil
            levels[flow] = level
            flows.append(FlowScore(flow: flow, counted: counted, share: share, level: level, uncappedLevel: level))
        }
        for cap in caps {
            guard let trigger = levels[cap.when], trigger < cap.below else { continue }
            for flow in cap.capped {
                if let level = levels[flow] { levels[flow] = min(level, cap.at) }
            }
        }
        for i in flows.indices { flows[i].level = levels[flows[i].flow] }
        let known = flows.compactMap(\.level)
        let risk = known.count == Flow.allCases.count ? Int((100 * (1 - Double(known.reduce(0, +)) / 28)).rounded()) : nil
        return BoundaryScore(
            crossings: tally.crossings, flows: flows, risk: risk, medianSecondsToAcceptance: tally.medianSecondsToAcceptance,
            medianSecondsToOutcome: tally.medianSecondsToOutcome)
    }

    /// The lower middle value for an even count: a time that actually happened.
    public static func median(_ values: [Int64]) -> Int64? {
        guard !values.isEmpty else { return nil }
        let sorted = values.sorted()
        return sorted[(sorted.count - 1) / 2]
    }
}
