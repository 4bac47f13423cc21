import Foundation
import Testing
@testable import Interop
import Tensor
import TestSupport

// The torch.save writer against the project's own readers and against the layout of the real
// fastai file `model/tiny.pth`.

private func entryNames(_ zip: ZipArchive) -> [String] {
    zip.entries.map { e in String(e.name[e.name.index(after: e.name.firstIndex(of: "/")!)...]) }
}

/// Storage entries (`data/N`) collapsed to one `data/*`, so two archives' record order compares.
private func recordOrder(_ zip: ZipArchive) -> [String] {
    var out: [String] = []
    for n in entryNames(zip) {
        let name = n.hasPrefix("data/") ? "data/*" : n
        if out.last != name { out.append(name) }
    }
    return out
}

private let sample: TorchSaveValue = .dict([
    ("model", .orderedDict([
        ("emb", .tensor(StoredTensor(float32: Tensor(shape: [3, 2], data: [1, -2, 3.5, 0, -0.0, .leastNonzeroMagnitude])), storage: "emb")),
        ("alias", .tensor(StoredTensor(float32: Tensor(shape: [3, 2], data: [1, -2, 3.5, 0, -0.0, .leastNonzeroMagnitude])), storage: "emb")),
        ("scalar", .tensor(StoredTensor(float32: Tensor(scalar: 7)), storage: nil)),
        ("empty", .tensor(StoredTensor(float32: Tensor(shape: [0, 4], data: [])), storage: nil)),
        ("count", .tensor(StoredTensor(int64: [Int64.max], shape: []), storage: nil)),
    ])),
    ("opt", .dict([
        ("state", .list([.dict([("do_wd", .bool(false)), ("step", .int(1 << 40)), ("neg", .int(-70_000))]), .dict([])])),
        ("hypers", .list([.dict([("lr", .double(7.512733952129425e-07)), ("eps", .double(1e-5))])])),
        ("misc", .list([.none, .string("é ✓"), .int(255), .int(256), .int(-1), .int(Int.min), .double(-0.0)])),
    ])),
])

@Test func torchWriterRoundTripsThroughTheReader() throws {
    let data = try TorchCheckpointWriter.serialize(sample, archiveName: "ck")
    let v = try TorchCheckpointReader.read(data, source: "written")
    guard case .dict(let top) = v else { Issue.record("top level is not a dict"); return }
    #expect(top.map(\.key) == ["model", "opt"])
    let model = try #require(v["model"]?.dict)
    #expect(model.map(\.key) == ["emb", "alias", "scalar", "empty", "count"])
    let emb = try #require(v["model"]?["emb"]?.tensor)
    #expect(emb.shape == [3, 2] && emb.storageType == "FloatStorage")
    // Bit for bit, negative zero and the smallest subnormal included.
    guard case .float(let f) = emb.elements else { Issue.record("emb is not float"); return }
    #expect(f.map(\.bitPattern) == [1, -2, 3.5, 0, -0.0, Float.leastNonzeroMagnitude].map(\.bitPattern))
    #expect(v["model"]?["alias"]?.tensor == emb)
    #expect(v["model"]?["scalar"]?.tensor?.shape == [])
    #expect(v["model"]?["empty"]?.tensor?.shape == [0, 4])
    let count = try #require(v["model"]?["count"]?.tensor)
    #expect(count.storageType == "LongStorage" && count.elements == .int([Int64.max]) && count.shape == [])
    let st = try #require(v["opt"]?["state"]?.list)
    #expect(st.count == 2 && st[1].dict?.isEmpty == true)
    #expect(st[0].dict?.map(\.key) == ["do_wd", "step", "neg"])
    if case .bool(false)? = st[0]["do_wd"] {} else { Issue.record("do_wd is not False") }
    if case .int(1 << 40)? = st[0]["step"] {} else { Issue.record("step is not 2**40") }
    if case .int(-70_000)? = st[0]["neg"] {} else { Issue.record("neg is not -70000") }
    let h = try #require(v["opt"]?["hypers"]?.list?.first)
    #expect(h["lr"]?.number?.bitPattern == (7.512733952129425e-07).bitPattern)
    let misc = try #require(v["opt"]?["misc"]?.list)
    if case .none = misc[0] {} else { Issue.record("None lost") }
    #expect(misc[1].string == "é ✓")
    #expect(misc[2...5].map { $0.number } == [255, 256, -1, Double(Int.min)])
    #expect(misc[6].number?.bitPattern == (-0.0).bitPattern)
}

@Test func torchWriterLaysOutTheZipAsTorchDoes() throws {
    let data = try TorchCheckpointWriter.serialize(sample, archiveName: "ck")
    let zip = try ZipArchive(data: data)
    // Record order as in the real fastai file (storages collapsed), and the small records' text.
    let reference = try ZipArchive(data: Fixtures.data("model/tiny.pth"))
    #expect(recordOrder(zip) == recordOrder(reference))
    for name in [".format_version", ".storage_alignment", "byteorder", "version"] {
        let refPrefix = String(reference.entries[0].name.prefix { $0 != "/" }) + "/"
        #expect(try zip.data(for: "ck/" + name) == reference.data(for: refPrefix + name), "\(name)")
    }
    // Storages: one per distinct storage (the alias shares emb's), keys 0, 1, … in first use.
    #expect(entryNames(zip).filter { $0.hasPrefix("data/") } == ["data/0", "data/1", "data/2", "data/3"])
    for e in zip.entries {
        #expect(e.dataOffset % 64 == 0, "\(e.name) starts at byte \(e.dataOffset)")
        _ = try zip.data(for: e, verify: true)   // the directory's CRC-32 matches the bytes
    }
    #expect(try zip.data(for: "ck/data/3") == Data(withUnsafeBytes(of: Int64.max.littleEndian) { Array($0) }))
    // Local headers as torch writes them: flags 0x0808 (data descriptor, UTF-8), method 0, and an
    // `FB` extra field of 'Z' padding; a data descriptor with the CRC and sizes after the data.
    let bytes = [UInt8](data)
    func u16(_ i: Int) -> Int { Int(bytes[i]) | Int(bytes[i + 1]) << 8 }
    func u32(_ i: Int) -> UInt32 { (0..<4).reduce(0) { $0 | UInt32(bytes[i + $1]) << (8 * UInt32($1)) } }
    var pos = 0
    for e in zip.entries {
        #expect(u32(pos) == 0x0403_4B50 && u16(pos + 6) == 0x0808 && u16(pos + 8) == 0)
        let nameLen = u16(pos + 26), extraLen = u16(pos + 28)
        #expect(bytes[pos + 30 + nameLen] == 0x46 && bytes[pos + 31 + nameLen] == 0x42 && u16(pos + 32 + nameLen) == extraLen - 4)
        #expect(bytes[(pos + 34 + nameLen) ..< (pos + 30 + nameLen + extraLen)].allSatisfy { $0 == 0x5A })
        let end = e.dataOffset + e.size
        #expect(u32(end) == 0x0807_4B50 && u32(end + 4) == e.crc32 && Int(u32(end + 8)) == e.size && Int(u32(end + 12)) == e.size)
        pos = end + 16
    }
    // The same value gives the same bytes (the serialization id comes from the pickle), and
    // the writer recognises its own file but not fastai's.
    #expect(try TorchCheckpointWriter.serialize(sample, archiveName: "ck") == data)
    #expect(TorchCheckpointWriter.wrote(zip))
    #expect(!TorchCheckpointWriter.wrote(reference))
}

@Test func torchWriterPickleUsesOnlyWeightsOnlyGlobals() throws {
    // torch.load(weights_only=True) allows, by default, OrderedDict, _rebuild_tensor_v2 and the
    // typed storage classes (torch/_weights_only_unpickler.py, _get_allowed_globals); the
    // writer's pickle must pass a reader restricted to exactly the writer's list.
    #expect(TorchCheckpointWriter.allowedGlobals ==
            ["collections.OrderedDict", "torch._utils._rebuild_tensor_v2", "torch.FloatStorage", "torch.LongStorage"])
    let zip = try ZipArchive(data: TorchCheckpointWriter.serialize(sample, archiveName: "ck"))
    let (doc, _) = try TorchCheckpointReader.pickle(of: zip, policy: .allowList(TorchCheckpointWriter.allowedGlobals), source: "ck")
    let used = Set(doc.nodes.compactMap(\.className))
    #expect(used == ["collections.OrderedDict", "torch._utils._rebuild_tensor_v2"])
    // Protocol 2, as fastai's learn.save asks of torch.save.
    let pickle = [UInt8](try zip.data(for: "ck/data.pkl"))
    #expect(pickle.prefix(2) == [0x80, 0x02] && pickle.last == 0x2E)
}

@Test func torchWriterRefusesWhatTorchCouldNotRead() throws {
    func message(_ v: TorchSaveValue, _ name: String = "ck") -> String? {
        do { _ = try TorchCheckpointWriter.serialize(v, archiveName: name); return nil } catch { return "\(error)" }
    }
    let a = StoredTensor(float32: Tensor(shape: [2], data: [1, 2])), b = StoredTensor(float32: Tensor(shape: [2], data: [1, 3]))
    #expect(message(.list([.tensor(a, storage: "w"), .tensor(b, storage: "w")])) == "torch checkpoint: tensors sharing storage 'w' differ")
    #expect(message(.none, "a/b") == "torch checkpoint: archive name 'a/b' must be one plain name")
    var deep = TorchSaveValue.none
    for _ in 0..<100 { deep = .list([deep]) }
    #expect(message(deep)?.contains("nested deeper") == true)
}

@Test func vocabularyPickleIsTheOnePythonWrites() throws {
    // The fixture is CPython's pickle.dump of the list at protocol 2: the writer gives the same
    // bytes when no token repeats (CPython memoizes repeats by object identity, which text
    // cannot show), and always the same list.
    let fixture = [UInt8](try Fixtures.data("model/tiny_vocab_p2.pkl"))
    let itos = try FastaiVocab.parse(fixture)
    let written = FastaiVocab.serialized(itos)
    #expect(try FastaiVocab.parse(written) == itos)
    if Set(itos).count == itos.count { #expect(written == fixture) }
    // Beyond 256 memo entries (LONG_BINPUT) and 1,000 items (several APPENDS batches).
    let long = (0..<2500).map { "tok\($0)" } + ["é", ""]
    #expect(try FastaiVocab.parse(FastaiVocab.serialized(long)) == long)
}

@Test func pickleWriterIntsAreCPythonsOpcodes() {
    // CPython 3.11 pickle.dumps(v, 2), without PROTO and STOP.
    let cases: [(Int, [UInt8])] = [
        (255, [0x4B, 0xFF]), (256, [0x4D, 0x00, 0x01]), (65535, [0x4D, 0xFF, 0xFF]), (65536, [0x4A, 0, 0, 1, 0]),
        (-1, [0x4A, 0xFF, 0xFF, 0xFF, 0xFF]), (Int(Int32.min), [0x4A, 0, 0, 0, 0x80]),
        (1 << 31, [0x8A, 5, 0, 0, 0, 0x80, 0]), (-(1 << 31) - 1, [0x8A, 5, 0xFF, 0xFF, 0xFF, 0x7F, 0xFF]),
        (Int.max, [0x8A, 8, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F]), (Int.min, [0x8A, 8, 0, 0, 0, 0, 0, 0, 0, 0x80]),
    ]
    for (v, expected) in cases {
        var p = PickleWriter()
        p.int(v)
        #expect(Array(p.finish().dropFirst(2).dropLast()) == expected, "\(v)")
    }
    var p = PickleWriter()
    p.double(1e-5)
    #expect(Array(p.finish().dropFirst(2).dropLast()) == [0x47, 0x3E, 0xE4, 0xF8, 0xB5, 0x88, 0xE3, 0x68, 0xF1])
}
