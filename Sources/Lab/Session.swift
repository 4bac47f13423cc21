import Files
import Tensor

/// One thing a statement produced: printed text, a value to show, or an error.
public enum Output {
    case text(String)
    case value(Value)
    case error(LabError)

    /// What a terminal shows for it (errors as `error: message`).
    public var rendered: String {
        switch self {
        case .text(let s): s
        case .value(let v): v.repr
        case .error(let e): "error: \(e.message)"
        }
    }
}

/// The result of running some source text.
public struct RunResult {
    public var outputs: [Output]
    /// The first error; statements after it did not run.
    public var error: LabError? {
        for o in outputs { if case .error(let e) = o { return e } }
        return nil
    }
    /// Everything as a terminal shows it, one output per line.
    public var text: String { outputs.map(\.rendered).joined(separator: "\n") }
}

/// A help topic for an object type (so `help Learner` works and `help` lists types).
public struct TypeInfo {
    public var name: String
    public var summary: String
    public var members: () -> [Member]
    /// Statements that make a value of the type, for running the method examples.
    public var sample: () -> String
}

/// What a library adds to a session: builtins, object types, value methods.
public typealias Binding = (Session) -> Void

/// An interpreter session: variables, builtins, object types and output.
///
///     let s = Session()
///     s.run("t = randn(2, 3, seed=0); t.shape").text   // "(2, 3)"
///
/// Binding a library into the language is done here: `register(_:)` adds a builtin,
/// `register(type:)` makes an ``ObjectType`` known to `help`, `define(_:_:)` sets a variable.
public final class Session {
    /// User variables.
    public private(set) var variables: [String: Value] = [:]
    /// Builtin functions by name.
    public private(set) var builtins: [String: Builtin] = [:]
    /// Object types known to `help`.
    public private(set) var types: [String: TypeInfo] = [:]
    /// Methods and attributes of tensors (`t.shape`, `t.sum()`); extend it to add more.
    public let tensorType = ObjectType<Tensor>("Tensor", summary: "a float32 tensor: shape + row-major values")
    /// Methods of plain values by type name (`str`, `list`, …); extend them to add more.
    public private(set) var valueTypes: [String: ObjectType<Value>] = [:]
    /// The session's random generator (used when a builtin gets no `seed=`); `set_seed(n)` resets it.
    public var rng = SeededGenerator(seed: 0)
    /// Called with each output as soon as it is produced (the REPL prints through it).
    public var onOutput: ((Output) -> Void)?
    /// Called during training with the live progress line and the epoch table, when a front end
    /// draws them itself (the Jupyter kernel); while nil they go to stderr and the output.
    public var onTrainingDisplay: ((TrainingDisplay) -> Void)?
    /// The flag Ctrl-C sets; checked between statements. Long builtins poll it too
    /// (`try args.session.cancellation.check()`). Tests may give a session its own.
    public var cancellation: Cancellation = .shared
    /// Directory relative file names are resolved against (`savefig`, `open`).
    public var directory: String = "."
    private var collected: [Output] = []

    /// A session with the language's own builtins (core and tensors), then each binding's.
    /// `Session()` (from LabBindings) is the one with every library bound, as the REPL,
    /// `play` and the kernel use it; `Session(bindings: [])` is the language alone.
    public init(bindings: [Binding]) {
        CoreBuiltins.install(in: self)
        TensorBuiltins.install(in: self)
        for bind in bindings { bind(self) }
    }

    // MARK: Binding

    /// Adds or replaces a builtin function.
    public func register(_ builtin: Builtin) { builtins[builtin.name] = builtin }

    /// Makes an object type known to `help` (its members are listed from the type itself).
    public func register<T>(type: ObjectType<T>) {
        objectTypes[type.name] = type
        types[type.name] = TypeInfo(name: type.name, summary: type.summary, members: { type.members }, sample: { type.sample })
    }

    private var objectTypes: [String: AnyObject] = [:]

    /// The object type registered under `name` for Swift values of type `T`, if any (bindings
    /// share their types per session this way: learners draw with the session's Plot type).
    public func objectType<T>(_ name: String, _: T.Type) -> ObjectType<T>? { objectTypes[name] as? ObjectType<T> }

    /// The methods of a built-in value type (`str`, `list`, `tuple`, …), created on first use.
    public func valueType(_ name: String) -> ObjectType<Value> {
        if let t = valueTypes[name] { return t }
        let t = ObjectType<Value>(name, summary: "built-in \(name) values")
        valueTypes[name] = t
        return t
    }

    /// Sets a variable. Bindings define their constants this way (`AWD_LSTM`, `URLs`); declared
    /// defaults see those as first defined, whatever the user later assigns to the name.
    public func define(_ name: String, _ value: Value) {
        variables[name] = value
        if definedConstants[name] == nil { definedConstants[name] = value }
    }
    private var definedConstants: [String: Value] = [:]

    /// Removes a variable.
    public func remove(_ name: String) { variables[name] = nil }

    /// Writes text to the session's output (what `print` does).
    public func emit(_ text: String) { add(.text(text)) }

    /// Shows a value as a statement's result is shown (its display, and its picture where a
    /// front end draws one), without making it the statement's result.
    public func show(_ value: Value) { add(.value(value)) }

    private func add(_ o: Output) {
        collected.append(o)
        onOutput?(o)
    }

    // MARK: Running

    /// True when `source` ends inside brackets or a string (the REPL then asks for more).
    public static func needsMoreInput(_ source: String) -> Bool { Lexer.needsMoreInput(source) }

    /// Runs every statement of `source`, stopping at the first error. A syntax error
    /// anywhere means nothing runs.
    @discardableResult
    public func run(_ source: String) -> RunResult {
        collected = []
        do {
            let statements = try Parser.parse(source)
            for s in statements {
                // Stopped before this statement: the error points at it, as one raised inside it would.
                do { try cancellation.check() } catch let e as Interruption { throw LabError(e.description, at: s.location) }
                try execute(s)
            }
        } catch let e as LabError {
            add(.error(e))
        } catch {
            add(.error(LabError(FileErrors.describe(error))))
        }
        let result = RunResult(outputs: collected)
        collected = []
        return result
    }

    /// The value of one expression (for tests and bindings); throws the first error.
    public func evaluate(_ source: String) throws -> Value {
        let statements = try Parser.parse(source)
        guard statements.count == 1, case .expression(let e) = statements[0] else {
            throw LabError("expected one expression")
        }
        return try eval(e)
    }

    private func execute(_ s: Statement) throws {
        switch s {
        case .expression(let e):
            let v = try eval(e)
            if !v.isNone { add(.value(v)); variables["_"] = v }
        case let .assign(names, unpack, e, loc):
            let v = try eval(e)
            if !unpack {
                variables[names[0]] = v
                return
            }
            // Check everything before assigning anything: no half-assigned variables.
            let items = try unpackItems(v, loc)
            guard items.count == names.count else {
                throw LabError("cannot unpack \(items.count) value\(items.count == 1 ? "" : "s") into \(names.count) names", at: loc)
            }
            for (n, x) in zip(names, items) { variables[n] = x }
        case let .help(name, loc):
            do { emit(try Help.text(for: name.map { .string($0) }, in: self)) } catch let e as LabError {
                throw e.location == nil ? LabError(e.message, at: loc) : e
            }
        }
    }

    private func unpackItems(_ v: Value, _ loc: SourceLocation) throws -> [Value] {
        switch v {
        case .list(let a), .tuple(let a): return a
        case .tensor(let t) where t.rank >= 1:
            try Convert.checkItems(t.shape[0], "unpacking")
            return (0..<t.shape[0]).map { .tensor(t.row($0)) }
        case .string(let s): return s.map { .string(String($0)) }
        default: throw LabError("cannot unpack a \(v.typeName)", at: loc)
        }
    }

    // MARK: Expressions

    /// Evaluation depth; long operator chains build deep trees, and the stack of a worker
    /// thread is small, so depth is bounded (as Python bounds recursion).
    private var depth = 0
    static let maxEvalDepth = 150

    func eval(_ e: Expr) throws -> Value {
        depth += 1
        defer { depth -= 1 }
        guard depth <= Session.maxEvalDepth else { throw LabError("expression too long or nested too deeply", at: e.location) }
        do {
            return try evalUnlocated(e)
        } catch var err as LabError {
            if err.location == nil { err.location = e.location }
            throw err
        }
    }

    private func evalUnlocated(_ e: Expr) throws -> Value {
        switch e {
        case .literal(let v, _): return v
        case .name(let n, _): return try lookup(n)
        case .list(let items, _):
            let values = try items.map(eval)
            try Convert.checkNesting(values, "list")
            return .list(values)
        case .tuple(let items, _):
            let values = try items.map(eval)
            try Convert.checkNesting(values, "tuple")
            return .tuple(values)
        case .unary(let op, let x, _): return try Operators.unary(op, try eval(x))
        case .binary(let op, let a, let b, _): return try Operators.binary(op, try eval(a), try eval(b))
        case .and(let a, let b, _):
            let x = try eval(a)
            return x.isTruthy ? try eval(b) : x
        case .or(let a, let b, _):
            let x = try eval(a)
            return x.isTruthy ? x : try eval(b)
        case .compare(let ops, let items, _):
            var left = try eval(items[0])
            for (op, item) in zip(ops, items.dropFirst()) {
                let right = try eval(item)
                guard try Operators.compare(op, left, right) else { return .bool(false) }
                left = right
            }
            return .bool(true)
        case .attribute(let base, let name, _):
            return try attribute(of: try eval(base), name)
        case .call(let f, let args, let kwargs, _):
            let callee = try eval(f)
            let positional = try args.map(eval)
            let keywords = try kwargs.map { ($0.0, try eval($0.1)) }
            return try call(callee, positional, keywords)
        case .index(let base, let subs, _):
            let b = try eval(base)
            let items: [Operators.IndexItem] = try subs.map { s in
                switch s {
                case .index(let x): return .index(try eval(x))
                case let .slice(a, b, c): return .slice(try a.map(eval), try b.map(eval), try c.map(eval))
                }
            }
            return try Operators.subscriptValue(b, items, session: self)
        }
    }

    /// Calls a function value with arguments.
    public func call(_ callee: Value, _ positional: [Value], _ keywords: [(String, Value)] = []) throws -> Value {
        // Objects opt in to being called (`tkn(txt)`, `num(toks)`) with a `__call__` method.
        if case .object(let o) = callee, let f = try o.attribute("__call__") { return try call(f, positional, keywords) }
        guard case .function(let f) = callee else { throw LabError("'\(callee.typeName)' object is not callable") }
        let args = try Arguments(binding: positional, keywords, to: f, session: self)
        do {
            return try f.call(args)
        } catch let e as LabError {
            throw e
        } catch let e as Interruption {
            throw LabError(e.description)
        } catch {
            // Errors from the library (Text, Learn, …) keep their own one-line description.
            throw LabError("\(f.name): \(FileErrors.describe(error))")
        }
    }

    /// While a declared default is evaluated, names are builtins and the bindings' constants
    /// only (as Python evaluates defaults where the function is defined, not where it is called).
    private var builtinsOnly = false

    /// The value of a parameter's declared default (`1e-07`, `None`, `[accuracy, Perplexity()]`).
    package func evaluateDefault(_ source: String) throws -> Value {
        let saved = builtinsOnly
        builtinsOnly = true
        defer { builtinsOnly = saved }
        return try evaluate(source)
    }

    /// A variable or builtin by name, or an error suggesting close names.
    public func lookup(_ n: String) throws -> Value {
        if builtinsOnly, let v = definedConstants[n] { return v }
        if !builtinsOnly, let v = variables[n] { return v }
        if let b = builtins[n] { return .function(b) }
        throw LabError("unknown name '\(n)'" + Suggest.didYouMean(n, among: Array(variables.keys) + Array(builtins.keys)))
    }

    /// Attribute `name` of a value (methods come back bound), or an error suggesting close names.
    public func attribute(of v: Value, _ name: String) throws -> Value {
        if let found = try findAttribute(of: v, name) { return found }
        let names = members(of: v).map(\.name)
        throw LabError("'\(v.typeName)' object has no attribute '\(name)'" + Suggest.didYouMean(name, among: names))
    }

    func findAttribute(of v: Value, _ name: String) throws -> Value? {
        switch v {
        case .object(let o): return try o.attribute(name)
        case .tensor(let t): return try tensorType.member(name, of: t)
        default: return try valueTypes[v.typeName]?.member(name, of: v)
        }
    }

    /// The attributes and methods a value offers (for completion, help and inspect).
    public func members(of v: Value) -> [Member] {
        switch v {
        case .object(let o): return o.members
        case .tensor: return tensorType.members
        default: return valueTypes[v.typeName]?.members ?? []
        }
    }
}
