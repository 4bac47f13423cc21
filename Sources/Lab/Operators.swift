import Foundation
import Tensor

/// Arithmetic, comparison and indexing on language values, following Python.
package enum Operators {
    static func unary(_ op: String, _ x: Value) throws -> Value {
        switch (op, x) {
        case ("not", _): return .bool(!x.isTruthy)
        case ("-", .int(let i)): return i == .min ? .float(-Double(i)) : .int(-i)
        case ("-", .float(let d)): return .float(-d)
        case ("-", .bool(let b)): return .int(b ? -1 : 0)
        case ("-", .tensor(let t)): return .tensor(-t)
        case ("+", .int), ("+", .float), ("+", .tensor): return x
        case ("+", .bool(let b)): return .int(b ? 1 : 0)
        default: throw LabError("bad operand type for unary \(op): '\(x.typeName)'")
        }
    }

    static func binary(_ op: String, _ a: Value, _ b: Value) throws -> Value {
        switch (a, b) {
        case (.tensor, _), (_, .tensor): return try tensorOp(op, a, b)
        case (.string(let x), .string(let y)) where op == "+":
            try Convert.checkString(bytes: x.utf8.count + y.utf8.count, "'+'")
            return .string(x + y)
        case (.list(let x), .list(let y)) where op == "+":
            try Convert.checkItems(x.count + y.count, "'+'")
            return .list(x + y)
        case (.tuple(let x), .tuple(let y)) where op == "+":
            try Convert.checkItems(x.count + y.count, "'+'")
            return .tuple(x + y)
        case (.string(let s), .int(let n)) where op == "*", (.int(let n), .string(let s)) where op == "*":
            return .string(String(repeating: s, count: try repeatCount(n, s.utf8.count, limit: Convert.maxStringBytes, "bytes")))
        case (.list(let s), .int(let n)) where op == "*", (.int(let n), .list(let s)) where op == "*":
            let k = try repeatCount(n, s.count, limit: Convert.maxItems, "items")
            return .list(Array((0..<k).map { _ in s }.joined()))
        case (.tuple(let s), .int(let n)) where op == "*", (.int(let n), .tuple(let s)) where op == "*":
            let k = try repeatCount(n, s.count, limit: Convert.maxItems, "items")
            return .tuple(Array((0..<k).map { _ in s }.joined()))
        default: break
        }
        // Ints and bools stay integers (with float fallback on overflow), as in Python.
        if let x = intLike(a), let y = intLike(b) { return try intOp(op, x, y) }
        guard let x = a.number, let y = b.number else {
            throw LabError("unsupported operand types for \(op): '\(a.typeName)' and '\(b.typeName)'")
        }
        return .float(try floatOp(op, x, y))
    }

    private static func intLike(_ v: Value) -> Int? {
        switch v {
        case .int(let i): i
        case .bool(let b): b ? 1 : 0
        default: nil
        }
    }

    private static func repeatCount(_ n: Int, _ size: Int, limit: Int, _ unit: String) throws -> Int {
        let k = max(0, n)
        let (total, overflow) = k.multipliedReportingOverflow(by: max(size, 1))
        guard !overflow, total <= limit else { throw LabError("repetition too large (limit \(limit) \(unit))") }
        return k
    }

    static func intOp(_ op: String, _ x: Int, _ y: Int) throws -> Value {
        switch op {
        case "+": let (r, o) = x.addingReportingOverflow(y); return o ? .float(Double(x) + Double(y)) : .int(r)
        case "-": let (r, o) = x.subtractingReportingOverflow(y); return o ? .float(Double(x) - Double(y)) : .int(r)
        case "*": let (r, o) = x.multipliedReportingOverflow(by: y); return o ? .float(Double(x) * Double(y)) : .int(r)
        case "/":
            guard y != 0 else { throw LabError("division by zero") }
            return .float(Double(x) / Double(y))
        case "//":
            guard y != 0 else { throw LabError("integer division by zero") }
            if x == .min && y == -1 { return .float(-Double(x)) }
            let q = x / y
            return .int((x % y != 0 && (x < 0) != (y < 0)) ? q - 1 : q)
        case "%":
            guard y != 0 else { throw LabError("modulo by zero") }
            if y == -1 { return .int(0) }
            let r = x % y
            return .int(r != 0 && (r < 0) != (y < 0) ? r + y : r)
        case "**":
            if y < 0 { return .float(try floatOp("**", Double(x), Double(y))) }
            var result = 1, base = x, e = y
            while e > 0 {
                if e & 1 == 1 {
                    let (r, o) = result.multipliedReportingOverflow(by: base)
                    if o { return .float(Foundation.pow(Double(x), Double(y))) }
                    result = r
                }
                e >>= 1
                if e > 0 {
                    let (b2, o) = base.multipliedReportingOverflow(by: base)
                    if o { return .float(Foundation.pow(Double(x), Double(y))) }
                    base = b2
                }
            }
            return .int(result)
        case "@": throw LabError("'@' needs tensors")
        default: throw LabError("unknown operator \(op)")
        }
    }

    static func floatOp(_ op: String, _ x: Double, _ y: Double) throws -> Double {
        switch op {
        case "+": return x + y
        case "-": return x - y
        case "*": return x * y
        case "/":
            guard y != 0 else { throw LabError("float division by zero") }
            return x / y
        case "//":
            guard y != 0 else { throw LabError("float floor division by zero") }
            return (x / y).rounded(.down)
        case "%":
            guard y != 0 else { throw LabError("float modulo by zero") }
            let r = x.truncatingRemainder(dividingBy: y)
            return r != 0 && (r < 0) != (y < 0) ? r + y : r
        case "**":
            if x == 0 && y < 0 { throw LabError("0.0 cannot be raised to a negative power") }
            if x < 0 && y != y.rounded() { throw LabError("negative number raised to a fractional power") }
            return Foundation.pow(x, y)
        case "@": throw LabError("'@' needs tensors")
        default: throw LabError("unknown operator \(op)")
        }
    }

    static func tensorOp(_ op: String, _ a: Value, _ b: Value) throws -> Value {
        let x = try Convert.tensor(a, "left operand of \(op)")
        let y = try Convert.tensor(b, "right operand of \(op)")
        if op == "@" {
            guard x.rank == 2, y.rank == 2 else {
                throw LabError("'@' needs two matrices, got shapes \(x.shape) and \(y.shape)")
            }
            guard x.shape[1] == y.shape[0] else {
                throw LabError("'@': inner sizes differ: \(x.shape) @ \(y.shape)")
            }
            try Convert.checkShape([x.shape[0], y.shape[1]], "'@' result")
            return .tensor(x.matmul(y))
        }
        let f: (Float, Float) -> Float
        switch op {
        case "+": f = (+)
        case "-": f = (-)
        case "*": f = (*)
        case "/": f = (/)
        case "**": f = { Foundation.pow($0, $1) }
        case "%": f = { let r = $0.truncatingRemainder(dividingBy: $1); return r != 0 && (r < 0) != ($1 < 0) ? r + $1 : r }
        case "//": f = { ($0 / $1).rounded(.down) }
        default: throw LabError("unsupported operator \(op) for tensors")
        }
        if x.shape == y.shape { return .tensor(x.zip(y, f)) }
        if y.count == 1 { let s = y.data[0]; return .tensor(x.map { f($0, s) }) }
        if x.count == 1 { let s = x.data[0]; return .tensor(y.map { f(s, $0) }) }
        throw LabError("shapes \(x.shape) and \(y.shape) do not match for \(op)")
    }

    /// Python's `==`. Two lists sharing one array are equal without a look inside (Python too
    /// compares items by identity first), and a pair of arrays found equal once is not compared
    /// again, so `x == x` on `[[[1] * 1000] * 1000] * 1000` costs what building it cost.
    static func equal(_ a: Value, _ b: Value) -> Bool {
        var known: Set<ArrayPair> = []
        return equal(a, b, &known)
    }

    private struct ArrayPair: Hashable { var a: UnsafeRawPointer, b: UnsafeRawPointer }

    private static func equal(_ a: Value, _ b: Value, _ known: inout Set<ArrayPair>) -> Bool {
        switch (a, b) {
        case (.none, .none): return true
        case (.string(let x), .string(let y)): return x == y
        case (.list(let x), .list(let y)), (.tuple(let x), .tuple(let y)):
            guard x.count == y.count else { return false }
            let pa = x.withUnsafeBufferPointer { $0.baseAddress.map(UnsafeRawPointer.init) }
            let pb = y.withUnsafeBufferPointer { $0.baseAddress.map(UnsafeRawPointer.init) }
            guard let pa, let pb else { return true }   // both empty
            let pair = ArrayPair(a: pa, b: pb)
            if pa == pb || known.contains(pair) { return true }
            for (u, v) in zip(x, y) where !equal(u, v, &known) { return false }
            known.insert(pair)
            return true
        case let (.slice(a1, b1, c1), .slice(a2, b2, c2)):
            return equal(.tuple([a1 ?? .none, b1 ?? .none, c1 ?? .none]), .tuple([a2 ?? .none, b2 ?? .none, c2 ?? .none]), &known)
        case (.tensor(let x), .tensor(let y)): return x == y
        case (.object(let x), .object(let y)): return x === y
        default:
            if let x = a.number, let y = b.number { return x == y }
            return false
        }
    }

    package static func compare(_ op: String, _ a: Value, _ b: Value) throws -> Bool {
        if op == "==" { return equal(a, b) }
        if op == "!=" { return !equal(a, b) }
        let order: Int
        if let x = a.number, let y = b.number {
            order = x < y ? -1 : x > y ? 1 : 0
            if x.isNaN || y.isNaN { return false }
        } else if case .string(let x) = a, case .string(let y) = b {
            order = x < y ? -1 : x > y ? 1 : 0
        } else {
            throw LabError("'\(op)' not supported between '\(a.typeName)' and '\(b.typeName)'")
        }
        switch op {
        case "<": return order < 0
        case "<=": return order <= 0
        case ">": return order > 0
        default: return order >= 0
        }
    }

    // MARK: Indexing

    enum IndexItem {
        case index(Value)
        case slice(Value?, Value?, Value?)
    }

    static func subscriptValue(_ base: Value, _ items: [IndexItem], session: Session) throws -> Value {
        switch base {
        case .tensor(let t): return .tensor(try tensorIndex(t, items))
        case .list(let a), .tuple(let a):
            let isTuple = if case .tuple = base { true } else { false }
            guard items.count == 1 else { throw LabError("\(base.typeName) indices must be one integer or slice") }
            switch items[0] {
            case .index(let v): return a[try position(v, count: a.count, base.typeName)]
            case let .slice(x, y, z):
                let picked = try sliceIndices(x, y, z, count: a.count).map { a[$0] }
                return isTuple ? .tuple(picked) : .list(picked)
            }
        case .string(let s):
            let chars = Array(s)
            guard items.count == 1 else { throw LabError("string indices must be one integer or slice") }
            switch items[0] {
            case .index(let v): return .string(String(chars[try position(v, count: chars.count, "string")]))
            case let .slice(x, y, z): return .string(String(try sliceIndices(x, y, z, count: chars.count).map { chars[$0] }))
            }
        case .object(let o):
            // Objects opt in to indexing with a `__getitem__` method.
            guard let getter = try o.attribute("__getitem__") else {
                throw LabError("'\(o.typeName)' object is not subscriptable")
            }
            let keys: [Value] = items.map {
                switch $0 {
                case .index(let v): v
                case let .slice(a, b, c): .slice(start: a, stop: b, step: c)
                }
            }
            return try session.call(getter, [keys.count == 1 ? keys[0] : .tuple(keys)])
        default:
            throw LabError("'\(base.typeName)' object is not subscriptable")
        }
    }

    /// A Python index (negative from the end) checked against `count`.
    package static func position(_ v: Value, count: Int, _ what: String) throws -> Int {
        let i = try Convert.int(v, "\(what) index")
        let j = i < 0 ? i + count : i
        guard j >= 0 && j < count else { throw LabError("\(what) index \(i) out of range (size \(count))") }
        return j
    }

    /// The positions `start:stop:step` selects from `count` items, as Python's `slice.indices`.
    package static func sliceIndices(_ a: Value?, _ b: Value?, _ c: Value?, count n: Int) throws -> [Int] {
        func opt(_ v: Value?) throws -> Int? {
            guard let v, !v.isNone else { return nil }
            return try Convert.int(v, "slice bound")
        }
        let step = try opt(c) ?? 1
        guard step != 0 else { throw LabError("slice step cannot be zero") }
        func clamp(_ i: Int, _ lo: Int, _ hi: Int) -> Int {
            let j = i < 0 ? (i < -n ? lo : i + n) : i
            return Swift.min(Swift.max(j, lo), hi)
        }
        var out: [Int] = []
        if step > 0 {
            let start = try opt(a).map { clamp($0, 0, n) } ?? 0
            let stop = try opt(b).map { clamp($0, 0, n) } ?? n
            var i = start
            while i < stop {
                out.append(i)
                let (next, overflow) = i.addingReportingOverflow(step)
                if overflow { break }
                i = next
            }
        } else {
            let start = try opt(a).map { clamp($0, -1, n - 1) } ?? n - 1
            let stop = try opt(b).map { clamp($0, -1, n - 1) } ?? -1
            var i = start
            while i > stop {
                out.append(i)
                let (next, overflow) = i.addingReportingOverflow(step)
                if overflow { break }
                i = next
            }
        }
        return out
    }

    /// `t[i]`, `t[0, :5]`, `t[:, -1]`: integers drop a dimension, slices keep it.
    static func tensorIndex(_ t: Tensor, _ items: [IndexItem]) throws -> Tensor {
        guard items.count <= t.rank else {
            throw LabError("too many indices for tensor of shape \(t.shape): \(items.count)")
        }
        var picks: [[Int]] = []
        var outShape: [Int] = []
        for d in 0..<t.rank {
            if d < items.count {
                switch items[d] {
                case .index(let v):
                    picks.append([try position(v, count: t.shape[d], "dimension \(d)")])
                case let .slice(a, b, c):
                    let p = try sliceIndices(a, b, c, count: t.shape[d])
                    picks.append(p)
                    outShape.append(p.count)
                }
            } else {
                picks.append(Array(0..<t.shape[d]))
                outShape.append(t.shape[d])
            }
        }
        let strides = t.strides
        let total = picks.reduce(1) { $0 * $1.count }
        var out = [Float](repeating: 0, count: total)
        if total > 0 {
            var counter = [Int](repeating: 0, count: t.rank)
            t.data.withUnsafeBufferPointer { src in
                for k in 0..<total {
                    var off = 0
                    for d in 0..<t.rank { off += picks[d][counter[d]] * strides[d] }
                    out[k] = src[off]
                    var d = t.rank - 1
                    while d >= 0 {
                        counter[d] += 1
                        if counter[d] < picks[d].count { break }
                        counter[d] = 0
                        d -= 1
                    }
                }
            }
        }
        return Tensor(shape: outShape, data: out)
    }
}
