/// A function the language can call: a builtin (`randn`) or a method bound to its
/// object (`learn.predict`). Its parameters are declared once (``Param``): binding the call's
/// arguments, the signature `help` shows, keyword completion and the defaults all come from them.
public struct Builtin {
    /// The name as called, e.g. `randn` or `Tensor.sum` (errors start with it).
    public var name: String
    /// The name in the signature: `randn`, or a method's own name (`sum`).
    public var shortName: String
    /// The parameters, in order (`*shape` for a variadic one; those after it are keyword-only).
    public var parameters: [Param]
    /// One line: what it does.
    public var summary: String
    /// A runnable example, e.g. `randn(2, 3, seed=0)`.
    public var example: String
    /// The help topic it is listed under.
    public var topic: String
    public var call: (Arguments) throws -> Value

    public init(_ name: String, _ parameters: [Param] = [], summary: String, example: String = "",
                topic: String = "general", shortName: String? = nil, call: @escaping (Arguments) throws -> Value) {
        self.name = name
        self.shortName = shortName ?? name
        self.parameters = parameters
        self.summary = summary
        self.example = example
        self.topic = topic
        self.call = call
    }

    /// How to call it, Python style, from the declared parameters: `range(start, stop=None, step=1)`.
    public var signature: String {
        let parts = parameters.map { p in
            p.isVariadic ? "*" + p.name : p.defaultSource.map { "\(p.name)=\($0)" } ?? p.name
        }
        return "\(shortName)(\(parts.joined(separator: ", ")))"
    }

    /// The names that may be given as keywords (for completion).
    public var keywordNames: [String] { parameters.filter { !$0.isVariadic }.map(\.name) }
}

/// One parameter of a builtin or method, declared once: name, kind of value, default and one
/// line of doc (swift-argument-parser's `@Option` is the model).
///
///     Param("n_words", .int, default: 1, "how many words to add")
///     Param("text", .str, "the start of the text")          // required
///     Param.variadic("shape", "sizes of the dimensions")     // *shape
public struct Param: Sendable {
    public let name: String
    public let type: ParamType
    /// The default as the language writes it (`1`, `1e-07`, `'sample'`, `None`,
    /// `[accuracy, Perplexity()]`); nil when the argument is required. Evaluated when the
    /// argument is left out (with builtins only, so a user variable cannot change it).
    public let defaultSource: String?
    public let doc: String
    /// `*name`: takes the remaining positional arguments.
    public let isVariadic: Bool

    /// A required parameter.
    public init(_ name: String, _ type: ParamType, _ doc: String) {
        self.init(name, type, defaultSource: nil, doc, variadic: false)
    }

    /// A required parameter of any type.
    public init(_ name: String, _ doc: String) { self.init(name, .any, doc) }

    /// A parameter with a default.
    public init(_ name: String, _ type: ParamType, default value: ParamDefault, _ doc: String) {
        self.init(name, type, defaultSource: value.source, doc, variadic: false)
    }

    /// A parameter of any type with a default.
    public init(_ name: String, default value: ParamDefault, _ doc: String) { self.init(name, .any, default: value, doc) }

    /// `*name`: all remaining positional arguments, unchecked (read them with `rest()`).
    public static func variadic(_ name: String, _ doc: String) -> Param {
        Param(name, .any, defaultSource: nil, doc, variadic: true)
    }

    private init(_ name: String, _ type: ParamType, defaultSource: String?, _ doc: String, variadic: Bool) {
        self.name = name
        self.type = type
        self.defaultSource = defaultSource
        self.doc = doc
        self.isVariadic = variadic
    }
}

/// What a parameter takes. Arguments are checked and converted when the call is bound, so
/// the error names the parameter (`'n_epoch' must be an integer, got str`).
public enum ParamType: String, Sendable {
    /// Anything (the function looks at it itself).
    case any
    /// An integer (an integral float or a one-element tensor is accepted).
    case int
    /// A number (int, float or bool), read as a float.
    case float
    /// A string.
    case str
    /// Any value, read by its truth value.
    case bool
    /// A tensor, a number or nested lists of numbers.
    case tensor
}

/// A declared default, written as the language writes it: `default: 1`, `default: 1e-07`,
/// `default: nil` (None), `default: false`, `default: .string("sample")`,
/// `default: .expression("[accuracy, Perplexity()]")`.
public struct ParamDefault: Sendable, ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral,
                           ExpressibleByBooleanLiteral, ExpressibleByNilLiteral {
    public let source: String
    public init(integerLiteral v: Int) { source = String(v) }
    public init(floatLiteral v: Double) { source = Value.formatFloat(v) }
    public init(booleanLiteral v: Bool) { source = v ? "True" : "False" }
    public init(nilLiteral: ()) { source = "None" }
    private init(source: String) { self.source = source }
    public static func int(_ v: Int) -> ParamDefault { ParamDefault(integerLiteral: v) }
    public static func float(_ v: Double) -> ParamDefault { ParamDefault(floatLiteral: v) }
    public static func string(_ v: String) -> ParamDefault { ParamDefault(source: pythonRepr(v)) }
    public static func expression(_ source: String) -> ParamDefault { ParamDefault(source: source) }
}

/// The arguments of one call, bound to the function's declared parameters (as Python binds
/// them: positionals in order, then keywords, then defaults). Binding rejects unknown keywords,
/// extra positionals, missing required arguments and arguments of the wrong type, before the
/// function runs. Accessors read by name:
///
///     let n = try args.int("n_words")            // the argument, or its declared default
///     let seed = try args.optionalInt("seed")    // nil when None
public final class Arguments {
    public let function: String
    /// The session the call runs in (for output, variables, randomness).
    public unowned let session: Session
    private var bound: [String: Value] = [:]
    private var givenNames: Set<String> = []
    private var extra: [Value] = []

    /// Binds `positional` and `keywords` to `builtin`'s parameters.
    public init(binding positional: [Value], _ keywords: [(String, Value)], to builtin: Builtin, session: Session) throws {
        function = builtin.name
        self.session = session
        let params = builtin.parameters
        let variadic = params.firstIndex(where: \.isVariadic)
        let byPosition = params[..<(variadic ?? params.count)]
        for (i, v) in positional.enumerated() {
            if i < byPosition.count { bound[byPosition[byPosition.startIndex + i].name] = v }
            else if variadic != nil { extra.append(v) }
            else {
                let n = byPosition.count
                throw error("takes \(n) positional argument\(n == 1 ? "" : "s") but \(positional.count) were given")
            }
        }
        for (k, v) in keywords {
            guard params.contains(where: { $0.name == k && !$0.isVariadic }) else {
                throw error("unexpected keyword argument '\(k)'" + Suggest.didYouMean(k, among: builtin.keywordNames))
            }
            guard bound[k] == nil else { throw error("got multiple values for argument '\(k)'") }
            bound[k] = v
        }
        givenNames = Set(bound.keys)
        for p in params where !p.isVariadic {
            if let v = bound[p.name] {
                bound[p.name] = try check(v, p)
            } else if let d = p.defaultSource {
                bound[p.name] = try check(try session.evaluateDefault(d), p)
            } else {
                throw error("missing argument '\(p.name)'")
            }
        }
    }

    /// Converts `v` to what `p` takes; None stays None where the default is None.
    private func check(_ v: Value, _ p: Param) throws -> Value {
        if v.isNone, p.defaultSource == "None" { return v }
        switch p.type {
        case .any: return v
        case .int: return .int(try Convert.int(v, "\(function): '\(p.name)'"))
        case .float:
            guard let x = v.number else { throw error("'\(p.name)' must be a number, got \(v.typeName)") }
            return .float(x)
        case .str:
            guard case .string = v else { throw error("'\(p.name)' must be a string, got \(v.typeName)") }
            return v
        case .bool: return .bool(v.isTruthy)
        case .tensor: return .tensor(try Convert.tensor(v, "\(function): '\(p.name)'"))
        }
    }

    public func error(_ message: String) -> LabError { LabError("\(function): \(message)") }

    /// The argument `name` (given or its default; None when so).
    public func value(_ name: String) throws -> Value {
        guard let v = bound[name] else { throw error("reads '\(name)', which it does not declare (a bug in LMLab)") }
        return v
    }

    /// True when the call gave `name` (even as None), false when its default is used.
    public func given(_ name: String) -> Bool { givenNames.contains(name) }

    /// The positional arguments a `*name` parameter took.
    public func rest() -> [Value] { extra }

    public func int(_ name: String) throws -> Int {
        try Convert.int(try value(name), "\(function): '\(name)'")
    }

    /// nil when the argument is None.
    public func optionalInt(_ name: String) throws -> Int? {
        let v = try value(name)
        return v.isNone ? nil : try Convert.int(v, "\(function): '\(name)'")
    }

    public func double(_ name: String) throws -> Double {
        let v = try value(name)
        guard let x = v.number else { throw error("'\(name)' must be a number, got \(v.typeName)") }
        return x
    }

    /// nil when the argument is None.
    public func optionalDouble(_ name: String) throws -> Double? {
        try value(name).isNone ? nil : try double(name)
    }

    public func string(_ name: String) throws -> String {
        let v = try value(name)
        guard case .string(let s) = v else { throw error("'\(name)' must be a string, got \(v.typeName)") }
        return s
    }

    /// nil when the argument is None.
    public func optionalString(_ name: String) throws -> String? {
        try value(name).isNone ? nil : try string(name)
    }

    public func bool(_ name: String) throws -> Bool { try value(name).isTruthy }

    public func tensor(_ name: String) throws -> Tensor {
        try Convert.tensor(try value(name), "\(function): '\(name)'")
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

    /// A shape from `(2, 3)`, `[2, 3]`, or ints, checked by `checkShape`. With `allowInferred`
    /// one size may be -1 (reshape's "the rest"); the others are checked.
    public static func shape(_ values: some Collection<Value>, _ what: String, allowInferred: Bool = false) throws -> [Int] {
        if values.count == 1, let only = values.first {
            if case .list(let a) = only { return try shape(a, what, allowInferred: allowInferred) }
            if case .tuple(let a) = only { return try shape(a, what, allowInferred: allowInferred) }
        }
        let dims = try values.map { try int($0, what) }
        let inferred = dims.filter { $0 == -1 }.count
        guard allowInferred ? inferred <= 1 : inferred == 0 else {
            throw LabError(allowInferred ? "\(what): only one size may be -1, got \(dims)" : "\(what): negative dimension -1")
        }
        try checkShape(dims.map { $0 == -1 ? 1 : $0 }, what)
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
