/// An NHS number checked as the national rules say: ten digits (spaces allowed between groups),
/// a modulus 11 check digit with weights 10 to 2, never a repdigit, and numbers beginning with 9
/// reserved for testing.
public struct NHSNumber: Hashable, Sendable, CustomStringConvertible {
    /// The ten digits, without spaces.
    public let digits: String

    public enum Problem: String, Error, Hashable, Sendable {
        case notTenDigits = "must be 10 digits"
        case checkDigit = "fails the modulus 11 check"
        case repdigit = "is a repeated digit, which is never issued"
        case testNumber = "is a test number (starting with 9), not allowed on this workflow"
    }

    /// Numbers starting with 9 are issued for testing only.
    public var isTestNumber: Bool { digits.hasPrefix("9") }

    /// Never prints the number itself, so a stray interpolation cannot leak it into a log.
    public var description: String { "NHS number (redacted)" }

    public static func parse(_ text: String, allowTestNumbers: Bool) -> Result<NHSNumber, Problem> {
        let compact = text.unicodeScalars.filter { $0 != " " }
        guard compact.count == 10, compact.allSatisfy({ ("0"..."9").contains($0) }) else { return .failure(.notTenDigits) }
        let values = compact.map { Int($0.value) - 48 }
        let weighted = zip(values.prefix(9), stride(from: 10, through: 2, by: -1)).reduce(0) { $0 + $1.0 * $1.1 }
        let remainder = 11 - weighted % 11
        let check = remainder == 11 ? 0 : remainder
        guard check != 10, check == values[9] else { return .failure(.checkDigit) }
        guard Set(values).count > 1 else { return .failure(.repdigit) }
        let number = NHSNumber(digits: String(String.UnicodeScalarView(compact)))
        if number.isTestNumber && !allowTestNumbers { return .failure(.testNumber) }
        return .success(number)
    }

    /// The national NHS number verification status codes (UK Core `NHSNumberVerificationStatusEngland`).
    public static let verificationStatuses: [String: String] = [
        "01": "Number present and verified",
        "02": "Number present but not traced",
        "03": "Trace required",
        "04": "Trace attempted - No match or multiple match found",
        "05": "Trace needs to be resolved - (NHS number or patient detail conflict)",
        "06": "Trace in progress",
        "07": "Number not present and trace not required",
        "08": "Trace postponed (baby under six weeks old)",
    ]
}
