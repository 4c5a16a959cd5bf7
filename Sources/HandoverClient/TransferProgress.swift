import Foundation
import Synchronization

/// TransferProgress of a send or download on standard error: on a terminal one line redrawn in place (bar,
/// bytes, rate, time left); otherwise one plain line per chunk, for logs. Standard output stays for
/// the result (`--json`).
public final class TransferProgress: Sendable {
    public enum Style: Sendable { case terminal, lines }

    let style: Style
    /// Nothing is written (the folder agent logs each message itself).
    let quiet: Bool
    private struct State {
        var title = ""
        var total: Int64?
        var done: Int64 = 0
        var started = ContinuousClock.now
    }
    private let state = Mutex(State())

    public init(style: Style, quiet: Bool = false) { (self.style, self.quiet) = (style, quiet) }

    /// A terminal when standard error is one.
    public static func forStandardError() -> TransferProgress { TransferProgress(style: isatty(2) == 1 ? .terminal : .lines) }

    func start(_ title: String, bytes: Int64?) {
        state.withLock { $0 = State(title: title, total: bytes, done: 0, started: .now) }
        if style == .lines { emit("\(title)\(bytes.map { " (\(Self.size($0)))" } ?? "")\n") }
    }

    func advance(by bytes: Int64, note: String) {
        let line = state.withLock { s -> String in
            s.done += bytes
            let since = ContinuousClock.now - s.started
            let elapsed = max(0.001, Double(since.components.seconds) + Double(since.components.attoseconds) / 1e18)
            let rate = Double(s.done) / elapsed
            var text = "\(s.title): \(note), \(Self.size(s.done))"
            if let total = s.total, total > 0 {
                let fraction = min(1, Double(s.done) / Double(total))
                let left = rate > 0 ? Double(total - s.done) / rate : 0
                let bar = String(repeating: "#", count: Int(fraction * 20)) + String(repeating: ".", count: 20 - Int(fraction * 20))
                text =
                    "\(note): [\(bar)] \(Int(fraction * 100))% \(Self.size(s.done)) of \(Self.size(total)), "
                    + "\(Self.size(Int64(rate)))/s, \(Int(left.rounded())) s left"
            } else {
                text += ", \(Self.size(Int64(rate)))/s"
            }
            return text
        }
        switch style {
        case .terminal: emit("\r\u{1B}[K" + line)
        case .lines: emit(line + "\n")
        }
    }

    func finish(_ message: String) {
        switch style {
        case .terminal: emit("\r\u{1B}[K" + message + "\n")
        case .lines: emit(message + "\n")
        }
    }

    private func emit(_ text: String) {
        if !quiet { FileHandle.standardError.write(Data(text.utf8)) }
    }

    static func size(_ bytes: Int64) -> String {
        if bytes < 1024 { return "\(bytes) B" }
        if bytes < 1 << 20 { return String(format: "%.1f KiB", Double(bytes) / 1024) }
        if bytes < 1 << 30 { return String(format: "%.1f MiB", Double(bytes) / 1_048_576) }
        return String(format: "%.2f GiB", Double(bytes) / 1_073_741_824)
    }
}
