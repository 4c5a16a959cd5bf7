import Foundation

/// One append-only file of 16-byte records, written through a shared mapping: a record is a store
/// into memory, not a `write(2)` (whose work in the kernel, for the journal's one record a request,
/// was 1.3 % of a saturated send's CPU in a profile). The mapped pages are the page cache's own, so a
/// killed process loses nothing a `write` would have kept; neither survives a power cut unsynced.
///
/// Space is reserved ahead, `reservation` bytes at a time (`posix_fallocate`), before it is mapped, so
/// a full disk can never fault a store into the mapping; the unused tail reads as zeros, and the
/// records end at the first one whose second word is zero (no record has one: it holds an expiry in
/// seconds since 1970). Where space cannot be reserved or mapped, records go out with `pwrite`.
/// Not thread-safe: its owner serialises calls.
final class JournalFile {
    static let recordSize = 16
    let fd: Int32
    private let reservation: Int
    private var mapping: UnsafeMutableRawPointer?
    private var mappedBytes = 0
    /// Bytes of records, where the next goes.
    private(set) var end: Int
    /// Reserving or mapping failed once: records are written with `pwrite` from then on.
    private var unmappable = false

    init?(path: String, reservation: Int = 1 << 20) {
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { return nil }
        // Whole records, at least one: a reservation's end is always a record's.
        self.reservation = max(Self.recordSize, reservation / Self.recordSize * Self.recordSize)
        end = Self.recordsEnd(fd)
    }

    deinit {
        if let mapping { munmap(mapping, mappedBytes) }
        close(fd)
    }

    /// Appends one record: two little-endian words. A record that could not be written (a full disk)
    /// leaves no gap: the next is written in its place, as the readers stop at the first gap.
    func append(_ first: UInt64, _ second: UInt64) {
        var record = (first.littleEndian, second.littleEndian)
        if end + Self.recordSize > mappedBytes && !unmappable { mapMore() }
        let written = withUnsafeBytes(of: &record) { bytes in
            if let mapping, end + Self.recordSize <= mappedBytes {
                UnsafeMutableRawBufferPointer(start: mapping + end, count: Self.recordSize).copyMemory(from: bytes)
                return true
            }
            return pwrite(fd, bytes.baseAddress, Self.recordSize, off_t(end)) == Self.recordSize
        }
        if written { end += Self.recordSize }
    }

    /// Reserves and maps the file up to the next multiple of `reservation` past the records.
    private func mapMore() {
        let size = (end / reservation + 1) * reservation
        guard posix_fallocate(fd, 0, off_t(size)) == 0 else {
            unmappable = true
            return
        }
        if let mapping { munmap(mapping, mappedBytes) }
        (mapping, mappedBytes) = (nil, 0)
        let mapped = mmap(nil, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)
        guard let mapped, mapped != UnsafeMutableRawPointer(bitPattern: -1) else {  // MAP_FAILED
            unmappable = true
            return
        }
        (mapping, mappedBytes) = (mapped, size)
    }

    /// The records in `bytes`, up to the first whose second word is zero (a reserved, unwritten tail).
    static func records(_ bytes: [UInt8]) -> [(UInt64, UInt64)] {
        var records: [(UInt64, UInt64)] = []
        var offset = 0
        while offset + recordSize <= bytes.count {
            let second = word(bytes, offset + 8)
            guard second != 0 else { break }
            records.append((word(bytes, offset), second))
            offset += recordSize
        }
        return records
    }

    /// Where an existing file's records end: files written before space was reserved have no tail.
    private static func recordsEnd(_ fd: Int32) -> Int {
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = chunk.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, off_t(bytes.count)) }
            guard n > 0 else { break }
            bytes += chunk.prefix(n)
        }
        return records(bytes).count * recordSize
    }

    private static func word(_ bytes: [UInt8], _ at: Int) -> UInt64 {
        (0..<8).reduce(UInt64(0)) { $0 | UInt64(bytes[at + $1]) << (8 * UInt64($1)) }
    }
}
