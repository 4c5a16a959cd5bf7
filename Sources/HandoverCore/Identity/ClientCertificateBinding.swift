/// Binds a mutual-TLS client certificate to the mailbox it may act for (contract §1, issue 5): the
/// certificate's subject CN, or one of its DNS SANs, names the mailbox id or its organisation code,
/// either whole or as one dot-separated label (NHS client certificates look like
/// `SERVER001.X26.api.mesh-client.nhs.uk`, with the ODS code as a label).
public enum ClientCertificateBinding {
    public static func permits(certificateNames: [String], mailbox: Mailbox) -> Bool {
        let wanted: Set<String> = [mailbox.id.rawValue, mailbox.organisation.rawValue]
        for name in certificateNames {
            let upper = name.uppercased()
            if wanted.contains(upper) { return true }
            if upper.split(separator: ".").contains(where: { wanted.contains(String($0)) }) { return true }
        }
        return false
    }
}
