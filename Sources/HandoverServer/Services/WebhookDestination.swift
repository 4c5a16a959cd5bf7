import Foundation
import HandoverCore

/// Decides whether a webhook URL may be called: `https://` only, and every address its host resolves
/// to must be public, unless the webhook says `allow_private: true`. This keeps a directory edit from
/// aiming the broker at its own network (the database, a cloud metadata service, an admin port).
/// The check resolves the name just before the request; a name that changes its answer between the
/// check and the connection (DNS rebinding) is not stopped here, so point webhooks at names you control.
enum WebhookDestination {
    struct Refused: Error, CustomStringConvertible {
        let description: String
    }

    /// `check`, with the name resolved on a Dispatch thread: `getaddrinfo` blocks, and a slow DNS
    /// answer must not hold one of the two cooperative threads every request shares.
    static func checkOffThread(url text: String, allowPrivate: Bool) async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            DispatchQueue.global().async { continuation.resume(with: Result { try check(url: text, allowPrivate: allowPrivate) }) }
        }
    }

    static func check(url text: String, allowPrivate: Bool) throws {
        guard let url = URLComponents(string: text), let scheme = url.scheme?.lowercased(), let host = url.host, !host.isEmpty else {
            throw Refused(description: "not a URL")
        }
        switch scheme {
        case "https": break
        case "http" where allowPrivate: break
        default: throw Refused(description: "\(scheme):// is not allowed (https only, or http with allow_private)")
        }
        guard !allowPrivate else { return }
        let addresses = try resolve(host.trimmingCharacters(in: CharacterSet(charactersIn: "[]")))
        guard !addresses.isEmpty else { throw Refused(description: "the host resolves to no address") }
        if let inside = addresses.first(where: WebhookAddressRules.isPrivate) {
            throw Refused(
                description: "the host resolves to \(inside), a loopback, private or link-local address (set allow_private: true to allow it)")
        }
    }

    static func resolve(_ host: String) throws -> [String] {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var result: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, nil, &hints, &result) == 0, let first = result else {
            throw Refused(description: "the host name does not resolve")
        }
        defer { freeaddrinfo(first) }
        var found: [String] = []
        var cursor: UnsafeMutablePointer<addrinfo>? = first
        while let info = cursor {
            var buffer = [CChar](repeating: 0, count: Int(NI_MAXHOST))
            if getnameinfo(info.pointee.ai_addr, info.pointee.ai_addrlen, &buffer, socklen_t(buffer.count), nil, 0, NI_NUMERICHOST) == 0 {
                found.append(String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
            }
            cursor = info.pointee.ai_next
        }
        return found
    }
}
