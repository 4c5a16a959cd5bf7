import HandoverCore
import Synchronization

/// The directory version in force. Readers take a snapshot per request; an edit swaps the whole index
/// atomically, so a request never sees half a change and messages already routed keep their route.
public final class DirectoryHolder: Sendable {
    private let current: Mutex<DirectoryIndex>

    public init(_ index: DirectoryIndex) { current = Mutex(index) }

    public var snapshot: DirectoryIndex { current.withLock { $0 } }

    public func replace(with index: DirectoryIndex) { current.withLock { $0 = index } }
}
