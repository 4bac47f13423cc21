/// A small pickle virtual machine for the data-only subset used by `torch.save`,
/// fastai's vocabulary files and (read-only inspection of) `learn.export`.
///
/// It never imports or runs anything. `GLOBAL` pushes an inert name; `REDUCE`/`NEWOBJ`
/// record a call node. Under `.allowList`, a global outside the list is an error at the
/// point it appears, so a checkpoint that needs code we do not understand is refused.
///
/// Memory is bounded by the input: every length is checked against the remaining
/// bytes before anything is allocated, and node, memo and stack sizes are capped.
///
///     let doc = try PickleMachine(policy: .allowList(["collections.OrderedDict"])).run(bytes)
public struct PickleMachine {
    /// Which globals may appear.
    public enum Policy: Sendable {
        /// Only these `"module.name"` globals; anything else throws.
        case allowList(Set<String>)
        /// Any global is accepted as an inert reference (for inspecting files).
        case inspectOnly
    }

    /// Caps that keep a hostile pickle from using unbounded memory.
    public struct Limits: Sendable {
        public var maxNodes = 5_000_000
        public var maxMemo = 5_000_000
        public var maxStack = 5_000_000
        public init() {}
    }

    public var policy: Policy
    public var limits: Limits
    /// Name used in error messages.
    public var source: String

    public init(policy: Policy, limits: Limits = Limits(), source: String = "pickle") {
        self.policy = policy; self.limits = limits; self.source = source
    }

    /// Runs the pickle in `bytes` up to its `STOP` opcode.
    public func run(_ bytes: [UInt8]) throws -> PickleDocument {
        try bytes.withUnsafeBytes { try run($0, from: 0).document }
    }

    /// Runs one pickle starting at byte `start` of `bytes` (files such as legacy
    /// `torch.save` output hold several pickles back to back); returns the document and
    /// the offset just after its `STOP`.
    public func run(_ bytes: UnsafeRawBufferPointer, from start: Int) throws -> (document: PickleDocument, end: Int) {
        guard start >= 0, start <= bytes.count else { throw ArchiveError("\(source): pickle start \(start) is outside the data") }
        var state = RunState(bytes: bytes, machine: self, start: start)
        do {
            let root = try state.execute()
            return (PickleDocument(root: root, nodes: state.nodes, proto: state.proto), state.pos)
        } catch {
            for n in state.nodes { n.clear() }
            throw error
        }
    }
}

private struct RunState {
    let bytes: UnsafeRawBufferPointer
    let machine: PickleMachine
    var pos: Int
    var stack: [PickleValue] = []
    var marks: [Int] = []
    var memo: [Int: PickleValue] = [:]
    var nodes: [PickleNode] = []
    var proto = 0

    init(bytes: UnsafeRawBufferPointer, machine: PickleMachine, start: Int) {
        self.bytes = bytes; self.machine = machine; self.pos = start
    }

    func fail(_ message: String, at offset: Int? = nil) -> ArchiveError {
        ArchiveError("\(machine.source): byte \(offset ?? pos): \(message)")
    }

    // MARK: reading arguments

    mutating func take(_ n: Int, _ what: String) throws -> Slice<UnsafeRawBufferPointer> {
        guard n >= 0, n <= bytes.count - pos else {
            throw fail("\(what) needs \(n) bytes but only \(bytes.count - pos) remain")
        }
        defer { pos += n }
        return bytes[pos ..< pos + n]
    }

    mutating func uint(_ n: Int, _ what: String) throws -> UInt64 {
        let b = try take(n, what)
        var v: UInt64 = 0
        for (i, x) in b.enumerated() { v |= UInt64(x) << (8 * i) }
        return v
    }

    mutating func length(_ n: Int, _ what: String) throws -> Int {
        let v = try uint(n, what)
        guard v <= UInt64(bytes.count - pos) else {
            throw fail("\(what) claims \(v) bytes but only \(bytes.count - pos) remain")
        }
        return Int(v)
    }

    mutating func line(_ what: String) throws -> String {
        guard let nl = bytes[pos...].firstIndex(of: 0x0A) else { throw fail("\(what): missing newline") }
        let s = String(decoding: bytes[pos ..< nl], as: UTF8.self)
        pos = nl + 1
        return s
    }

    mutating func utf8(_ n: Int, _ what: String) throws -> String {
        let b = try take(n, what)
        guard let s = String(validating: b, as: UTF8.self) else { throw fail("\(what) is not valid UTF-8") }
        return s
    }

    // MARK: stack helpers

    mutating func push(_ v: PickleValue) throws {
        guard stack.count < machine.limits.maxStack else { throw fail("stack limit exceeded") }
        stack.append(v)
    }

    mutating func pop(_ what: String) throws -> PickleValue {
        guard let v = stack.popLast(), stack.count >= (marks.last ?? 0) else {
            throw fail("\(what) on an empty stack")
        }
        return v
    }

    mutating func popMark(_ what: String) throws -> [PickleValue] {
        guard let m = marks.popLast() else { throw fail("\(what) without a MARK") }
        guard m <= stack.count else { throw fail("\(what): MARK beyond the stack") }
        let items = Array(stack[m...])
        stack.removeSubrange(m...)
        return items
    }

    mutating func newNode(_ kind: PickleNode.Kind) throws -> PickleNode {
        guard nodes.count < machine.limits.maxNodes else { throw fail("more than \(machine.limits.maxNodes) objects") }
        let n = PickleNode(kind)
        nodes.append(n)
        return n
    }

    mutating func topNode(_ what: String) throws -> PickleNode {
        guard stack.count > (marks.last ?? 0), let n = stack.last?.node else {
            throw fail("\(what) needs a list, dict or object on the stack, found \(stack.last?.kindName ?? "nothing")")
        }
        return n
    }

    mutating func memoize(_ key: Int) throws {
        guard let v = stack.last else { throw fail("memo put on an empty stack") }
        guard memo.count < machine.limits.maxMemo || memo[key] != nil else { throw fail("memo limit exceeded") }
        memo[key] = v
    }

    mutating func recall(_ key: Int) throws {
        guard let v = memo[key] else { throw fail("memo get of unknown key \(key)") }
        try push(v)
    }

    mutating func global(_ module: String, _ name: String, at offset: Int) throws {
        if case .allowList(let allowed) = machine.policy, !allowed.contains(module + "." + name) {
            throw fail("global '\(module).\(name)' is not allowed (not a plain tensor checkpoint?)", at: offset)
        }
        try push(.global(module: module, name: name))
    }

    mutating func tuple(_ items: [PickleValue]) throws {
        let n = try newNode(.tuple)
        n.items = items
        try push(.node(n))
    }

    mutating func call(_ callable: PickleValue, _ args: PickleValue, opcode: String) throws {
        // Checkpoints only call globals; inspected files may call the result of an earlier
        // call (e.g. `getattr(...)`), which is recorded like any other call.
        if case .allowList = machine.policy, case .global = callable {} else if case .allowList = machine.policy {
            throw fail("\(opcode) on a \(callable.kindName), expected a global")
        }
        guard let a = args.node, a.kind == .tuple else { throw fail("\(opcode) arguments are a \(args.kindName), expected a tuple") }
        let n = try newNode(.object)
        n.callable = callable
        n.args = a.items
        try push(.node(n))
    }

    // MARK: the loop

    mutating func execute() throws -> PickleValue {
        while true {
            let at = pos
            guard pos < bytes.count else { throw fail("pickle ends without STOP") }
            let op = bytes[pos]
            pos += 1
            switch op {
            case 0x80: // PROTO
                proto = Int(try uint(1, "PROTO"))
                guard proto <= 5 else { throw fail("unsupported pickle protocol \(proto)", at: at) }
            case 0x95: _ = try length(8, "FRAME") // a read-ahead hint, but it may not claim more than is there
            case 0x2E: // STOP
                guard marks.isEmpty else { throw fail("STOP with an open MARK", at: at) }
                return try pop("STOP")
            case 0x28: marks.append(stack.count) // MARK
            case 0x30: _ = try pop("POP") // POP
            case 0x31: _ = try popMark("POP_MARK")
            case 0x32: // DUP
                guard let v = stack.last else { throw fail("DUP on an empty stack", at: at) }
                try push(v)

            case 0x4E: try push(.none)
            case 0x88: try push(.bool(true))
            case 0x89: try push(.bool(false))
            case 0x4A: try push(.int(Int(Int32(truncatingIfNeeded: try uint(4, "BININT"))))) // BININT
            case 0x4B: try push(.int(Int(try uint(1, "BININT1"))))
            case 0x4D: try push(.int(Int(try uint(2, "BININT2"))))
            case 0x8A, 0x8B: // LONG1, LONG4
                let n = try length(op == 0x8A ? 1 : 4, "LONG")
                let b = Array(try take(n, "LONG"))
                try push(Self.integer(b))
            case 0x47: // BINFLOAT (big-endian)
                let b = try take(8, "BINFLOAT")
                var v: UInt64 = 0
                for x in b { v = v << 8 | UInt64(x) }
                try push(.float(Double(bitPattern: v)))

            case 0x58: let n = try length(4, "BINUNICODE"); try push(.string(try utf8(n, "BINUNICODE")))
            case 0x8C: let n = try length(1, "SHORT_BINUNICODE"); try push(.string(try utf8(n, "SHORT_BINUNICODE")))
            case 0x8D: let n = try length(8, "BINUNICODE8"); try push(.string(try utf8(n, "BINUNICODE8")))
            case 0x42: let n = try length(4, "BINBYTES"); try push(.bytes(Array(try take(n, "BINBYTES"))))
            case 0x43: let n = try length(1, "SHORT_BINBYTES"); try push(.bytes(Array(try take(n, "SHORT_BINBYTES"))))
            case 0x8E: let n = try length(8, "BINBYTES8"); try push(.bytes(Array(try take(n, "BINBYTES8"))))
            case 0x54, 0x55: // BINSTRING, SHORT_BINSTRING: Python 2 str, read as Latin-1
                let n = try length(op == 0x54 ? 4 : 1, "BINSTRING")
                let b = try take(n, "BINSTRING")
                try push(.string(String(b.map { Character(Unicode.Scalar($0)) })))

            case 0x29: try tuple([]) // EMPTY_TUPLE
            case 0x85: try tuple([try pop("TUPLE1")])
            case 0x86: let b = try pop("TUPLE2"), a = try pop("TUPLE2"); try tuple([a, b])
            case 0x87: let c = try pop("TUPLE3"), b = try pop("TUPLE3"), a = try pop("TUPLE3"); try tuple([a, b, c])
            case 0x74: try tuple(try popMark("TUPLE"))
            case 0x5D: try push(.node(try newNode(.list))) // EMPTY_LIST
            case 0x7D: try push(.node(try newNode(.dict))) // EMPTY_DICT
            case 0x8F: try push(.node(try newNode(.set))) // EMPTY_SET
            case 0x6C: // LIST
                let items = try popMark("LIST")
                let n = try newNode(.list); n.items = items; try push(.node(n))
            case 0x91: // FROZENSET
                let items = try popMark("FROZENSET")
                let n = try newNode(.set); n.items = items; try push(.node(n))
            case 0x64: // DICT
                let items = try popMark("DICT")
                guard items.count % 2 == 0 else { throw fail("DICT with an odd number of items", at: at) }
                let n = try newNode(.dict)
                n.pairs = stride(from: 0, to: items.count, by: 2).map { (items[$0], items[$0 + 1]) }
                try push(.node(n))
            case 0x61: // APPEND
                let v = try pop("APPEND")
                try append([v], at: at)
            case 0x65, 0x90: // APPENDS, ADDITEMS
                let items = try popMark("APPENDS")
                try append(items, at: at)
            case 0x73: // SETITEM
                let v = try pop("SETITEM"), k = try pop("SETITEM")
                try setItems([k, v], at: at)
            case 0x75: // SETITEMS
                let items = try popMark("SETITEMS")
                guard items.count % 2 == 0 else { throw fail("SETITEMS with an odd number of items", at: at) }
                try setItems(items, at: at)

            case 0x71: try memoize(Int(try uint(1, "BINPUT")))
            case 0x72: try memoize(Int(try uint(4, "LONG_BINPUT")))
            case 0x94: try memoize(memo.count) // MEMOIZE
            case 0x68: try recall(Int(try uint(1, "BINGET")))
            case 0x6A: try recall(Int(try uint(4, "LONG_BINGET")))

            case 0x63: // GLOBAL
                let module = try line("GLOBAL module"), name = try line("GLOBAL name")
                try global(module, name, at: at)
            case 0x93: // STACK_GLOBAL
                let name = try pop("STACK_GLOBAL"), module = try pop("STACK_GLOBAL")
                guard let m = module.string, let n = name.string else { throw fail("STACK_GLOBAL needs two strings", at: at) }
                try global(m, n, at: at)
            case 0x52: // REDUCE
                let args = try pop("REDUCE"), callable = try pop("REDUCE")
                try call(callable, args, opcode: "REDUCE")
            case 0x81: // NEWOBJ
                let args = try pop("NEWOBJ"), cls = try pop("NEWOBJ")
                try call(cls, args, opcode: "NEWOBJ")
            case 0x92: // NEWOBJ_EX (keyword arguments are kept as a trailing dict argument)
                let kwargs = try pop("NEWOBJ_EX"), args = try pop("NEWOBJ_EX"), cls = try pop("NEWOBJ_EX")
                try call(cls, args, opcode: "NEWOBJ_EX")
                if let n = stack.last?.node { n.args.append(kwargs) }
            case 0x62: // BUILD
                let st = try pop("BUILD")
                let target = try topNode("BUILD")
                guard target.kind == .object else { throw fail("BUILD on a \(target.kind)", at: at) }
                target.state = st
            case 0x51: // BINPERSID
                let pid = try pop("BINPERSID")
                let n = try newNode(.persistentID)
                n.items = [pid]
                try push(.node(n))
            default:
                throw fail("unsupported pickle opcode 0x\(String(op, radix: 16))", at: at)
            }
        }
    }

    mutating func append(_ items: [PickleValue], at: Int) throws {
        let target = try topNode("APPEND")
        guard target.kind == .list || target.kind == .set || target.kind == .object else {
            throw fail("APPEND to a \(target.kind)", at: at)
        }
        target.items.append(contentsOf: items)
    }

    mutating func setItems(_ items: [PickleValue], at: Int) throws {
        let target = try topNode("SETITEM")
        guard target.kind == .dict || target.kind == .object else { throw fail("SETITEM on a \(target.kind)", at: at) }
        for i in stride(from: 0, to: items.count, by: 2) { target.pairs.append((items[i], items[i + 1])) }
    }

    /// Little-endian two's-complement bytes → an Int when it fits.
    static func integer(_ b: [UInt8]) -> PickleValue {
        if b.isEmpty { return .int(0) }
        if b.count > 8 {
            let sign: UInt8 = b.last! & 0x80 != 0 ? 0xFF : 0
            if b[8...].allSatisfy({ $0 == sign }) && (b[7] & 0x80) == (sign & 0x80) {
                return integer(Array(b[..<8]))
            }
            return .bigInt(b)
        }
        var v: UInt64 = 0
        for (i, x) in b.enumerated() { v |= UInt64(x) << (8 * i) }
        if b.count < 8, b.last! & 0x80 != 0 { v |= ~0 << (8 * UInt64(b.count)) }
        return .int(Int(Int64(bitPattern: v)))
    }
}
