extension String {
    /// Whether the text starts with `lowercasePrefix` (lowercase ASCII) in any ASCII case, compared
    /// byte by byte without a lowercased copy: the MESH checks on every request (the token's scheme,
    /// a header that is a URL) showed lowercasing in their profiles.
    func hasASCIIPrefixIgnoringCase(_ lowercasePrefix: String) -> Bool {
        var bytes = utf8.makeIterator()
        for expected in lowercasePrefix.utf8 {
            guard let byte = bytes.next(), (byte >= 0x41 && byte <= 0x5A ? byte | 0x20 : byte) == expected else { return false }
        }
        return true
    }
}
