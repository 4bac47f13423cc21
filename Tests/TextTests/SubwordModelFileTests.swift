import Foundation
import Testing
import TestSupport
@testable import Text

/// Damaged or foreign files give a thrown error naming the file, never a crash.
@Test func subwordEmptyFileIsRejected() throws {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("lmlab-empty-\(UUID()).model")
    try Data().write(to: url)
    defer { try? FileManager.default.removeItem(at: url) }
    let error = #expect(throws: SentencePieceError.self) { try SentencePieceModel(contentsOf: url) }
    #expect(error?.description.hasPrefix(url.lastPathComponent) == true)
}

@Test func subwordMissingFileIsRejected() throws {
    let url = URL(fileURLWithPath: "/nonexistent/lmlab/none.model")
    let error = #expect(throws: SentencePieceError.self) { try SentencePieceModel(contentsOf: url) }
    #expect(error?.description.contains("none.model") == true)
}

@Test func subwordTruncatedFilesAreRejected() throws {
    let bytes = [UInt8](try Fixtures.data(SubwordFixtures.modelPath))
    // Cut points spread over the file, plus the very first bytes.
    var cuts = [1, 2, 3, 5, 10]
    for k in 1..<40 { cuts.append(bytes.count * k / 40) }
    cuts.append(bytes.count - 1)
    for cut in cuts where cut < bytes.count {
        let error = #expect(throws: SentencePieceError.self, "cut at \(cut)") {
            try SentencePieceModel(serialized: Array(bytes[..<cut]), source: "spm.model")
        }
        #expect(error?.description.hasPrefix("spm.model: ") == true)
    }
}

@Test func subwordRandomBytesAreRejected() throws {
    var state: UInt64 = 0x9E37_79B9_7F4A_7C15
    for trial in 0..<200 {
        let count = 1 + trial * 37 % 5000
        var bytes = [UInt8](repeating: 0, count: count)
        for i in 0..<count {
            // splitmix64 step: a fixed, reproducible byte stream.
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            bytes[i] = UInt8(truncatingIfNeeded: z ^ (z >> 31))
        }
        #expect(throws: SentencePieceError.self, "trial \(trial)") {
            try SentencePieceModel(serialized: bytes, source: "random.model")
        }
    }
}

@Test func subwordTextFileIsRejected() throws {
    let text = Array("this is not a sentencepiece model\n".utf8)
    let error = #expect(throws: SentencePieceError.self) {
        try SentencePieceModel(serialized: text, source: "notes.txt")
    }
    #expect(error?.description.hasPrefix("notes.txt: ") == true)
}

/// A huge declared length must be rejected before anything is allocated.
@Test func subwordHugeLengthIsRejected() throws {
    // Field 1 (pieces), wire type 2, length 2^62.
    let bytes: [UInt8] = [0x0A, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x40]
    #expect(throws: SentencePieceError.self) { try SentencePieceModel(serialized: bytes, source: "x") }
}

/// Reading then writing the fixture gives a model that reads back identically.
@Test func subwordFixtureRoundTripsThroughWriter() throws {
    let bytes = [UInt8](try Fixtures.data(SubwordFixtures.modelPath))
    let proto = try SentencePieceModelProto(serialized: bytes)
    let rewritten = proto.serialized()
    #expect(try SentencePieceModelProto(serialized: rewritten) == proto)
    #expect(rewritten.count == bytes.count)
}
