import Foundation
import Tensor

/// Builtins that work on any value: help, print, len, range, slice, type, … (fastai/Python spellings).
package enum CoreBuiltins {
    static func install(in s: Session) {
        func add(_ name: String, _ summary: String, _ parameters: [Param], example: String,
                 _ call: @escaping (Arguments) throws -> Value) {
            s.register(Builtin(name, parameters, summary: summary, example: example, topic: "general", call: call))
        }
        let x = Param("x", "the value")

        add("help", "list the builtins, or describe one builtin, type or value",
            [Param("name", default: nil, "a builtin, type or variable (or its name); None lists everything")],
            example: "help(randn)") { a in
            let name = try a.value("name")
            a.session.emit(try Help.text(for: name.isNone ? nil : name, in: a.session))
            return .none
        }
        add("print", "write values as text (strings without quotes)",
            [.variadic("values", "what to write"), Param("sep", .str, default: .string(" "), "the text between values")],
            example: "print('loss', 4.5)") { a in
            let sep = try a.string("sep")
            a.session.emit(a.rest().map(\.str).joined(separator: sep))
            return .none
        }
        add("len", "number of items in a list, tuple, string or tensor's first dimension",
            [Param("x", "a list, tuple, string, tensor or object with __len__")], example: "len([1, 2, 3])") { a in
            let v = try a.value("x")
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
        add("range", "a list of evenly spaced integers",
            [Param("start", .int, "the first value; alone, the end (range(3) is [0, 1, 2])"),
             Param("stop", .int, default: nil, "the end (not included)"),
             Param("step", .int, default: 1, "the difference between neighbours")],
            example: "range(2, 10, 3)") { a in
            var start = try a.int("start")
            let stop: Int
            if let given = try a.optionalInt("stop") { stop = given } else { stop = start; start = 0 }
            let step = try a.int("step")
            guard step != 0 else { throw a.error("step cannot be zero") }
            let (span, o) = stop.subtractingReportingOverflow(start)
            let (n, o2) = span.dividedReportingOverflow(by: step)
            guard !o, !o2, n.magnitude <= UInt(Convert.maxItems) else {
                throw a.error("range too large (limit \(Convert.maxItems) items)")
            }
            return .list(rangeValues(start, stop, step))
        }
        add("slice", "a slice; fastai reads slice(lo, hi) as learning rates spread over layer groups",
            [Param("start", "the first bound; alone, the stop (slice(5) is slice(None, 5, None))"),
             Param("stop", default: nil, "the second bound"), Param("step", default: nil, "the step")],
            example: "slice(1e-2/2.6**4, 1e-2)") { a in
            let first = try a.value("start")
            let second: Value? = a.given("stop") ? try a.value("stop") : nil
            let step: Value? = a.given("step") ? try a.value("step") : nil
            try Convert.checkNesting([first, second ?? .none, step ?? .none], "slice")
            guard let second else { return .slice(start: nil, stop: first, step: nil) }
            return .slice(start: first, stop: second, step: step)
        }
        add("type", "the name of a value's type", [x], example: "type(1e-2)") { a in
            .string(try a.value("x").typeName)
        }
        add("dir", "names of a value's attributes and methods, or of all variables",
            [Param("x", default: nil, "the value; None lists the variables")], example: "dir(randn(2))") { a in
            let v = try a.value("x")
            guard !v.isNone else { return .list(a.session.variables.keys.sorted().map { .string($0) }) }
            return .list(a.session.members(of: v).map { .string($0.name) })
        }
        add("first", "the first item of a list, tuple, string or tensor (fastai's first)",
            [Param("x", "a list, tuple, string, tensor or indexable object")], example: "x, y = first([(1, 2), (3, 4)])") { a in
            try Operators.subscriptValue(try a.value("x"), [.index(.int(0))], session: a.session)
        }
        let iterable = Param("x", "a list, tuple, string, tensor or object with __len__ and __getitem__")
        add("list", "a list of the items of x", [iterable], example: "list(range(3))") { a in
            .list(try items(try a.value("x"), a))
        }
        add("tuple", "a tuple of the items of x", [iterable], example: "tuple([1, 2])") { a in
            .tuple(try items(try a.value("x"), a))
        }
        add("str", "x as text (what print shows)", [x], example: "str(0.5)") { a in .string(try a.value("x").str) }
        add("repr", "x as the REPL shows it (strings quoted)", [x], example: "repr('a')") { a in
            .string(try a.value("x").repr)
        }
        add("int", "x as an integer (truncates floats; parses strings)", [Param("x", "a number, string or one-element tensor")],
            example: "int(2.7)") { a in
            let v = try a.value("x")
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
        add("float", "x as a float (parses strings)", [Param("x", "a number, string or one-element tensor")],
            example: "float('1e-3')") { a in
            let v = try a.value("x")
            if case .string(let s) = v {
                guard let d = Double(s.trimmingCharacters(in: .whitespaces)) else { throw a.error("not a number: \(pythonRepr(s))") }
                return .float(d)
            }
            if case .tensor(let t) = v, t.count == 1 { return .float(Double(t.data[0])) }
            guard let d = v.number else { throw a.error("cannot convert \(v.typeName) to float") }
            return .float(d)
        }
        add("bool", "the truth value of x", [x], example: "bool([])") { a in .bool(try a.value("x").isTruthy) }
        add("abs", "absolute value of a number or of each tensor element", [Param("x", "a number or tensor")],
            example: "abs(-2)") { a in
            switch try a.value("x") {
            case .int(let i): return i == .min ? .float(-Double(i)) : .int(Swift.abs(i))
            case .tensor(let t): return .tensor(t.map { Swift.abs($0) })
            case let v:
                guard let d = v.number else { throw a.error("bad operand type '\(v.typeName)'") }
                return .float(Swift.abs(d))
            }
        }
        add("round", "x rounded (to an int when ndigits is None)",
            [Param("x", .float, "the number"), Param("ndigits", .int, default: nil, "digits after the point; None rounds to an int")],
            example: "round(3.14159, 2)") { a in
            let x = try a.double("x")
            guard let n = try a.optionalInt("ndigits") else {
                guard x.isFinite, Swift.abs(x) < 9e18 else { throw a.error("cannot round \(Value.formatFloat(x)) to an int") }
                return .int(Int(x.rounded(.toNearestOrEven)))
            }
            let p = Foundation.pow(10.0, Double(Swift.max(-300, Swift.min(300, n))))
            return .float((x * p).rounded(.toNearestOrEven) / p)
        }
        for (name, pick) in [("min", -1.0), ("max", 1.0)] {
            add(name, "the \(name == "min" ? "smallest" : "largest") of numbers",
                [.variadic("values", "two or more values, or one list, tuple or tensor")], example: "\(name)(3, 1, 2)") { a in
                var values = a.rest()
                if values.count == 1 {
                    if case .tensor(let t) = values[0] { return .float(Double(pick < 0 ? t.min() : t.max())) }
                    values = try items(values[0], a)
                }
                guard var best = values.first else { throw a.error("empty sequence") }
                for v in values.dropFirst() where try Operators.compare(pick < 0 ? "<" : ">", v, best) { best = v }
                return best
            }
        }
        add("sum", "the sum of numbers (or of a tensor's elements)", [Param("x", "a list or tuple of numbers, or a tensor")],
            example: "sum([1, 2, 3])") { a in
            let v = try a.value("x")
            if case .tensor(let t) = v { return .float(Double(t.sum())) }
            var total: Value = .int(0)
            for x in try items(v, a) { total = try Operators.binary("+", total, x) }
            return total
        }
        add("set_seed", "reset the session's random generator (as fastai's set_seed)",
            [Param("seed", .int, "the new seed")], example: "set_seed(42)") { a in
            let seed = try a.int("seed")
            a.session.rng = SeededGenerator(seed: UInt64(bitPattern: Int64(seed)))
            return .none
        }
        add("sleep", "wait, polling for Ctrl-C like every long job does",
            [Param("seconds", .float, "how long (0 to 86400)")], example: "sleep(0.1)") { a in
            let seconds = try a.double("seconds")
            guard seconds >= 0, seconds <= 86_400 else { throw a.error("seconds must be between 0 and 86400") }
            let end = Date().addingTimeInterval(seconds)
            while Date() < end {
                try a.session.cancellation.check()
                Thread.sleep(forTimeInterval: min(0.01, max(0, end.timeIntervalSinceNow)))
            }
            return .none
        }
        add("inspect", "look inside a value: shape, statistics, values and a picture for tensors; members for objects",
            [x], example: "inspect(randn(4, 8, seed=0))") { a in
            // Shown as a value (printed as its text) so that front ends that draw can add its pictures.
            a.session.show(Inspect.type(in: a.session).wrap(Inspect.inspection(try a.value("x"), session: a.session)))
            return .none
        }

        let str = s.valueType("str").sample("s = 'I liked this movie'")
        str.method("split", "the words of the string (on whitespace, or on sep)",
                   [Param("sep", default: nil, "the separator; None splits on runs of whitespace")], example: "s.split()") { v, a in
            guard case .string(let text) = v else { return .none }
            if case .string(let d) = try a.value("sep"), !d.isEmpty {
                let parts = text.components(separatedBy: d)
                try Convert.checkItems(parts.count, "split")
                return .list(parts.map { .string($0) })
            }
            let words = text.split(whereSeparator: \.isWhitespace)
            try Convert.checkItems(words.count, "split")
            return .list(words.map { .string(String($0)) })
        }
        // Case mapping may lengthen a string (ß → SS) by at most 3×, so check that much first.
        str.method("lower", "the string in lower case", example: "s.lower()") { v, _ in
            try Convert.checkString(bytes: v.str.utf8.count * 3, "lower"); return .string(v.str.lowercased())
        }
        str.method("upper", "the string in upper case", example: "s.upper()") { v, _ in
            try Convert.checkString(bytes: v.str.utf8.count * 3, "upper"); return .string(v.str.uppercased())
        }
        str.method("strip", "the string without surrounding whitespace", example: "' a '.strip()") { v, _ in
            .string(v.str.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        str.method("replace", "the string with every `old` replaced by `new`",
                   [Param("old", .str, "the text to replace (not empty)"), Param("new", .str, "what replaces it")],
                   example: "s.replace('liked', 'loved')") { v, a in
            let old = try a.string("old"), new = try a.string("new")
            guard !old.isEmpty else { throw a.error("empty 'old'") }
            return .string(try replacing(v.str, old, new))
        }
        str.method("join", "the items joined with the string between them",
                   [Param("items", "a list, tuple or other iterable of values")], example: "' '.join(['a', 'b'])") { v, a in
            // Summed as the texts are made: an item's str may itself be long (a list's repr).
            let sep = v.str
            var texts: [String] = [], total = 0
            for (k, x) in try items(try a.value("items"), a).enumerated() {
                let t = x.str
                total += t.utf8.count + (k > 0 ? sep.utf8.count : 0)
                try Convert.checkString(bytes: total, "join")
                texts.append(t)
            }
            return .string(texts.joined(separator: sep))
        }
        str.method("startswith", "True when the string starts with prefix", [Param("prefix", .str, "the start to test")],
                   example: "s.startswith('I')") { v, a in
            .bool(v.str.hasPrefix(try a.string("prefix")))
        }
    }

    /// `text` with every `old` replaced by `new`, matched on UTF-8 bytes (the same as a literal
    /// match of the characters), with the result's size checked before it is built.
    static func replacing(_ text: String, _ old: String, _ new: String) throws -> String {
        let t = Array(text.utf8), o = Array(old.utf8), n = Array(new.utf8)
        var starts: [Int] = []
        var i = 0
        while i + o.count <= t.count {
            if t[i] == o[0] && t[i ..< i + o.count].elementsEqual(o) { starts.append(i); i += o.count } else { i += 1 }
        }
        let (grown, overflow) = starts.count.multipliedReportingOverflow(by: n.count)
        try Convert.checkString(bytes: overflow ? .max : t.count - starts.count * o.count + grown, "replace")
        var out: [UInt8] = []
        out.reserveCapacity(t.count - starts.count * o.count + grown)
        var from = 0
        for s in starts { out += t[from ..< s]; out += n; from = s + o.count }
        out += t[from...]
        return String(decoding: out, as: UTF8.self)
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
        case .string(let s):
            try Convert.checkItems(s.count, "\(a.function)")
            return s.map { .string(String($0)) }
        case .tensor(let t):
            guard t.rank >= 1 else { throw a.error("a 0-d tensor is not iterable") }
            try Convert.checkItems(t.shape[0], "\(a.function)")
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
