import Files
import Foundation
import Tensor

/// A Python value for `TorchCheckpointWriter`: what would be handed to `torch.save`.
public indirect enum TorchSaveValue: Sendable {
    case none
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    /// A tensor. Tensors given the same `storage` name share one storage in the file, as tied
    /// parameters do in PyTorch (they must then be equal); nil gives the tensor its own.
    case tensor(StoredTensor, storage: String?)
    case list([TorchSaveValue])
    case dict([(key: String, value: TorchSaveValue)])
    /// `collections.OrderedDict`, the type of a PyTorch `state_dict`.
    case orderedDict([(key: String, value: TorchSaveValue)])
}

extension StoredTensor {
    /// A float32 tensor (`torch.float32`, `FloatStorage`).
    public init(float32 t: Tensor) {
        self.init(shape: t.shape, elements: .float(t.data), storageType: "FloatStorage")
    }

    /// An int64 tensor (`torch.int64`, `LongStorage`), such as BatchNorm's `num_batches_tracked`.
    public init(int64 values: [Int64], shape: [Int]) {
        precondition(shape.reduce(1, *) == values.count, "int64 tensor shape (programmer error)")
        self.init(shape: shape, elements: .int(values), storageType: "LongStorage")
    }
}

/// Writes a `torch.save` file (the zip format of PyTorch ≥ 1.6), the counterpart of
/// `TorchCheckpointReader`: `ARCHIVE/data.pkl` (pickle protocol 2, storages as persistent ids
/// `('storage', torch.FloatStorage, key, 'cpu', numel)`), one raw little-endian `ARCHIVE/data/KEY`
/// per storage (keys `0`, `1`, … in order of first use), `.format_version`, `.storage_alignment`,
/// `byteorder`, `version` and `.data/serialization_id`, laid out by `ZipWriter` as torch does.
///
/// Only `allowedGlobals` appear in the pickle, all of them in the default allow-list of
/// `torch.load(..., weights_only=True)`, so PyTorch loads the file without running code.
///
///     let data = try TorchCheckpointWriter.serialize(.orderedDict([("w", .tensor(.init(float32: w), storage: nil))]),
///                                                     archiveName: "model")
public enum TorchCheckpointWriter {
    /// Every global the writer may emit.
    public static let allowedGlobals: Set<String> = [
        "collections.OrderedDict", "torch._utils._rebuild_tensor_v2", "torch.FloatStorage", "torch.LongStorage",
    ]

    /// The bytes of the file; `archiveName` is the folder inside the zip (torch uses the file's
    /// name without its extension).
    public static func serialize(_ value: TorchSaveValue, archiveName: String) throws -> Data {
        guard !archiveName.isEmpty, !archiveName.contains("/") else {
            throw ArchiveError("torch checkpoint: archive name '\(archiveName)' must be one plain name")
        }
        var storages = Storages()
        var p = PickleWriter()
        try write(value, &p, &storages, depth: 0)
        let pickle = p.finish()
        var zip = ZipWriter(alignment: 64)
        let dir = archiveName + "/"
        try zip.add(dir + "data.pkl", pickle)
        try zip.add(dir + ".format_version", Array("1".utf8))
        try zip.add(dir + ".storage_alignment", Array("64".utf8))
        try zip.add(dir + "byteorder", Array("little".utf8))
        for (key, tensor) in storages.ordered {
            try zip.add(dir + "data/" + key) { out in appendLittleEndian(tensor.elements, to: &out) }
        }
        try zip.add(dir + "version", Array("3\n".utf8))
        try zip.add(dir + ".data/serialization_id", Array(serializationID(pickle).utf8))
        return try zip.finish()
    }

    /// Whether `zip` is a file this writer made: its `.data/serialization_id` is the one derived
    /// from its pickle (torch's own ids are random, so another file matches by chance only).
    public static func wrote(_ zip: ZipArchive) -> Bool {
        guard let entry = zip.entries.first(where: { $0.name.hasSuffix("/data.pkl") }),
              let pickle = try? zip.data(for: entry),
              let id = try? zip.data(for: String(entry.name.dropLast("data.pkl".count)) + ".data/serialization_id") else {
            return false
        }
        return String(decoding: id, as: UTF8.self) == serializationID([UInt8](pickle))
    }

    /// Storages in order of first use, and the key each named (shared) storage got.
    struct Storages {
        var ordered: [(key: String, tensor: StoredTensor)] = []
        var named: [String: Int] = [:]

        /// The key of the storage for `t`: a new one, or the named storage it shares.
        mutating func key(for t: StoredTensor, name: String?) throws -> String {
            if let name, let i = named[name] {
                guard ordered[i].tensor == t else {
                    throw ArchiveError("torch checkpoint: tensors sharing storage '\(name)' differ")
                }
                return ordered[i].key
            }
            ordered.append((String(ordered.count), t))
            if let name { named[name] = ordered.count - 1 }
            return ordered[ordered.count - 1].key
        }
    }

    static func write(_ v: TorchSaveValue, _ p: inout PickleWriter, _ s: inout Storages, depth: Int) throws {
        guard depth < TorchCheckpointReader.maxDepth else {
            throw ArchiveError("torch checkpoint: values nested deeper than \(TorchCheckpointReader.maxDepth) levels")
        }
        switch v {
        case .none: p.none()
        case .bool(let b): p.bool(b)
        case .int(let i): p.int(i)
        case .double(let d): p.double(d)
        case .string(let str): p.string(str)
        case .tensor(let t, let name): try tensor(t, key: try s.key(for: t, name: name), &p)
        case .list(let items):
            var failure: Error?
            p.list(count: items.count) { w, i in
                guard failure == nil else { return }
                do { try write(items[i], &w, &s, depth: depth + 1) } catch { failure = error }
            }
            if let failure { throw failure }
        case .dict(let pairs):
            try pairsOf(pairs, &p, &s, depth: depth) { p, n, item in p.dict(count: n, item) }
        case .orderedDict(let pairs):
            try pairsOf(pairs, &p, &s, depth: depth) { p, n, item in p.reduced("collections", "OrderedDict", count: n, item) }
        }
    }

    /// Writes the pairs through `container` (a dict or an OrderedDict), keys as strings.
    static func pairsOf(_ pairs: [(key: String, value: TorchSaveValue)], _ p: inout PickleWriter, _ s: inout Storages, depth: Int,
                        _ container: (inout PickleWriter, Int, (inout PickleWriter, Int) -> Void) -> Void) throws {
        var failure: Error?
        container(&p, pairs.count) { w, i in
            guard failure == nil else { return }
            w.string(pairs[i].key)
            do { try write(pairs[i].value, &w, &s, depth: depth + 1) } catch { failure = error }
        }
        if let failure { throw failure }
    }

    /// `torch._utils._rebuild_tensor_v2(storage, 0, size, stride, False, OrderedDict())`, contiguous.
    static func tensor(_ t: StoredTensor, key: String, _ p: inout PickleWriter) throws {
        let numel = t.shape.reduce(1, *)
        let count: Int
        switch t.elements { case .float(let f): count = f.count; case .int(let i): count = i.count }
        guard numel == count, t.shape.allSatisfy({ $0 >= 0 }) else {
            throw ArchiveError("torch checkpoint: a tensor of shape \(t.shape) holds \(count) values")
        }
        var strides = [Int](repeating: 1, count: t.shape.count)
        for d in stride(from: t.shape.count - 2, through: 0, by: -1) { strides[d] = strides[d + 1] * t.shape[d + 1] }
        let storageClass: String
        switch t.elements { case .float: storageClass = "FloatStorage"; case .int: storageClass = "LongStorage" }
        p.call("torch._utils", "_rebuild_tensor_v2", argCount: 6) { p in
            p.persistentID { p in
                p.tuple(count: 5) { p in
                    p.string("storage"); p.global("torch", storageClass); p.string(key); p.string("cpu"); p.int(numel)
                }
            }
            p.int(0)
            p.tuple(count: t.shape.count) { p in for d in t.shape { p.int(d) } }
            p.tuple(count: strides.count) { p in for s in strides { p.int(s) } }
            p.bool(false)
            p.call("collections", "OrderedDict", argCount: 0) { _ in }
        }
    }

    /// float32 or int64 values, little-endian.
    static func appendLittleEndian(_ e: StoredTensor.Elements, to out: inout [UInt8]) {
        // Both are stored in host order, which is little-endian on every CPU LMLab builds for.
        #if _endian(big)
        #error("TorchCheckpointWriter writes host-order storages: swap the bytes on a big-endian CPU")
        #endif
        switch e {
        case .float(let f): f.withUnsafeBytes { out += $0 }
        case .int(let ints): ints.withUnsafeBytes { out += $0 }
        }
    }

    /// torch writes a random 40-digit id; ours is derived from the pickle so that the same
    /// checkpoint gives the same bytes.
    static func serializationID(_ pickle: [UInt8]) -> String {
        var g = SeededGenerator(seed: UInt64(CRC32.checksum(pickle)) << 32 | UInt64(pickle.count & 0xFFFF_FFFF))
        let a = g.next() % 10_000_000_000_000_000_000, b = g.next() % 10_000_000_000_000_000_000
        return String(repeating: "0", count: 20 - String(a).count) + String(a)
            + String(repeating: "0", count: 20 - String(b).count) + String(b)
    }
}
