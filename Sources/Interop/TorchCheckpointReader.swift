import Files
import Foundation

/// Reads a PyTorch `torch.save` file (zip container, protocol-2 pickle) without Python.
///
/// Only data is understood: dicts, lists, tuples, scalars, `OrderedDict`, tensors rebuilt
/// by `torch._utils._rebuild_tensor_v2` / `_rebuild_parameter` from typed storages, plus
/// the few extra globals a fastai `learn.save` file needs for its optimizer state
/// (`fastcore.foundation.L`, numpy scalars). Any other global is refused.
///
///     let value = try TorchCheckpointReader.load(url)
///     let w = value["model"]?["0.encoder.weight"]?.tensor
public enum TorchCheckpointReader {
    /// Globals accepted in a checkpoint pickle.
    public static let allowedGlobals: Set<String> = {
        var s: Set<String> = [
            "collections.OrderedDict",
            "torch._utils._rebuild_tensor_v2",
            "torch._utils._rebuild_parameter",
            "torch.device",
            "fastcore.foundation.L",
            "numpy.core.multiarray.scalar", "numpy._core.multiarray.scalar",
            "numpy.dtype",
            "_codecs.encode",
        ]
        for t in StorageType.all.keys { s.insert("torch." + t) }
        return s
    }()

    /// Maximum nesting of lists/dicts accepted when converting the pickle.
    public static let maxDepth = 64

    /// Loads and interprets the checkpoint at `url`: the zip format (PyTorch ≥ 1.6) or the
    /// legacy format (back-to-back pickles followed by raw storages, PyTorch < 1.6, as in
    /// older published fastai weights).
    public static func load(_ url: URL) throws -> TorchValue {
        let data: Data
        do { data = try Data(contentsOf: url, options: .alwaysMapped) } catch {
            throw ArchiveError("\(url.path): cannot read file (\(FileErrors.reason(error)))")
        }
        return try read(data, source: url.lastPathComponent)
    }

    /// Interprets checkpoint bytes in either format.
    public static func read(_ data: Data, source: String = "checkpoint") throws -> TorchValue {
        let head = [UInt8](data.prefix(4))
        if head == [0x50, 0x4B, 0x03, 0x04] { return try read(ZipArchive(data: data, source: source), source: source) }
        if head.first == 0x80 { return try readLegacy(data, source: source) }
        throw ArchiveError("\(source): not a PyTorch checkpoint (neither a zip archive nor a legacy pickle stream)")
    }

    /// Interprets an already opened archive.
    public static func read(_ zip: ZipArchive, source: String = "checkpoint") throws -> TorchValue {
        let (doc, prefix) = try pickle(of: zip, policy: .allowList(allowedGlobals), source: source)
        if let order = try? zip.data(for: prefix + "byteorder", verify: true),
           String(decoding: order, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines) != "little" {
            throw ArchiveError("\(source): big-endian checkpoints are not supported")
        }
        var storages = StorageCache(backing: .zip(zip, prefix: prefix), source: source, nodeCount: doc.nodes.count)
        return try convert(doc.root, depth: 0, storages: &storages, source: source)
    }

    /// Legacy `torch.save`: pickles of the magic number, the protocol version (1001) and
    /// system info, then the object pickle, then the list of storage keys, then for each
    /// key in that order an 8-byte little-endian element count and the raw elements.
    static func readLegacy(_ data: Data, source: String) throws -> TorchValue {
        let data = data.startIndex == 0 ? data : Data(data)
        return try data.withUnsafeBytes { raw -> TorchValue in
            let header = PickleMachine(policy: .allowList([]), source: source)
            let (magic, p1) = try header.run(raw, from: 0)
            guard case .bigInt(let m) = magic.root, m == [0x6C, 0xFC, 0x9C, 0x46, 0xF9, 0x20, 0x6A, 0xA8, 0x50, 0x19] else {
                throw ArchiveError("\(source): not a PyTorch checkpoint (bad legacy magic number)")
            }
            let (version, p2) = try header.run(raw, from: p1)
            guard version.root.int == 1001 else { throw ArchiveError("\(source): unsupported legacy protocol version") }
            let (sysInfo, p3) = try header.run(raw, from: p2)
            if let info = sysInfo.root.node, case .bool(false)? = info["little_endian"] {
                throw ArchiveError("\(source): big-endian checkpoints are not supported")
            }
            let (doc, p4) = try PickleMachine(policy: .allowList(allowedGlobals), source: source).run(raw, from: p3)
            let (keysDoc, p5) = try header.run(raw, from: p4)
            guard let keyList = keysDoc.root.node, keyList.kind == .list else {
                throw ArchiveError("\(source): legacy storage key list is missing")
            }
            // Element widths come from the storage references in the object pickle.
            var width: [String: Int] = [:]
            for n in doc.nodes where n.kind == .persistentID {
                if let t = n.items.first?.node, t.items.count >= 3, case .global(_, let type) = t.items[1],
                   let key = t.items[2].string, let w = StorageType.all[type] { width[key] = w }
            }
            var ranges: [String: Range<Int>] = [:]
            var pos = p5
            let r = ByteReader(bytes: raw, source: source)
            for k in keyList.items {
                guard let key = k.string, let w = width[key] else { throw ArchiveError("\(source): legacy storage key without a reference") }
                let count = try r.size64(pos, "element count of storage '\(key)'")
                let (bytes, o) = count.multipliedReportingOverflow(by: w)
                guard !o else { throw ArchiveError("\(source): storage '\(key)' size overflows") }
                try r.need(pos + 8, bytes, "storage '\(key)'")
                ranges[key] = (pos + 8) ..< (pos + 8 + bytes)
                pos += 8 + bytes
            }
            var storages = StorageCache(backing: .legacy(data, ranges), source: source, nodeCount: doc.nodes.count)
            return try convert(doc.root, depth: 0, storages: &storages, source: source)
        }
    }

    /// Finds `<folder>/data.pkl` and unpickles it under `policy`; returns the document and
    /// the folder prefix (`"tiny/"`) under which storages live.
    public static func pickle(of zip: ZipArchive, policy: PickleMachine.Policy,
                              source: String) throws -> (PickleDocument, String) {
        let candidates = zip.entries.filter { $0.name.hasSuffix("/data.pkl") || $0.name == "data.pkl" }
        guard let entry = candidates.min(by: { $0.name.count < $1.name.count }) else {
            throw ArchiveError("\(source): no data.pkl entry (not a torch.save zip file)")
        }
        let prefix = String(entry.name.dropLast("data.pkl".count))
        let bytes = [UInt8](try zip.data(for: entry))
        let doc = try PickleMachine(policy: policy, source: "\(source):\(entry.name)").run(bytes)
        return (doc, prefix)
    }

    // MARK: - Conversion of the pickle tree

    static func convert(_ v: PickleValue, depth: Int, storages: inout StorageCache, source: String) throws -> TorchValue {
        guard depth < maxDepth else { throw ArchiveError("\(source): values nested deeper than \(maxDepth) levels") }
        try storages.spend(source: source)
        switch v {
        case .none: return .none
        case .bool(let b): return .bool(b)
        case .int(let i): return .int(i)
        case .bigInt: throw ArchiveError("\(source): integer too large")
        case .float(let d): return .double(d)
        case .string(let s): return .string(s)
        case .bytes(let b): return .bytes(b)
        case .global(let m, let n): throw ArchiveError("\(source): bare global \(m).\(n) is not data")
        case .node(let node):
            switch node.kind {
            case .tuple, .list, .set:
                return .list(try node.items.map { try convert($0, depth: depth + 1, storages: &storages, source: source) })
            case .dict:
                return .dict(try pairs(node.pairs, depth: depth, storages: &storages, source: source))
            case .persistentID:
                throw ArchiveError("\(source): a storage reference outside a tensor")
            case .object:
                return try object(node, depth: depth, storages: &storages, source: source)
            }
        }
    }

    static func pairs(_ p: [(key: PickleValue, value: PickleValue)], depth: Int, storages: inout StorageCache,
                      source: String) throws -> [(key: String, value: TorchValue)] {
        try p.map { kv in
            let key: String
            switch kv.key {
            case .string(let s): key = s
            case .int(let i): key = String(i)
            default: throw ArchiveError("\(source): dict key of type \(kv.key.kindName)")
            }
            return (key, try convert(kv.value, depth: depth + 1, storages: &storages, source: source))
        }
    }

    static func object(_ node: PickleNode, depth: Int, storages: inout StorageCache, source: String) throws -> TorchValue {
        let name = node.className ?? "?"
        let args = node.args
        switch name {
        case "collections.OrderedDict":
            // OrderedDict() then SETITEMS; BUILD state carries `_metadata` (module versions), ignored.
            guard args.isEmpty || (args.count == 1 && args[0].node?.items.isEmpty == true) else {
                throw ArchiveError("\(source): OrderedDict with constructor arguments is not supported")
            }
            return .dict(try pairs(node.pairs, depth: depth, storages: &storages, source: source))
        case "torch._utils._rebuild_tensor_v2":
            return .tensor(try rebuildTensor(args, storages: &storages, source: source))
        case "torch._utils._rebuild_parameter":
            guard let first = args.first else { throw ArchiveError("\(source): _rebuild_parameter without data") }
            let t = try convert(first, depth: depth + 1, storages: &storages, source: source)
            guard case .tensor = t else { throw ArchiveError("\(source): _rebuild_parameter of a non-tensor") }
            return t
        case "torch._tensor._rebuild_from_type_v2":
            // (func, type, args, state): a tensor subclass (e.g. fastai TensorBase) around a plain rebuild.
            guard args.count >= 3, args[0].globalName == "torch._utils._rebuild_tensor_v2",
                  let inner = args[2].node, inner.kind == .tuple else {
                throw ArchiveError("\(source): unsupported _rebuild_from_type_v2 call")
            }
            return .tensor(try rebuildTensor(inner.items, storages: &storages, source: source))
        case "torch.device":
            return .string(args.compactMap(\.string).joined(separator: ":"))
        case "fastcore.foundation.L":
            // NEWOBJ(L) then BUILD({'items': [...]}) (or APPENDS).
            if let st = node.state?.node, st.kind == .dict, let items = st["items"] {
                return try convert(items, depth: depth + 1, storages: &storages, source: source)
            }
            return .list(try node.items.map { try convert($0, depth: depth + 1, storages: &storages, source: source) })
        case "numpy.core.multiarray.scalar", "numpy._core.multiarray.scalar":
            return try numpyScalar(args, depth: depth, storages: &storages, source: source)
        case "_codecs.encode":
            // _codecs.encode(text, 'latin1'): how protocol 2 stores raw bytes.
            guard args.count == 2, let text = args[0].string, let enc = args[1].string,
                  ["latin1", "latin-1", "iso-8859-1"].contains(enc.lowercased()) else {
                throw ArchiveError("\(source): unsupported _codecs.encode call")
            }
            var out: [UInt8] = []
            for u in text.unicodeScalars {
                guard u.value < 256 else { throw ArchiveError("\(source): _codecs.encode text is not Latin-1") }
                out.append(UInt8(u.value))
            }
            return .bytes(out)
        default:
            throw ArchiveError("\(source): cannot interpret a call to \(name)")
        }
    }

    /// `numpy scalar(dtype, bytes)`, with `dtype` itself `numpy.dtype('f8', False, True)` + BUILD state.
    static func numpyScalar(_ args: [PickleValue], depth: Int, storages: inout StorageCache, source: String) throws -> TorchValue {
        guard args.count == 2, let dt = args[0].node, dt.className == "numpy.dtype", let code = dt.args.first?.string else {
            throw ArchiveError("\(source): malformed numpy scalar")
        }
        guard case .bytes(let raw) = try convert(args[1], depth: depth + 1, storages: &storages, source: source) else {
            throw ArchiveError("\(source): numpy scalar without bytes")
        }
        // The dtype's state tuple holds the byte order at index 1 ('<', '>', '|' or '=').
        if let st = dt.state?.node, st.items.count > 1, st.items[1].string == ">" {
            throw ArchiveError("\(source): big-endian numpy scalar")
        }
        func le(_ n: Int) throws -> UInt64 {
            guard raw.count == n else { throw ArchiveError("\(source): numpy scalar '\(code)' has \(raw.count) bytes") }
            var v: UInt64 = 0
            for (i, b) in raw.enumerated() { v |= UInt64(b) << (8 * i) }
            return v
        }
        switch code {
        case "f8": return .double(Double(bitPattern: try le(8)))
        case "f4": return .double(Double(Float(bitPattern: UInt32(try le(4)))))
        case "i8": return .int(Int(Int64(bitPattern: try le(8))))
        case "i4": return .int(Int(Int32(bitPattern: UInt32(try le(4)))))
        case "b1": return .bool(try le(1) != 0)
        default: throw ArchiveError("\(source): unsupported numpy scalar type '\(code)'")
        }
    }

    /// `_rebuild_tensor_v2(storage, offset, size, stride, requires_grad, hooks[, metadata])`.
    static func rebuildTensor(_ args: [PickleValue], storages: inout StorageCache, source: String) throws -> StoredTensor {
        guard args.count >= 4, let pid = args[0].node, pid.kind == .persistentID,
              let offset = args[1].int, let sizeNode = args[2].node, sizeNode.kind == .tuple,
              let strideNode = args[3].node, strideNode.kind == .tuple else {
            throw ArchiveError("\(source): malformed _rebuild_tensor_v2 arguments")
        }
        let sizes = sizeNode.items.compactMap(\.int), strides = strideNode.items.compactMap(\.int)
        guard sizes.count == sizeNode.items.count, strides.count == sizes.count,
              sizes.allSatisfy({ $0 >= 0 }), strides.allSatisfy({ $0 >= 0 }), offset >= 0 else {
            throw ArchiveError("\(source): tensor with invalid size \(sizes) / stride \(strides) / offset \(offset)")
        }
        let storage = try storages.storage(for: pid)
        // Element count, refusing overflow; a checkpoint tensor never views more
        // elements than its storage holds (expanded views are not saved that way).
        var numel = 1
        for s in sizes {
            let (m, o) = numel.multipliedReportingOverflow(by: s)
            guard !o else { throw ArchiveError("\(source): tensor size \(sizes) overflows") }
            numel = m
        }
        guard numel <= storage.count else {
            throw ArchiveError("\(source): tensor of size \(sizes) views \(numel) elements but its storage '\(storage.key)' holds \(storage.count)")
        }
        if numel > 0 {
            var last = offset
            for (s, st) in zip(sizes, strides) {
                let (m, o1) = (s - 1).multipliedReportingOverflow(by: st)
                let (a, o2) = last.addingReportingOverflow(m)
                guard !o1, !o2 else { throw ArchiveError("\(source): tensor strides overflow") }
                last = a
            }
            guard last < storage.count else {
                throw ArchiveError("\(source): tensor (offset \(offset), size \(sizes), stride \(strides)) reaches element \(last) of storage '\(storage.key)' with \(storage.count) elements")
            }
        }
        // Gather in row-major order (makes non-contiguous views contiguous).
        var contiguous = true, expect = 1
        for d in stride(from: sizes.count - 1, through: 0, by: -1) where sizes[d] != 1 {
            if strides[d] != expect { contiguous = false }
            expect *= sizes[d]
        }
        func gather<T>(_ src: [T], zero: T) -> [T] {
            guard numel > 0 else { return [] }
            // Row-major views are a plain slice (a whole storage is shared, not copied).
            if contiguous {
                return offset == 0 && numel == src.count ? src : Array(src[offset ..< offset + numel])
            }
            var out = [T](repeating: zero, count: numel)
            guard numel > 0 else { return out }
            var idx = [Int](repeating: 0, count: sizes.count)
            var p = offset
            for i in 0..<numel {
                out[i] = src[p]
                var d = sizes.count - 1
                while d >= 0 {
                    idx[d] += 1
                    p += strides[d]
                    if idx[d] < sizes[d] { break }
                    p -= strides[d] * sizes[d]
                    idx[d] = 0
                    d -= 1
                }
            }
            return out
        }
        let elements: StoredTensor.Elements
        switch storage.elements {
        case .float(let f): elements = .float(gather(f, zero: 0))
        case .int(let i): elements = .int(gather(i, zero: 0))
        }
        return StoredTensor(shape: sizes, elements: elements, storageType: storage.type)
    }
}

/// PyTorch storage classes we can decode, with their element sizes.
enum StorageType {
    static let all: [String: Int] = [
        "FloatStorage": 4, "DoubleStorage": 8, "HalfStorage": 2, "BFloat16Storage": 2,
        "LongStorage": 8, "IntStorage": 4, "ShortStorage": 2, "CharStorage": 1,
        "ByteStorage": 1, "BoolStorage": 1,
    ]
}

/// Decoded storages, keyed by their archive key, so tied tensors share one decode.
struct StorageCache {
    struct Storage {
        let key: String
        let type: String
        let count: Int
        let elements: StoredTensor.Elements
    }
    /// Where storage bytes live: zip entries `<prefix>data/<key>`, or byte ranges of a legacy file.
    enum Backing {
        case zip(ZipArchive, prefix: String)
        case legacy(Data, [String: Range<Int>])
    }
    let backing: Backing
    let source: String
    var cache: [String: Storage] = [:]
    /// Values left to convert. Shared references (memo) can make a small pickle describe an
    /// exponentially large tree (a list holding itself twice, nested 60 times); a real
    /// checkpoint converts each object about once, so a budget proportional to the pickle
    /// size stops such files quickly.
    var budget: Int

    init(backing: Backing, source: String, nodeCount: Int) {
        self.backing = backing; self.source = source
        budget = 4 * nodeCount + 10_000
    }

    mutating func spend(source: String) throws {
        budget -= 1
        guard budget >= 0 else {
            throw ArchiveError("\(source): the pickle expands to far more values than it holds (shared references); refusing it")
        }
    }

    /// Decodes the storage named by a persistent id
    /// `('storage', torch.XStorage, key, location, numel[, view_metadata])`.
    mutating func storage(for pid: PickleNode) throws -> Storage {
        guard let tup = pid.items.first?.node, tup.kind == .tuple, tup.items.count >= 5,
              tup.items[0].string == "storage", case .global(let module, let type) = tup.items[1],
              module == "torch", let key = tup.items[2].string, let numel = tup.items[4].int, numel >= 0 else {
            throw ArchiveError("\(source): malformed storage reference")
        }
        if tup.items.count > 5, case .node = tup.items[5] {
            throw ArchiveError("\(source): storage views (legacy view_metadata) are not supported")
        }
        if let s = cache[key] {
            guard s.type == type else { throw ArchiveError("\(source): storage '\(key)' used as \(s.type) and \(type)") }
            return s
        }
        guard let width = StorageType.all[type] else { throw ArchiveError("\(source): unsupported storage type torch.\(type)") }
        let (bytesNeeded, overflow) = numel.multipliedReportingOverflow(by: width)
        guard !overflow else { throw ArchiveError("\(source): storage '\(key)' size overflows") }
        // Check the bytes exist before allocating anything from the claimed count.
        func decode(_ raw: UnsafeRawBufferPointer) throws -> StoredTensor.Elements {
            guard bytesNeeded <= raw.count else {
                throw ArchiveError("\(source): storage '\(key)' claims \(numel) × \(width) bytes but has \(raw.count)")
            }
            return StorageCache.decode(raw, type: type, count: numel)
        }
        let elements: StoredTensor.Elements
        switch backing {
        case .zip(let zip, let prefix):
            guard let entry = zip.entry(prefix + "data/" + key) else {
                throw ArchiveError("\(source): storage '\(key)' has no entry \(prefix)data/\(key)")
            }
            elements = try zip.withBytes(of: entry) { try decode($0) }
        case .legacy(let data, let ranges):
            guard let range = ranges[key] else { throw ArchiveError("\(source): storage '\(key)' is not in the file") }
            elements = try data.withUnsafeBytes { try decode(UnsafeRawBufferPointer(rebasing: $0[range])) }
        }
        let s = Storage(key: key, type: type, count: numel, elements: elements)
        cache[key] = s
        return s
    }

    static func decode(_ raw: UnsafeRawBufferPointer, type: String, count numel: Int) -> StoredTensor.Elements {
        func load<T: FixedWidthInteger>(_: T.Type, _ i: Int) -> T {
            T(littleEndian: raw.loadUnaligned(fromByteOffset: i * MemoryLayout<T>.size, as: T.self))
        }
        switch type {
        case "FloatStorage": return .float((0..<numel).map { Float(bitPattern: load(UInt32.self, $0)) })
        case "DoubleStorage": return .float((0..<numel).map { Float(Double(bitPattern: load(UInt64.self, $0))) })
        case "HalfStorage": return .float((0..<numel).map { halfToFloat(load(UInt16.self, $0)) })
        case "BFloat16Storage": return .float((0..<numel).map { Float(bitPattern: UInt32(load(UInt16.self, $0)) << 16) })
        case "LongStorage": return .int((0..<numel).map { Int64(bitPattern: load(UInt64.self, $0)) })
        case "IntStorage": return .int((0..<numel).map { Int64(Int32(bitPattern: load(UInt32.self, $0))) })
        case "ShortStorage": return .int((0..<numel).map { Int64(Int16(bitPattern: load(UInt16.self, $0))) })
        case "CharStorage": return .int((0..<numel).map { Int64(Int8(bitPattern: load(UInt8.self, $0))) })
        default: return .int((0..<numel).map { Int64(load(UInt8.self, $0)) }) // Byte, Bool
        }
    }
}

/// IEEE half → float (handles subnormals, infinities and NaN).
func halfToFloat(_ h: UInt16) -> Float {
    let sign = UInt32(h >> 15) << 31
    let exp = Int((h >> 10) & 0x1F), frac = UInt32(h & 0x3FF)
    if exp == 0 {
        let v = Float(frac) * 0x1p-24
        return sign != 0 ? -v : v
    }
    if exp == 31 { return Float(bitPattern: sign | 0x7F80_0000 | frac << 13) }
    return Float(bitPattern: sign | UInt32(exp - 15 + 127) << 23 | frac << 13)
}
