import Foundation
import Testing
@testable import Interop
import Tensor
import TestSupport

// Hostile or unusual inputs: every case must throw a clear error or return, never crash.

private func archive(_ pickle: [UInt8], storages: [String: [UInt8]] = [:]) -> Data {
    var zip = TestZipWriter()
    zip.add("ck/data.pkl", pickle)
    zip.add("ck/byteorder", Array("little".utf8))
    for (k, v) in storages.sorted(by: { $0.key < $1.key }) { zip.add("ck/data/\(k)", v) }
    return zip.build()
}

private func message(_ body: () throws -> Void) -> String? {
    do { try body(); return nil } catch { return "\(error)" }
}

@Test func zipEntryEscapingItsFolderIsRejected() throws {
    for bad in ["ck/../../etc/passwd", "../data.pkl", "/abs/data.pkl", "ck\\..\\x", "C:/x"] {
        var zip = TestZipWriter()
        zip.add("ck/data.pkl", [0x80, 0x02, 0x4E, 0x2E])
        zip.add(bad, [1, 2, 3])
        let m = message { _ = try ZipArchive(data: zip.build()) }
        #expect(m?.contains("unsafe entry name") == true, "\(bad): \(m ?? "accepted")")
    }
}

@Test func deflateEntriesAreReportedClearly() throws {
    var zip = TestZipWriter()
    zip.add("ck/data.pkl", [0x80, 0x02, 0x4E, 0x2E], method: 8)
    let m = message { _ = try ZipArchive(data: zip.build()) }
    #expect(m?.contains("DEFLATE") == true)
}

@Test func corruptEntryFailsItsChecksum() throws {
    var bytes = [UInt8](try Fixtures.data("model/tiny_enc.pth"))
    let zip = try ZipArchive(data: Data(bytes))
    let e = try #require(zip.entry("tiny_enc/data/0"))
    bytes[e.dataOffset + 3] ^= 0x10
    let m = message { _ = try TorchCheckpointReader.read(ZipArchive(data: Data(bytes))) }
    #expect(m?.contains("CRC-32") == true)
}

@Test func disallowedGlobalIsRejected() throws {
    // pickle of os.system('ls'): the classic code-execution payload.
    var p = TestPickle()
    p.global("os", "system"); p.str("ls"); p.raw([0x85]); p.op("R"); p.stop()
    let m = message { _ = try TorchCheckpointReader.read(ZipArchive(data: archive(p.bytes))) }
    #expect(m?.contains("global 'os.system' is not allowed") == true, "\(m ?? "accepted")")
    // Vocabulary pickles allow no globals at all.
    #expect(message { _ = try FastaiVocab.parse(p.bytes) }?.contains("not allowed") == true)
}

@Test func unknownOpcodeIsRejected() {
    let m = message { _ = try FastaiVocab.parse([0x80, 0x02, 0x5D, 0x49, 0x2E]) }  // 'I' (text INT) is not supported
    #expect(m?.contains("unsupported pickle opcode 0x49") == true, "\(m ?? "accepted")")
}

@Test func nonContiguousViewWithOffsetIsMadeContiguous() throws {
    // A [2,3] view at offset 1 with strides (1, 2) over storage [0…6]: element [i][j] = s[1 + i + 2j].
    var p = TestPickle()
    p.op("}")
    p.str("t"); p.tensor(type: "FloatStorage", key: "0", numel: 7, offset: 1, size: [2, 3], stride: [1, 2]); p.op("s")
    p.str("n"); p.tensor(type: "LongStorage", key: "1", numel: 1, offset: 0, size: [], stride: []); p.op("s")
    p.stop()
    var long: [UInt8] = [7, 0, 0, 0, 0, 0, 0, 0]
    let data = archive(p.bytes, storages: ["0": .floats([0, 1, 2, 3, 4, 5, 6]), "1": long])
    let ckpt = try FastaiCheckpoint.interpret(TorchCheckpointReader.read(ZipArchive(data: data)), source: "crafted")
    #expect(ckpt.model["t"] == Tensor(shape: [2, 3], data: [1, 3, 5, 2, 4, 6]))
    #expect(ckpt.model["n"] == Tensor(shape: [], data: [7]))

    // A view reaching past its storage is refused before any copy.
    var q = TestPickle()
    q.op("}"); q.str("t"); q.tensor(type: "FloatStorage", key: "0", numel: 7, offset: 2, size: [2, 3], stride: [1, 2]); q.op("s"); q.stop()
    let m = message { _ = try TorchCheckpointReader.read(ZipArchive(data: archive(q.bytes, storages: ["0": .floats([0, 1, 2, 3, 4, 5, 6])]))) }
    #expect(m?.contains("reaches element 7") == true, "\(m ?? "accepted")")

    // A storage claiming more elements than its entry holds is refused before allocation.
    var r = TestPickle()
    r.op("}"); r.str("t"); r.tensor(type: "FloatStorage", key: "0", numel: 200, offset: 0, size: [200], stride: [1]); r.op("s"); r.stop()
    long = .floats([1, 2])
    let m2 = message { _ = try TorchCheckpointReader.read(ZipArchive(data: archive(r.bytes, storages: ["0": long]))) }
    #expect(m2?.contains("claims 200") == true, "\(m2 ?? "accepted")")
}

@Test func deeplyNestedPickleIsRejectedWithoutCrashing() throws {
    // 200 000 nested one-element tuples, then a list wrapping them: cheap to write, deep to free.
    var b: [UInt8] = [0x80, 0x02, 0x4E]
    b += [UInt8](repeating: 0x85, count: 200_000)   // TUPLE1
    b += [0x2E]
    let m = message { _ = try TorchCheckpointReader.read(ZipArchive(data: archive(b))) }
    #expect(m?.contains("nested deeper") == true, "\(m ?? "accepted")")
}

@Test func sharedReferencesCannotExplodeTheConversion() throws {
    // l0 = []; l(k+1) = [l(k), l(k)] for 60 levels: 300 bytes describing 2^60 leaves.
    var b: [UInt8] = [0x80, 0x02, 0x5D, 0x71, 0x00]          // EMPTY_LIST, BINPUT 0
    for k in 1...60 {
        b += [0x5D, 0x28, 0x68, UInt8(k - 1), 0x68, UInt8(k - 1), 0x65, 0x71, UInt8(k)]  // [] ( get get APPENDS put
    }
    b += [0x2E]
    let m = message { _ = try TorchCheckpointReader.read(ZipArchive(data: archive(b))) }
    #expect(m?.contains("far more values") == true, "\(m ?? "accepted")")
    // A list that contains itself is refused too (depth or budget), not followed forever.
    let selfRef: [UInt8] = [0x80, 0x02, 0x5D, 0x71, 0x00, 0x28, 0x68, 0x00, 0x68, 0x00, 0x65, 0x2E]
    #expect(message { _ = try TorchCheckpointReader.read(ZipArchive(data: archive(selfRef))) } != nil)
}

/// Fixed-seed fuzzing of the container, the checkpoint pickle and a vocabulary pickle.
@Test func mutatedAndTruncatedInputsThrowOrReturn() throws {
    var rng = SeededGenerator(seed: 20261125)
    let original = [UInt8](try Fixtures.data("model/tiny_enc.pth"))
    let zip = try ZipArchive(data: Data(original))
    let pickle = [UInt8](try zip.data(for: "tiny_enc/data.pkl"))
    var storages: [String: [UInt8]] = [:]
    for e in zip.entries where e.name.hasPrefix("tiny_enc/data/") {
        storages[String(e.name.dropFirst("tiny_enc/data/".count))] = [UInt8](try zip.data(for: e))
    }
    let vocab = [UInt8](try Fixtures.data("model/tiny_vocab_p4.pkl"))

    func mutate(_ input: [UInt8]) -> [UInt8] {
        var b = input
        switch rng.next() % 4 {
        case 0: b = Array(b.prefix(Int(rng.next() % UInt64(b.count))))       // truncate
        case 1: for _ in 0 ..< 1 + Int(rng.next() % 8) {                      // flip bytes
                    b[Int(rng.next() % UInt64(b.count))] = UInt8(truncatingIfNeeded: rng.next()) }
        case 2: let i = Int(rng.next() % UInt64(b.count))                       // small integers near lengths
                b[i] = [0, 1, 0x7F, 0x80, 0xFF][Int(rng.next() % 5)]
        default: let i = Int(rng.next() % UInt64(b.count)), n = Int(rng.next() % 16)  // delete a run
                b.removeSubrange(i ..< min(b.count, i + n))
        }
        return b
    }

    var outcomes = [0, 0]  // [returned, threw]
    for _ in 0 ..< 1500 {
        do { _ = try FastaiCheckpoint.interpret(TorchCheckpointReader.read(ZipArchive(data: Data(mutate(original)))), source: "fuzz"); outcomes[0] += 1 }
        catch { outcomes[1] += 1; #expect(!"\(error)".isEmpty) }
    }
    for _ in 0 ..< 1500 {
        let data = archive(mutate(pickle), storages: storages)
        do { _ = try FastaiCheckpoint.interpret(TorchCheckpointReader.read(ZipArchive(data: data)), source: "fuzz"); outcomes[0] += 1 }
        catch { outcomes[1] += 1; #expect(!"\(error)".isEmpty) }
    }
    for _ in 0 ..< 1000 {
        do { _ = try FastaiVocab.parse(mutate(vocab)); outcomes[0] += 1 }
        catch { outcomes[1] += 1 }
    }
    // The exported learner (cloudpickle) in inspect-only mode: mutated pickle, intact storages.
    let exportZip = try ZipArchive(contentsOf: Fixtures.url("model/tiny_export.pkl"))
    let exportPickle = [UInt8](try exportZip.data(for: "tiny/data.pkl"))
    var exportStorages: [String: [UInt8]] = [:]
    for e in exportZip.entries where e.name.hasPrefix("tiny/data/") {
        exportStorages[String(e.name.dropFirst("tiny/data/".count))] = [UInt8](try exportZip.data(for: e))
    }
    for _ in 0 ..< 50 {
        var zip = TestZipWriter()
        zip.add("tiny/data.pkl", mutate(exportPickle))
        for (k, v) in exportStorages { zip.add("tiny/data/\(k)", v) }
        do { _ = try FastaiExport.inspect(ZipArchive(data: zip.build()), source: "fuzz"); outcomes[0] += 1 }
        catch { outcomes[1] += 1 }
    }
    // Most mutations must be caught (CRC, structure); reaching here at all means none crashed.
    #expect(outcomes[1] > outcomes[0])
    #expect(outcomes[0] + outcomes[1] == 4050)
}

/// Legacy (PyTorch < 1.6) container: the fixture's own object pickle and storages repackaged
/// as magic / version / sys-info pickles, the object pickle, the key list, then
/// (8-byte count + raw elements) per key, must give the same tensors as the zip file.
@Test func legacyFormatGivesSameTensorsAsZip() throws {
    let url = Fixtures.url("model/tiny_enc.pth")
    let zip = try ZipArchive(contentsOf: url)
    let pickle = [UInt8](try zip.data(for: "tiny_enc/data.pkl"))
    let keys = zip.entries.compactMap { e -> String? in
        e.name.hasPrefix("tiny_enc/data/") ? String(e.name.dropFirst("tiny_enc/data/".count)) : nil
    }
    var b: [UInt8] = [0x80, 0x02, 0x8A, 0x0A, 0x6C, 0xFC, 0x9C, 0x46, 0xF9, 0x20, 0x6A, 0xA8, 0x50, 0x19, 0x2E]  // magic
    b += [0x80, 0x02, 0x4D, 0xE9, 0x03, 0x2E]                                                            // 1001
    var info = TestPickle(); info.op("}"); info.str("little_endian"); info.raw([0x88]); info.op("s"); info.stop()
    b += info.bytes
    b += pickle
    var list = TestPickle(); list.op("]"); list.op("("); for k in keys { list.str(k) }; list.op("e"); list.stop()
    b += list.bytes
    for k in keys {
        let raw = [UInt8](try zip.data(for: "tiny_enc/data/\(k)"))
        let n = UInt64(raw.count / 4)   // all FloatStorage in this fixture
        b += (0..<8).map { UInt8(truncatingIfNeeded: n >> (8 * UInt64($0))) }
        b += raw
    }
    let legacy = try FastaiCheckpoint.interpret(TorchCheckpointReader.read(Data(b), source: "legacy"), source: "legacy")
    let modern = try FastaiCheckpoint.load(url)
    #expect(legacy.keys == modern.keys)
    #expect(legacy.model == modern.model)
    // Truncating the last storage is an error, not a crash.
    let m = message { _ = try TorchCheckpointReader.read(Data(b.dropLast(5)), source: "legacy") }
    #expect(m?.contains("runs past the end") == true, "\(m ?? "accepted")")
}
