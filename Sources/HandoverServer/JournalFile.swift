import Foundation

/// One append-only file of 16-byte records, written through a shared mapping: a record is a store
/// into memory, not a `write(2)` (whose work in the kernel, for the journal's one record a request,
/// was 1.4 % of a saturated send's CPU in a profile). The mapped pages are the page cache's own, so a
/// killed process loses nothing a `write` would have kept; neither survives a power cut unsynced.
///
/// Space is reserved ahead, `reservation` bytes at a time (`posix_fallocate`), before it is mapped, so
/// a full disk can never fault a store into the mapping; the unused tail reads as zeros, and the
/// records end at the first one whose second word is zero (no record has one: it holds an expiry in
/// seconds since 1970). Where space cannot be reserved or mapped, records go out with `pwrite`.
/// Not thread-safe: its owner serialises calls.
final class JournalFile {
    static let recordSize = 16
    private let fd: Int32
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
        guard let end = Self.recordsEnd(fd) else {
            close(fd)
            return nil
        }
        self.end = end
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

    /// Where an existing file's records end: at the first record with no expiry, found by halving
    /// (records are appended with no gap, so every one before it has one), or at the file's end for a
    /// file written before space was reserved. A few reads, not the file: the first request after a
    /// restart opens the hour's file under the journal's lock, and an hour's file is tens of MiB.
    private static func recordsEnd(_ fd: Int32) -> Int? {
        var status = stat()
        guard fstat(fd, &status) == 0 else { return nil }
        // Records before `low` have an expiry; those from `high` on are past the file or have none.
        var (low, high) = (0, Int(status.st_size) / recordSize)
        while low < high {
            let middle = (low + high) / 2
            var expiry: UInt64 = 0
            guard pread(fd, &expiry, 8, off_t(middle * recordSize + 8)) == 8 else { return nil }
            if expiry != 0 { low = middle + 1 } else { high = middle }
        }
        return low * recordSize
    }

    private static func word(_ bytes: [UInt8], _ at: Int) -> UInt64 {
        (0..<8).reduce(UInt64(0)) { $0 | UInt64(bytes[at + $1]) << (8 * UInt64($1)) }
    }
}
