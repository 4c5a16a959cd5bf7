import HandoverCore
import HandoverStore
import Testing

/// Upload ids start with the time, so the index on them is appended to rather than scattered.
@Suite("Upload ids")
struct UploadIDTests {
    @Test func startWithTheTimeInFourteenHexDigitsThenSixteenRandomOnes() {
        let early = ChunkStager.newUploadID(now: Timestamp(microsecondsSinceEpoch: 0x123))
        #expect(early.count == 30 && early.hasPrefix("00000000000123"), "\(early)")
        let now = Timestamp(microsecondsSinceEpoch: 1_764_547_200_000_000)
        let (a, b) = (ChunkStager.newUploadID(now: now), ChunkStager.newUploadID(now: now))
        #expect(a.prefix(14) == b.prefix(14) && a != b)
        #expect(ChunkStager.newUploadID(now: Timestamp(microsecondsSinceEpoch: now.microsecondsSinceEpoch + 1)) > max(a, b))
    }
}
