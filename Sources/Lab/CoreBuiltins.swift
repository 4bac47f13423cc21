import Foundation
import Tensor

/// Builtins that work on any value: help, print, len, range, slice, type, … (fastai/Python spellings).
package enum CoreBuiltins {
    static func install(in s: Session) {
        func add(_ name: String, _ signature: String, _ summary: String, _ example: String,
                 _ call: @escaping (Arguments) throws -> Value) {
            s.register(Builtin(name, signature: signature, summary: summary, example: example, topic: "general", call: call))
        }

        add("help", "help(name=None)", "list the builtins, or describe one builtin, type or value",
            "help(randn)") { a in
            a.session.emit(try Help.text(for: a.value("name", at: 0), in: a.session))
            return .none
        }
        add("print", "print(*values, sep=' ')", "write values as text (strings without quotes)",
            "print('loss', 4.5)") { a in
            let sep = try a.string("sep", default: " ")
            a.session.emit(a.rest(from: 0).map(\.str).joined(separator: sep))
            return .none
        }
        add("len", "len(x)", "number of items in a list, tuple, string or tensor's first dimension",
            "len([1, 2, 3])") { a in
            let v = try a.required("x", at: 0)
            switch v {
            case .list(let x), .tuple(let x): return .int(x.count)
            case .string(let x): return .int(x.count)
            case .tensor(let t):
                guard t.rank > 0 else { throw a.error("a 0-d tensor has no length") }
                return .int(t.shape[0])
            case .object(let o):
                if let f = try o.attribute("__len__") { return try a.session.call(f, []) }
                throw a.error("'\(o.typeName)' object has no len()")
            default: throw a.error("'\(v.typeName)' object has no len()")
            }
        }
        add("range", "range(stop) | range(start, stop, step=1)", "a list of evenly spaced integers",
            "range(2, 10, 3)") { a in
            var start = 0, stop = try a.int("stop", at: 0)
            if let second = try a.optionalInt("stop2", at: 1) { start = stop; stop = second }
            let step = try a.int("step", at: 2, default: 1)
            guard step != 0 else { throw a.error("step cannot be zero") }
            let (span, o) = stop.subtractingReportingOverflow(start)
            let (n, o2) = span.dividedReportingOverflow(by: step)
            guard !o, !o2, n.magnitude <= UInt(Convert.maxItems) else {
                throw a.error("range too large (limit \(Convert.maxItems) items)")
            }
            return .list(rangeValues(start, stop, step))
        }
        add("slice", "slice(stop) | slice(start, stop, step=None)",
            "a slice; fastai reads slice(lo, hi) as learning rates spread over layer groups",
            "slice(1e-2/2.6**4, 1e-2)") { a in
            let first = try a.required("start", at: 0)
            guard let second = a.value("stop", at: 1) else { return .slice(start: nil, stop: first, step: nil) }
            return .slice(start: first, stop: second, step: a.value("step", at: 2))
        }
        add("type", "type(x)", "the name of a value's type", "type(1e-2)") { a in
            .string(try a.required("x", at: 0).typeName)
        }
        add("dir", "dir(x=None)", "names of a value's attributes and methods, or of all variables",
            "dir(randn(2))") { a in
            guard let v = a.value("x", at: 0) else { return .list(a.session.variables.keys.sorted().map { .string($0) }) }
            return .list(a.session.members(of: v).map { .string($0.name) })
        }
        add("first", "first(x)", "the first item of a list, tuple, string or tensor (fastai's first)",
            "x, y = first([(1, 2), (3, 4)])") { a in
            let v = try a.required("x", at: 0)
            return try Operators.subscriptValue(v, [.index(.int(0))], session: a.session)
        }
        add("list", "list(x)", "a list of the items of x", "list(range(3))") { a in
            .list(try items(try a.required("x", at: 0), a))
        }
        add("tuple", "tuple(x)", "a tuple of the items of x", "tuple([1, 2])") { a in
            .tuple(try items(try a.required("x", at: 0), a))
        }
        add("str", "str(x)", "x as text (what print shows)", "str(0.5)") { a in .string(try a.required("x", at: 0).str) }
        add("repr", "repr(x)", "x as the REPL shows it (strings quoted)", "repr('a')") { a in
            .string(try a.required("x", at: 0).repr)
        }
        add("int", "int(x)", "x as an integer (truncates floats; parses strings)", "int(2.7)") { a in
            let v = try a.required("x", at: 0)
            if case .string(let s) = v {
                guard let i = Int(s.trimmingCharacters(in: .whitespaces)) else { throw a.error("not an integer: \(pythonRepr(s))") }
                return .int(i)
            }
            guard let d = v.number ?? (try? Convert.tensor(v, "int")).flatMap({ $0.count == 1 ? Double($0.data[0]) : nil }) else {
                throw a.error("cannot convert \(v.typeName) to int")
            }
            guard d.isFinite, abs(d) < 9e18 else { throw a.error("cannot convert \(Value.formatFloat(d)) to int") }
            return .int(Int(d))
        }
        add("float", "float(x)", "x as a float (parses strings)", "float('1e-3')") { a in
            let v = try a.required("x", at: 0)
            if case .string(let s) = v {
                guard let d = Double(s.trimmingCharacters(in: .whitespaces)) else { throw a.error("not a number: \(pythonRepr(s))") }
                return .float(d)
            }
            if case .tensor(let t) = v, t.count == 1 { return .float(Double(t.data[0])) }
            guard let d = v.number else { throw a.error("cannot convert \(v.typeName) to float") }
            return .float(d)
        }
        add("bool", "bool(x)", "the truth value of x", "bool([])") { a in .bool(try a.required("x", at: 0).isTruthy) }
        add("abs", "abs(x)", "absolute value of a number or of each tensor element", "abs(-2)") { a in
            switch try a.required("x", at: 0) {
            case .int(let i): return i == .min ? .float(-Double(i)) : .int(Swift.abs(i))
            case .tensor(let t): return .tensor(t.map { Swift.abs($0) })
            case let v:
                guard let d = v.number else { throw a.error("bad operand type '\(v.typeName)'") }
                return .float(Swift.abs(d))
            }
        }
        add("round", "round(x, ndigits=None)", "x rounded (to an int when ndigits is None)", "round(3.14159, 2)") { a in
            let x = try a.double("x", at: 0)
            guard let n = try a.optionalInt("ndigits", at: 1) else {
                guard x.isFinite, Swift.abs(x) < 9e18 else { throw a.error("cannot round \(Value.formatFloat(x)) to an int") }
                return .int(Int(x.rounded(.toNearestOrEven)))
            }
            let p = Foundation.pow(10.0, Double(Swift.max(-300, Swift.min(300, n))))
            return .float((x * p).rounded(.toNearestOrEven) / p)
        }
        for (name, pick) in [("min", -1.0), ("max", 1.0)] {
            add(name, "\(name)(a, b, …) | \(name)(list)", "the \(name == "min" ? "smallest" : "largest") of numbers",
                "\(name)(3, 1, 2)") { a in
                var values = Array(a.rest(from: 0))
                if values.count == 1 {
                    if case .tensor(let t) = values[0] { return .float(Double(pick < 0 ? t.min() : t.max())) }
                    values = try items(values[0], a)
                }
                guard var best = values.first else { throw a.error("empty sequence") }
                for v in values.dropFirst() where try Operators.compare(pick < 0 ? "<" : ">", v, best) { best = v }
                return best
            }
        }
        add("sum", "sum(list)", "the sum of numbers (or of a tensor's elements)", "sum([1, 2, 3])") { a in
            let v = try a.required("x", at: 0)
            if case .tensor(let t) = v { return .float(Double(t.sum())) }
            var total: Value = .int(0)
            for x in try items(v, a) { total = try Operators.binary("+", total, x) }
            return total
        }
        add("set_seed", "set_seed(seed)", "reset the session's random generator (as fastai's set_seed)",
            "set_seed(42)") { a in
            let seed = try a.int("seed", at: 0)
            a.session.rng = SeededGenerator(seed: UInt64(bitPattern: Int64(seed)))
            return .none
        }
        add("sleep", "sleep(seconds)", "wait, polling for Ctrl-C like every long job does",
            "sleep(0.1)") { a in
            let seconds = try a.double("seconds", at: 0)
            guard seconds >= 0, seconds <= 86_400 else { throw a.error("seconds must be between 0 and 86400") }
            let end = Date().addingTimeInterval(seconds)
            while Date() < end {
                try a.session.cancellation.check()
                Thread.sleep(forTimeInterval: min(0.01, max(0, end.timeIntervalSinceNow)))
            }
            return .none
        }
        add("inspect", "inspect(x)", "look inside a value: shape, statistics, values and a picture for tensors; members for objects",
            "inspect(randn(4, 8, seed=0))") { a in
            a.session.emit(Inspect.text(try a.required("x", at: 0), session: a.session))
            return .none
        }

        let str = s.valueType("str")
        str.method("split", "split(sep=None)", "the words of the string (on whitespace, or on sep)") { v, a in
            guard case .string(let text) = v else { return .none }
            if let sep = a.value("sep", at: 0), case .string(let d) = sep, !d.isEmpty {
                return .list(text.components(separatedBy: d).map { .string($0) })
            }
            return .list(text.split(whereSeparator: \.isWhitespace).map { .string(String($0)) })
        }
        str.method("lower", "lower()", "the string in lower case") { v, _ in .string(v.str.lowercased()) }
        str.method("upper", "upper()", "the string in upper case") { v, _ in .string(v.str.uppercased()) }
        str.method("strip", "strip()", "the string without surrounding whitespace") { v, _ in
            .string(v.str.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        str.method("replace", "replace(old, new)", "the string with every `old` replaced by `new`") { v, a in
            let old = try a.string("old", at: 0)
            guard !old.isEmpty else { throw a.error("empty 'old'") }
            return .string(v.str.replacingOccurrences(of: old, with: try a.string("new", at: 1)))
        }
        str.method("join", "join(items)", "the items joined with the string between them", example: "' '.join(['a', 'b'])") { v, a in
            .string(try items(try a.required("items", at: 0), a).map(\.str).joined(separator: v.str))
        }
        str.method("startswith", "startswith(prefix)", "True when the string starts with prefix") { v, a in
            .bool(v.str.hasPrefix(try a.string("prefix", at: 0)))
        }
    }

    /// `start, start + step, …` up to (excluding) `stop`, without overflowing.
    static func rangeValues(_ start: Int, _ stop: Int, _ step: Int) -> [Value] {
        var out: [Value] = []
        var i = start
        while step > 0 ? i < stop : i > stop {
            out.append(.int(i))
            let (next, overflow) = i.addingReportingOverflow(step)
            if overflow { break }
            i = next
        }
        return out
    }

    /// The items of a list-like value.
    package static func items(_ v: Value, _ a: Arguments) throws -> [Value] {
        switch v {
        case .list(let x), .tuple(let x): return x
        case .string(let s): return s.map { .string(String($0)) }
        case .tensor(let t):
            guard t.rank >= 1 else { throw a.error("a 0-d tensor is not iterable") }
            if t.rank == 1 { return t.data.map { .float(Double($0)) } }
            return (0..<t.shape[0]).map { .tensor(t.row($0)) }
        case .object(let o):
            // Objects with `__len__` and `__getitem__` (L, TensorText, loaders) iterate by index.
            guard let len = try o.attribute("__len__"), let get = try o.attribute("__getitem__") else {
                throw a.error("'\(o.typeName)' object is not iterable")
            }
            let n = try Convert.int(try a.session.call(len, []), "len")
            guard n <= Convert.maxItems else { throw a.error("too many items (limit \(Convert.maxItems))") }
            return try (0..<max(0, n)).map { try a.session.call(get, [.int($0)]) }
        default: throw a.error("'\(v.typeName)' object is not iterable")
        }
    }
}
