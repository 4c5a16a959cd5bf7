import Synchronization

#if canImport(Glibc)
import Glibc  // arc4random_buf
#endif

/// Random words for ids (message ids, upload ids), fetched from the kernel 4 KiB at a time. Swift's
/// `SystemRandomNumberGenerator` makes a `getrandom` system call for every word it returns, and each
/// send asked for two (its upload id and its message id): about 1 % of a send's CPU in a profile. The
/// words are the kernel's random bytes all the same, each handed out once. Secrets (keys, tokens, a
/// sign-in's state) keep asking the system generator directly, so none sits in this buffer.
public struct IDRandom: RandomNumberGenerator {
    public init() {}

    public mutating func next() -> UInt64 { Self.pool.withLock { $0.next() } }

    private static let pool = Mutex(Pool())

    private struct Pool {
        var words = [UInt64](repeating: 0, count: 512)
        var used = 512

        mutating func next() -> UInt64 {
            if used == words.count { refill() }
            defer { used += 1 }
            return words[used]
        }

        /// One call for the whole buffer: glibc's `arc4random_buf` reads it from the kernel's
        /// generator (`getrandom`) and never fails.
        private mutating func refill() {
            #if canImport(Glibc)
            words.withUnsafeMutableBytes { buffer in
                if let start = buffer.baseAddress { arc4random_buf(start, buffer.count) }  // 512 words: never nil
            }
            #else
            var system = SystemRandomNumberGenerator()
            for i in words.indices { words[i] = system.next() }
            #endif
            used = 0
        }
    }
}
