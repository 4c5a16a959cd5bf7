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

/// `count` random bytes as lowercase hex.
public func randomHex(bytes count: Int) -> String {
    var rng = SystemRandomNumberGenerator()
    return hexString((0..<count).map { _ in UInt8.random(in: 0...255, using: &rng) })
}
