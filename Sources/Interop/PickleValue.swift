/// A value produced by `PickleMachine`. Nothing in a pickle is ever executed: a call
/// (`REDUCE`, `NEWOBJ`) is recorded as an inert `PickleNode` of kind `.object` that names
/// the global and its arguments, and the caller decides how to interpret it.
///
/// Containers are `PickleNode` references owned by a `PickleDocument`, so shared and
/// self-referencing values (pickle's memo) keep their identity and a hostile, deeply
/// nested pickle cannot overflow the stack when it is freed.
public enum PickleValue: Sendable {
    case none
    case bool(Bool)
    case int(Int)
    /// An integer too large for `Int`: little-endian two's-complement bytes.
    case bigInt([UInt8])
    case float(Double)
    case string(String)
    case bytes([UInt8])
    /// A `module.name` reference (`GLOBAL` / `STACK_GLOBAL`); never imported or run.
    case global(module: String, name: String)
    case node(PickleNode)

    public var string: String? { if case .string(let s) = self { return s } else { return nil } }
    public var int: Int? { if case .int(let i) = self { return i } else { return nil } }
    public var node: PickleNode? { if case .node(let n) = self { return n } else { return nil } }

    /// `"module.name"` for a global, nil otherwise.
    public var globalName: String? {
        if case .global(let m, let n) = self { return m + "." + n } else { return nil }
    }

    /// Short description for error messages.
    var kindName: String {
        switch self {
        case .none: "None"
        case .bool: "bool"
        case .int, .bigInt: "int"
        case .float: "float"
        case .string: "str"
        case .bytes: "bytes"
        case .global(let m, let n): "global \(m).\(n)"
        case .node(let n): "\(n.kind)"
        }
    }
}

/// A container or recorded call inside a pickle.
public final class PickleNode: @unchecked Sendable {
    public enum Kind: String, Sendable { case tuple, list, dict, set, object, persistentID }
    public let kind: Kind
    /// Elements of a tuple, list or set; items appended to an object (`APPEND(S)`);
    /// for a persistent id, its single argument.
    public internal(set) var items: [PickleValue] = []
    /// Entries of a dict, or items set on an object (`SETITEM(S)`), in insertion order.
    public internal(set) var pairs: [(key: PickleValue, value: PickleValue)] = []
    /// For an object: the callable (usually a global), its argument tuple, and the
    /// state passed to `BUILD` (nil if none).
    public internal(set) var callable: PickleValue = .none
    public internal(set) var args: [PickleValue] = []
    public internal(set) var state: PickleValue? = nil

    init(_ kind: Kind) { self.kind = kind }

    /// The value stored under string key `key` in a dict (first match).
    public subscript(key: String) -> PickleValue? {
        for p in pairs { if case .string(let k) = p.key, k == key { return p.value } }
        return nil
    }

    /// For an object, `"module.name"` of its callable.
    public var className: String? { callable.globalName }

    /// Drops all references (used by `PickleDocument` to free without recursion).
    func clear() {
        items = []; pairs = []; args = []; callable = .none; state = nil
    }
}

/// The result of unpickling: the root value plus every node created, which the document
/// owns. Nodes must not be used after the document is released (they are emptied).
public final class PickleDocument: @unchecked Sendable {
    public let root: PickleValue
    /// Every node created while unpickling, in creation order.
    public let nodes: [PickleNode]
    /// Protocol number from `PROTO` (0 if absent).
    public let proto: Int

    init(root: PickleValue, nodes: [PickleNode], proto: Int) {
        self.root = root; self.nodes = nodes; self.proto = proto
    }

    deinit {
        // Break every link first so releasing a long chain of nodes never recurses deeply.
        for n in nodes { n.clear() }
    }
}
