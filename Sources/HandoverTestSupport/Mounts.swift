import Foundation

/// Mounting and unmounting for the fault tests (tmpfs, FUSE); they need root, as CI has.
public enum Mounts {
    public static var available: Bool { getuid() == 0 && FileManager.default.isExecutableFile(atPath: "/bin/mount") }

    public static func mount(_ arguments: [String]) throws {
        guard run("/bin/mount", arguments) == 0 else { throw BrokerProcessError("mount \(arguments.joined(separator: " ")) failed") }
    }

    /// Unmounts, lazily if something still holds the mount (a process killed a moment ago).
    public static func unmount(_ path: String) {
        if run("/bin/umount", [path]) != 0 { _ = run("/bin/umount", ["-l", path]) }
    }

    @discardableResult
    static func run(_ executable: String, _ arguments: [String]) -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return -1 }
        process.waitUntilExit()
        return process.terminationStatus
    }
}
