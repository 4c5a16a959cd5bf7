/// Binds a mutual-TLS client certificate to the mailbox it may act for (contract §1, issue 5): the
/// certificate's subject CN, or one of its DNS SANs, names the mailbox id or its organisation code,
/// either whole or as one dot-separated label (NHS client certificates look like
/// `SERVER001.X26.api.mesh-client.nhs.uk`, with the ODS code as a label).
public enum ClientCertificateBinding {
    /// How certificates are matched to mailboxes.
    public enum Mode: String, Sendable, CaseIterable {
        /// The certificate names the mailbox id or its organisation code, whole or as a dot label.
        case names
        /// The certificate's CN or a DNS SAN is one the mailbox lists under `certificates:` (exact,
        /// case-insensitive); nothing else binds. For a CA that issues broad names (a CN containing
        /// `713` would otherwise bind to every mailbox of organisation 713).
        case explicit
    }

    public static func permits(certificateNames: [String], mailbox: Mailbox, mode: Mode = .names) -> Bool {
        if mode == .explicit {
            let listed = Set(mailbox.certificateNames.map { $0.lowercased() })
            return certificateNames.contains { listed.contains($0.lowercased()) }
        }
        let wanted: Set<String> = [mailbox.id.rawValue, mailbox.organisation.rawValue]
        for name in certificateNames {
            let upper = name.uppercased()
            if wanted.contains(upper) { return true }
            if upper.split(separator: ".").contains(where: { wanted.contains(String($0)) }) { return true }
        }
        return false
    }
}
