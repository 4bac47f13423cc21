/// A function the language can call: a builtin (`randn`) or a method bound to its
/// object (`learn.predict`). Its help comes from the same place as its code.
public struct Builtin {
    /// The name as called, e.g. `randn` or `Tensor.sum`.
    public var name: String
    /// How to call it, e.g. `randn(*shape, seed=None)`.
    public var signature: String
    /// One line: what it does.
    public var summary: String
    /// A runnable example, e.g. `randn(2, 3, seed=0)`.
    public var example: String
    /// The help topic it is listed under.
    public var topic: String
    public var call: (Arguments) throws -> Value

    public init(_ name: String, signature: String? = nil, summary: String, example: String = "",
                topic: String = "general", call: @escaping (Arguments) throws -> Value) {
        self.name = name
        self.signature = signature ?? "\(name)(…)"
        self.summary = summary
        self.example = example
        self.topic = topic
        self.call = call
    }
}

/// The arguments of one call, with typed accessors that produce one-line errors
/// naming the function and the parameter.
///
///     let n = try args.int("n", at: 1, default: 40)
///     let t = try args.float("temperature", default: 1)
///     try args.finish()   // rejects unknown keywords and extra positionals
public final class Arguments {
    public let function: String
    public let positional: [Value]
    public let keywords: [(String, Value)]
    /// The session the call runs in (for output, variables, randomness).
    public unowned let session: Session
    private var usedPositional = 0
    private var usedKeywords: Set<String> = []

    public init(function: String, positional: [Value], keywords: [(String, Value)], session: Session) {
        self.function = function
        self.positional = positional
        self.keywords = keywords
        self.session = session
    }

    public func error(_ message: String) -> LabError { LabError("\(function): \(message)") }

    /// The argument given by keyword `name` or at position `at`, if any.
    public func value(_ name: String, at position: Int? = nil) -> Value? {
        if let kw = keywords.first(where: { $0.0 == name }) { usedKeywords.insert(name); return kw.1 }
        if let i = position, i < positional.count { usedPositional = max(usedPositional, i + 1); return positional[i] }
        return nil
    }

    /// A required argument.
    public func required(_ name: String, at position: Int? = nil) throws -> Value {
        guard let v = value(name, at: position) else { throw error("missing argument '\(name)'") }
        return v
    }

    /// All positional arguments from `start` on (for `*shape`-style parameters).
    public func rest(from start: Int) -> ArraySlice<Value> {
        usedPositional = max(usedPositional, positional.count)
        return start < positional.count ? positional[start...] : []
    }

    public func int(_ name: String, at position: Int? = nil, default d: Int? = nil) throws -> Int {
        guard let v = value(name, at: position) else {
            if let d { return d }
            throw error("missing argument '\(name)'")
        }
        return try Convert.int(v, "\(function): '\(name)'")
    }

    public func optionalInt(_ name: String, at position: Int? = nil) throws -> Int? {
        guard let v = value(name, at: position), !v.isNone else { return nil }
        return try Convert.int(v, "\(function): '\(name)'")
    }

    public func double(_ name: String, at position: Int? = nil, default d: Double? = nil) throws -> Double {
        guard let v = value(name, at: position) else {
            if let d { return d }
            throw error("missing argument '\(name)'")
        }
        guard let x = v.number else { throw error("'\(name)' must be a number, got \(v.typeName)") }
        return x
    }

    public func string(_ name: String, at position: Int? = nil, default d: String? = nil) throws -> String {
        guard let v = value(name, at: position) else {
            if let d { return d }
            throw error("missing argument '\(name)'")
        }
        guard case .string(let s) = v else { throw error("'\(name)' must be a string, got \(v.typeName)") }
        return s
    }

    public func bool(_ name: String, at position: Int? = nil, default d: Bool) throws -> Bool {
        guard let v = value(name, at: position) else { return d }
        return v.isTruthy
    }

    public func tensor(_ name: String, at position: Int? = nil) throws -> Tensor {
        try Convert.tensor(try required(name, at: position), "\(function): '\(name)'")
    }

    /// Rejects keywords and positionals that no accessor asked for.
    public func finish() throws {
        if let extra = keywords.first(where: { !usedKeywords.contains($0.0) }) {
            throw error("unexpected keyword argument '\(extra.0)'")
        }
        if usedPositional < positional.count {
            throw error("takes \(usedPositional) positional argument\(usedPositional == 1 ? "" : "s") but \(positional.count) were given")
        }
    }
}

extension Value {
    public var isNone: Bool { if case .none = self { return true }; return false }
}

import Tensor

/// Conversions from language values to Swift types, with one-line errors.
public enum Convert {
    /// Largest tensor or list the language will build in one go (guards against typos like `zeros(1e9)`).
    public static let maxElements = 50_000_000
    /// Largest list or string built by `range`, repetition and the like.
    public static let maxItems = 1_000_000

    public static func int(_ v: Value, _ what: String) throws -> Int {
        switch v {
        case .int(let i): return i
        case .bool(let b): return b ? 1 : 0
        case .float(let d):
            guard d == d.rounded(), abs(d) < 9e15 else { throw LabError("\(what) must be an integer, got \(Value.formatFloat(d))") }
            return Int(d)
        case .tensor(let t) where t.count == 1 && t.data[0] == t.data[0].rounded() && abs(t.data[0]) < 1e9:
            return Int(t.data[0])
        default: throw LabError("\(what) must be an integer, got \(v.typeName)")
        }
    }

    /// A shape from `(2, 3)`, `[2, 3]`, or ints.
    public static func shape(_ values: some Collection<Value>, _ what: String) throws -> [Int] {
        var dims: [Int] = []
        if values.count == 1, let only = values.first {
            if case .list(let a) = only { return try shape(a, what) }
            if case .tuple(let a) = only { return try shape(a, what) }
        }
        for v in values {
            let d = try int(v, what)
            guard d >= 0 else { throw LabError("\(what): negative dimension \(d)") }
            dims.append(d)
        }
        var total = 1
        for d in dims {
            let (p, o) = total.multipliedReportingOverflow(by: d)
            guard !o, p <= maxElements else { throw LabError("\(what): shape \(dims) is too large (limit \(maxElements) elements)") }
            total = p
        }
        return dims
    }

    /// A tensor from a tensor, a number, or nested lists of numbers.
    public static func tensor(_ v: Value, _ what: String) throws -> Tensor {
        if case .tensor(let t) = v { return t }
        if let x = v.number { return Tensor(scalar: Float(x)) }
        var shape: [Int] = []
        var data: [Float] = []
        try flatten(v, depth: 0, shape: &shape, data: &data, what)
        return Tensor(shape: shape, data: data)
    }

    private static func flatten(_ v: Value, depth: Int, shape: inout [Int], data: inout [Float], _ what: String) throws {
        switch v {
        case .list(let a), .tuple(let a):
            guard depth < 16 else { throw LabError("\(what): nested too deeply") }
            if depth == shape.count {
                guard data.isEmpty || shape.isEmpty else { throw LabError("\(what): ragged nested list") }
                shape.append(a.count)
            } else if depth > shape.count || shape[depth] != a.count {
                throw LabError("\(what): ragged nested list (lengths \(shape[depth]) and \(a.count))")
            }
            for x in a { try flatten(x, depth: depth + 1, shape: &shape, data: &data, what) }
        case .tensor(let t):
            if depth == shape.count {
                guard data.isEmpty else { throw LabError("\(what): ragged nested list") }
                shape += t.shape
            } else if Array(shape[depth...]) != t.shape {
                throw LabError("\(what): ragged nested list")
            }
            data += t.data
        default:
            guard let x = v.number else { throw LabError("\(what) must be numbers, got \(v.typeName)") }
            guard depth == shape.count else { throw LabError("\(what): ragged nested list") }
            data.append(Float(x))
        }
        guard data.count <= maxElements else { throw LabError("\(what): too many elements") }
    }
}
