/// Lowercase hex of bytes: digests, signatures, random ids. Every send hexes a token's HMAC and an
/// audit entry's SHA-256, so the digits are computed, not looked up in an array built per call, and the
/// output is reserved once (a profile found the per-call table and the growing array at 1 %).
/// Inlinable, so each caller gets a copy for its own sequence type: the generic copy read a SHA-256
/// digest byte by byte through its iterator's protocol witness (0.8 % of a send's CPU).
@inlinable
public func hexString(_ bytes: some Sequence<UInt8>) -> String {
    var out: [UInt8] = []
    out.reserveCapacity(max(64, bytes.underestimatedCount * 2))
    for byte in bytes {
        out.append(hexDigit(byte >> 4))
        out.append(hexDigit(byte & 15))
    }
    return String(decoding: out, as: UTF8.self)
}

@inline(__always) @usableFromInline func hexDigit(_ nibble: UInt8) -> UInt8 { nibble < 10 ? 0x30 + nibble : 0x57 + nibble }

/// `count` random bytes as lowercase hex. Eight bytes per call to the system generator, which asks
/// the kernel each time (byte by byte, an upload id cost eight such calls).
public func randomHex(bytes count: Int) -> String {
    var rng = SystemRandomNumberGenerator()
    var bytes: [UInt8] = []
    bytes.reserveCapacity(count + 7)
    while bytes.count < count { withUnsafeBytes(of: rng.next() as UInt64) { bytes.append(contentsOf: $0) } }
    return hexString(bytes.prefix(count))
}

/// `value` as lowercase hex, left-padded with zeros to at least `width` digits (`%0*llx`), written
/// straight into the string: Foundation's format parser was 2 % of a send in a profile, and
/// `String(_:radix:)` with the padding joined on was still most of an upload id's cost.
public func paddedHex(_ value: UInt64, width: Int) -> String {
    let count = max(width, (64 - value.leadingZeroBitCount + 3) / 4, 1)
    return String(unsafeUninitializedCapacity: count) { out in
        writeHex(value, into: out, digits: count)
        return count
    }
}

/// The last `digits` hex digits of `value` (lowercase, zero-padded) into `out`'s first `digits` bytes.
@inline(__always) func writeHex(_ value: UInt64, into out: UnsafeMutableBufferPointer<UInt8>, from start: Int = 0, digits: Int) {
    var rest = value
    for i in stride(from: start + digits - 1, through: start, by: -1) {
        out[i] = hexDigit(UInt8(truncatingIfNeeded: rest & 15))
        rest >>= 4
    }
}
