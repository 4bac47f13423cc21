import Foundation

/// Writes Python pickle bytes, protocol 2, opcode by opcode: the counterpart of
/// `PickleMachine` for the few kinds of value LMLab writes (checkpoints, vocabularies).
///
/// Opcodes are chosen as CPython's pickler chooses them at protocol 2 (`BININT1`/`BININT2`/
/// `BININT`/`LONG1` by size, `TUPLE1`…`TUPLE3` for short tuples, `SETITEMS`/`APPENDS` in
/// batches of 1,000) and memoizing as it does (`BINPUT` after every string, global, list,
/// dict, non-empty tuple and `REDUCE` result), so the bytes read like a file written by
/// `pickle` or `torch.save`. A string or global written again costs a `BINGET`.
///
///     var p = PickleWriter()
///     let itos = ["xxunk", "xxpad"]
///     p.list(count: itos.count) { p, i in p.string(itos[i]) }
///     let bytes = p.finish()          // pickle.loads(bytes) == ['xxunk', 'xxpad']
public struct PickleWriter {
    /// The bytes so far (starting with `PROTO 2`).
    public private(set) var bytes: [UInt8] = [0x80, 0x02]
    /// Memo indices of strings and globals already written, by value.
    private var memo: [String: Int] = [:]
    private var memoCount = 0

    public init() {}

    /// Ends the pickle (`STOP`) and returns its bytes.
    public mutating func finish() -> [UInt8] {
        op(0x2E)
        return bytes
    }

    // MARK: scalars

    public mutating func none() { op(0x4E) }
    public mutating func bool(_ b: Bool) { op(b ? 0x88 : 0x89) }

    /// An int in the shortest form CPython uses (`BININT1`, `BININT2`, `BININT`, else `LONG1`).
    public mutating func int(_ v: Int) {
        if v >= 0 && v <= 0xFF {
            op(0x4B); bytes.append(UInt8(v))
        } else if v >= 0 && v <= 0xFFFF {
            op(0x4D); le(UInt64(v), 2)
        } else if v >= Int(Int32.min) && v <= Int(Int32.max) {
            op(0x4A); le(UInt64(UInt32(bitPattern: Int32(v))), 4)
        } else {
            // LONG1: little-endian two's complement, as few bytes as keep the sign.
            var digits: [UInt8] = []
            var x = v
            repeat {
                digits.append(UInt8(truncatingIfNeeded: x))
                x >>= 8
            } while !(x == 0 && digits.last! < 0x80) && !(x == -1 && digits.last! >= 0x80)
            op(0x8A); bytes.append(UInt8(digits.count)); bytes += digits
        }
    }

    /// `BINFLOAT`: an IEEE double, big-endian.
    public mutating func double(_ d: Double) {
        op(0x47)
        let b = d.bitPattern
        for i in stride(from: 56, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: b >> UInt64(i))) }
    }

    /// `BINUNICODE` (UTF-8), memoized.
    public mutating func string(_ s: String) {
        if recall("s" + s) { return }
        let u = Array(s.utf8)
        op(0x58); le(UInt64(u.count), 4); bytes += u
        remember("s" + s)
    }

    /// `GLOBAL module\nname\n`, memoized.
    public mutating func global(_ module: String, _ name: String) {
        let key = "g\(module).\(name)"
        if recall(key) { return }
        op(0x63); bytes += Array("\(module)\n\(name)\n".utf8)
        remember(key)
    }

    // MARK: containers

    /// A tuple of the values `items` writes; short tuples use `EMPTY_TUPLE`/`TUPLE1…3`.
    public mutating func tuple(count: Int, _ items: (inout PickleWriter) -> Void) {
        switch count {
        case 0: op(0x29)
        case 1...3: items(&self); op([0x85, 0x86, 0x87][count - 1]); put()
        default: op(0x28); items(&self); op(0x74); put()
        }
    }

    /// `EMPTY_LIST` then the items, `APPENDS` in batches of 1,000 (`APPEND` for a batch of one).
    public mutating func list(count: Int, _ item: (inout PickleWriter, Int) -> Void) {
        op(0x5D); put()
        batches(count, single: 0x61, many: 0x65) { item(&$0, $1) }
    }

    /// `EMPTY_DICT` then the pairs, `SETITEMS` in batches of 1,000 (`SETITEM` for one).
    /// `pair` writes the key then the value of pair `i`.
    public mutating func dict(count: Int, _ pair: (inout PickleWriter, Int) -> Void) {
        op(0x7D); put()
        batches(count, single: 0x73, many: 0x75) { pair(&$0, $1) }
    }

    /// `cls()` rebuilt by `REDUCE` with no arguments (how `OrderedDict` and friends start), the
    /// items then added by `SETITEMS` like a dict's.
    public mutating func reduced(_ module: String, _ name: String, count: Int, _ pair: (inout PickleWriter, Int) -> Void) {
        global(module, name); op(0x29); op(0x52); put()
        batches(count, single: 0x73, many: 0x75) { pair(&$0, $1) }
    }

    /// `callable(*args)`: the global, the argument tuple, `REDUCE`.
    public mutating func call(_ module: String, _ name: String, argCount: Int, _ args: (inout PickleWriter) -> Void) {
        global(module, name)
        tuple(count: argCount, args)
        op(0x52); put()
    }

    /// `BINPERSID`: the persistent id written by `pid` (a storage reference in torch files).
    public mutating func persistentID(_ pid: (inout PickleWriter) -> Void) {
        pid(&self); op(0x51)
    }

    // MARK: low level

    private mutating func batches(_ n: Int, single: UInt8, many: UInt8, _ item: (inout PickleWriter, Int) -> Void) {
        var start = 0
        while start < n {
            let end = min(start + 1000, n)
            if end - start == 1 {
                item(&self, start); op(single)
            } else {
                op(0x28)
                for i in start..<end { item(&self, i) }
                op(many)
            }
            start = end
        }
    }

    private mutating func op(_ code: UInt8) { bytes.append(code) }

    private mutating func le(_ v: UInt64, _ n: Int) {
        for i in 0..<n { bytes.append(UInt8(truncatingIfNeeded: v >> UInt64(8 * i))) }
    }

    private mutating func recall(_ key: String) -> Bool {
        guard let i = memo[key] else { return false }
        if i < 256 { op(0x68); bytes.append(UInt8(i)) } else { op(0x6A); le(UInt64(i), 4) }
        return true
    }

    private mutating func remember(_ key: String) {
        memo[key] = memoCount
        put()
    }

    /// `BINPUT`/`LONG_BINPUT` of the value just written, at the next memo index.
    private mutating func put() {
        let i = memoCount
        memoCount += 1
        if i < 256 { op(0x71); bytes.append(UInt8(i)) } else { op(0x72); le(UInt64(i), 4) }
    }
}
