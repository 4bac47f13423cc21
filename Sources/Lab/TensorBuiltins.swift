import Foundation
import Tensor

/// Tensor builtins (`tensor`, `randn`, `zeros`, …) and tensor attributes (`t.shape`, `t.sum()`),
/// spelled as in PyTorch/fastai.
enum TensorBuiltins {
    static func install(in s: Session) {
        func add(_ name: String, _ signature: String, _ summary: String, _ example: String,
                 _ call: @escaping (Arguments) throws -> Value) {
            s.register(Builtin(name, signature: signature, summary: summary, example: example, topic: "tensors", call: call))
        }
        add("tensor", "tensor(values)", "a tensor from a number or nested lists of numbers",
            "tensor([[1, 2], [3, 4]])") { a in
            .tensor(try Convert.tensor(try a.required("values", at: 0), "tensor: values"))
        }
        add("randn", "randn(*shape, seed=None)", "normal random values (mean 0, std 1); seed= makes them repeatable",
            "randn(2, 3, seed=0)") { a in
            let shape = try Convert.shape(a.rest(from: 0), "randn: shape")
            return .tensor(try random(a, shape) { Tensor.normal(shape, using: &$0) })
        }
        add("rand", "rand(*shape, seed=None)", "uniform random values in [0, 1)", "rand(3, seed=1)") { a in
            let shape = try Convert.shape(a.rest(from: 0), "rand: shape")
            return .tensor(try random(a, shape) { Tensor.uniform(shape, using: &$0) })
        }
        add("zeros", "zeros(*shape)", "a tensor of zeros", "zeros(2, 3)") { a in
            .tensor(Tensor.zeros(try Convert.shape(a.rest(from: 0), "zeros: shape")))
        }
        add("ones", "ones(*shape)", "a tensor of ones", "ones(4)") { a in
            .tensor(Tensor.ones(try Convert.shape(a.rest(from: 0), "ones: shape")))
        }
        add("arange", "arange(stop) | arange(start, stop, step=1)", "evenly spaced values as a 1-d tensor",
            "arange(0, 1, 0.25)") { a in
            var start = 0.0, stop = try a.double("stop", at: 0)
            if let second = a.value("stop2", at: 1) {
                guard let d = second.number else { throw a.error("'stop' must be a number") }
                start = stop; stop = d
            }
            let step = try a.double("step", at: 2, default: 1)
            guard step != 0, step.isFinite, start.isFinite, stop.isFinite else { throw a.error("step must be finite and non-zero") }
            let n = Swift.max(0, ((stop - start) / step).rounded(.up))
            guard n <= Double(Convert.maxElements) else { throw a.error("too many values") }
            return .tensor(Tensor(shape: [Int(n)], data: (0..<Int(n)).map { Float(start + Double($0) * step) }))
        }
        add("shape", "shape(x)", "the shape of a tensor (or nested list) as a tuple", "shape(zeros(2, 3))") { a in
            let t = try Convert.tensor(try a.required("x", at: 0), "shape: x")
            return .tuple(t.shape.map { .int($0) })
        }
        add("matmul", "matmul(a, b)", "matrix product (also written a @ b)", "matmul(ones(2, 3), ones(3, 1))") { a in
            try Operators.binary("@", try a.required("a", at: 0), try a.required("b", at: 1))
        }
        for (name, summary, f, g) in elementwise {
            add(name, "\(name)(x)", summary + " (numbers or each tensor element)", "\(name)(tensor([0, 1]))") { a in
                let v = try a.required("x", at: 0)
                if let d = v.number { return .float(g(d)) }
                return .tensor(try Convert.tensor(v, "\(name): x").map(f))
            }
        }
        add("softmax", "softmax(x, dim=-1)", "exp(x) normalised to sum 1 along the last dimension",
            "softmax(tensor([1, 2, 3]))") { a in
            let t = try a.tensor("x", at: 0)
            let dim = try a.int("dim", at: 1, default: -1)
            guard t.rank >= 1, dim == -1 || dim == t.rank - 1 else { throw a.error("only the last dimension is supported") }
            return .tensor(softmaxLast(t))
        }
        installAttributes(s.tensorType)
    }

    static var elementwise: [(String, String, (Float) -> Float, (Double) -> Double)] { [
        ("exp", "e to the power x", { Foundation.exp($0) }, { Foundation.exp($0) }),
        ("log", "natural logarithm", { Foundation.log($0) }, { Foundation.log($0) }),
        ("sqrt", "square root", { $0.squareRoot() }, { $0.squareRoot() }),
        ("tanh", "hyperbolic tangent", { Foundation.tanh($0) }, { Foundation.tanh($0) }),
        ("sin", "sine", { Foundation.sin($0) }, { Foundation.sin($0) }),
        ("cos", "cosine", { Foundation.cos($0) }, { Foundation.cos($0) }),
        ("sigmoid", "1 / (1 + exp(-x))", { 1 / (1 + Foundation.exp(-$0)) }, { 1 / (1 + Foundation.exp(-$0)) }),
        ("relu", "max(x, 0)", { Swift.max($0, 0) }, { Swift.max($0, 0) }),
    ] }

    /// Draws with `seed=` when given (repeatable), else from the session's generator.
    private static func random(_ a: Arguments, _ shape: [Int], _ draw: (inout SeededGenerator) -> Tensor) throws -> Tensor {
        if let seed = try a.optionalInt("seed") {
            var g = SeededGenerator(seed: UInt64(bitPattern: Int64(seed)))
            return draw(&g)
        }
        return draw(&a.session.rng)
    }

    static func softmaxLast(_ t: Tensor) -> Tensor {
        let n = t.shape.last ?? 1
        guard n > 0 else { return t }
        var out = t.data
        for start in Swift.stride(from: 0, to: out.count, by: n) {
            let m = out[start ..< start + n].max() ?? 0
            var total: Float = 0
            for i in start ..< start + n { out[i] = Foundation.exp(out[i] - m); total += out[i] }
            for i in start ..< start + n { out[i] /= total }
        }
        return Tensor(shape: t.shape, data: out)
    }

    private static func installAttributes(_ type: ObjectType<Tensor>) {
        type.attribute("shape", "sizes of the dimensions, as a tuple") { .tuple($0.shape.map { .int($0) }) }
        type.attribute("ndim", "number of dimensions") { .int($0.rank) }
        type.attribute("dtype", "element type (always float32)") { .string($0.dtype) }
        type.attribute("T", "the transpose of a matrix") { t in
            guard t.rank == 2 else { throw LabError("T needs a matrix, shape is \(t.shape)") }
            return .tensor(t.transposed)
        }
        type.method("numel", "numel()", "number of elements") { t, _ in .int(t.count) }
        type.method("item", "item()", "the value of a one-element tensor") { t, a in
            guard t.count == 1 else { throw a.error("needs a one-element tensor, shape is \(t.shape)") }
            return Value.float32(t.data[0])
        }
        for (name, f) in [("sum", { (t: Tensor) in t.sum() }), ("mean", { $0.mean() })] as [(String, (Tensor) -> Float)] {
            type.method(name, "\(name)(dim=None)", "\(name) of all elements, or along one dimension") { t, a in
                guard let d = try a.optionalInt("dim", at: 0) else { return Value.float32(f(t)) }
                let ax = d < 0 ? d + t.rank : d
                guard ax >= 0 && ax < t.rank else { throw a.error("dim \(d) out of range for shape \(t.shape)") }
                return .tensor(name == "sum" ? t.sum(axis: ax) : t.mean(axis: ax))
            }
        }
        type.method("std", "std()", "sample standard deviation of all elements") { t, _ in Value.float32(t.std()) }
        type.method("min", "min()", "smallest element") { t, _ in Value.float32(t.min()) }
        type.method("max", "max()", "largest element") { t, _ in Value.float32(t.max()) }
        type.method("argmax", "argmax()", "flat index of the largest element") { t, a in
            guard t.count > 0 else { throw a.error("empty tensor") }
            return .int(t.argmax())
        }
        for name in ["reshape", "view"] {
            type.method(name, "\(name)(*shape)", "the same values with another shape (one size may be -1)") { t, a in
                var shape: [Int] = []
                for v in a.rest(from: 0) { shape.append(try Convert.int(v, "\(name): shape")) }
                if shape.count == 0 { throw a.error("missing shape") }
                if shape.count == 1, shape[0] == -1 { return .tensor(t.reshaped([t.count])) }
                let unknown = shape.filter { $0 == -1 }.count
                guard unknown <= 1, shape.allSatisfy({ $0 >= -1 }) else { throw a.error("bad shape \(shape)") }
                let known = shape.filter { $0 != -1 }.reduce(1) { $0 &* $1 }
                guard unknown == 1 ? (known > 0 && t.count % known == 0) : known == t.count else {
                    throw a.error("cannot reshape \(t.shape) (\(t.count) elements) to \(shape)")
                }
                return .tensor(t.reshaped(shape))
            }
        }
        type.method("tolist", "tolist()", "the values as (nested) lists") { t, _ in tolist(t) }
        for (name, summary, f, _) in elementwise {
            type.method(name, "\(name)()", summary) { t, _ in .tensor(t.map(f)) }
        }
    }

    static func tolist(_ t: Tensor) -> Value {
        if t.rank == 0 { return Value.float32(t.data[0]) }
        if t.rank == 1 { return .list(t.data.map { Value.float32($0) }) }
        return .list((0..<t.shape[0]).map { tolist(t.row($0)) })
    }
}
