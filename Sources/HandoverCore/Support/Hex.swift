/// Lowercase hex of bytes: digests, signatures, random ids.
public func hexString(_ bytes: some Sequence<UInt8>) -> String {
    let digits = Array("0123456789abcdef".utf8)
    var out: [UInt8] = []
    for byte in bytes {
        out.append(digits[Int(byte >> 4)])
        out.append(digits[Int(byte & 15)])
    }
    return String(decoding: out, as: UTF8.self)
}

/// `count` random bytes as lowercase hex. Eight bytes per call to the system generator, which asks
/// the kernel each time (byte by byte, an upload id cost eight such calls).
public func randomHex(bytes count: Int) -> String {
    var rng = SystemRandomNumberGenerator()
    var bytes: [UInt8] = []
    bytes.reserveCapacity(count + 7)
    while bytes.count < count { withUnsafeBytes(of: rng.next() as UInt64) { bytes.append(contentsOf: $0) } }
    return hexString(bytes.prefix(count))
}

/// `value` as lowercase hex, left-padded with zeros to at least `width` digits (`%0*llx`, without
/// Foundation's format parser, which a profile found at 2 % of a send).
public func paddedHex(_ value: UInt64, width: Int) -> String {
    let digits = String(value, radix: 16)
    return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
}
