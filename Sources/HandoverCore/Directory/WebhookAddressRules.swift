/// Which addresses a webhook may not reach unless it says `allow_private: true`. Pure, so the rules
/// are tested without resolving names.
public enum WebhookAddressRules {
    /// Loopback, private (RFC 1918, unique-local), link-local, carrier-grade NAT, unspecified and
    /// multicast addresses, in IPv4, IPv6 and IPv4-mapped IPv6.
    public static func isPrivate(_ address: String) -> Bool {
        let lowered = address.lowercased()
        if lowered.hasPrefix("::ffff:"), lowered.contains(".") { return isPrivate(String(lowered.dropFirst(7))) }
        if lowered.contains(":") {
            if lowered == "::" || lowered == "::1" { return true }
            let first = UInt16(lowered.split(separator: ":", omittingEmptySubsequences: false).first.flatMap { UInt16($0, radix: 16) } ?? 0)
            return (first & 0xfe00) == 0xfc00 || (first & 0xffc0) == 0xfe80 || (first & 0xff00) == 0xff00
        }
        let octets = lowered.split(separator: ".").compactMap { UInt8($0) }
        guard octets.count == 4 else { return true }
        switch (octets[0], octets[1]) {
        case (0, _), (10, _), (127, _), (169, 254), (192, 168): return true
        case (172, 16...31), (100, 64...127): return true
        case (224...255, _): return true
        default: return false
        }
    }
}
