import Foundation
import Tensor

/// Tensor builtins (`tensor`, `randn`, `zeros`, …) and tensor attributes (`t.shape`, `t.sum()`),
/// spelled as in PyTorch/fastai.
enum TensorBuiltins {
    static func install(in s: Session) {
        func add(_ name: String, _ summary: String, _ parameters: [Param], example: String,
                 _ call: @escaping (Arguments) throws -> Value) {
            s.register(Builtin(name, parameters, summary: summary, example: example, topic: "tensors", call: call))
        }
        let shape = Param.variadic("shape", "sizes of the dimensions (ints, or one tuple or list)")
        let seed = Param("seed", .int, default: nil, "makes the values repeatable; None draws from the session's generator")
        add("tensor", "a tensor from a number or nested lists of numbers",
            [Param("values", "a number or (nested) lists of numbers")], example: "tensor([[1, 2], [3, 4]])") { a in
            .tensor(try Convert.tensor(try a.value("values"), "tensor: values"))
        }
        add("randn", "normal random values (mean 0, std 1); seed= makes them repeatable", [shape, seed],
            example: "randn(2, 3, seed=0)") { a in
            let shape = try Convert.shape(a.rest(), "randn: shape")
            return .tensor(try random(a, shape) { Tensor.normal(shape, using: &$0) })
        }
        add("rand", "uniform random values in [0, 1)", [shape, seed], example: "rand(3, seed=1)") { a in
            let shape = try Convert.shape(a.rest(), "rand: shape")
            return .tensor(try random(a, shape) { Tensor.uniform(shape, using: &$0) })
        }
        add("zeros", "a tensor of zeros", [shape], example: "zeros(2, 3)") { a in
            .tensor(Tensor.zeros(try Convert.shape(a.rest(), "zeros: shape")))
        }
        add("ones", "a tensor of ones", [shape], example: "ones(4)") { a in
            .tensor(Tensor.ones(try Convert.shape(a.rest(), "ones: shape")))
        }
        add("arange", "evenly spaced values as a 1-d tensor",
            [Param("start", .float, "the first value; alone, the end (arange(3) is 0, 1, 2)"),
             Param("stop", .float, default: nil, "the end (not included)"),
             Param("step", .float, default: 1, "the difference between neighbours")],
            example: "arange(0, 1, 0.25)") { a in
            var start = try a.double("start")
            let stop: Double
            if let given = try a.optionalDouble("stop") { stop = given } else { stop = start; start = 0 }
            let step = try a.double("step")
            guard step != 0, step.isFinite, start.isFinite, stop.isFinite else { throw a.error("step must be finite and non-zero") }
            let n = Swift.max(0, ((stop - start) / step).rounded(.up))
            guard n <= Double(Convert.maxElements) else { throw a.error("too many values (limit \(Convert.maxElements))") }
            return .tensor(Tensor(shape: [Int(n)], data: (0..<Int(n)).map { Float(start + Double($0) * step) }))
        }
        add("shape", "the shape of a tensor (or nested list) as a tuple", [Param("x", .tensor, "a tensor or nested lists")],
            example: "shape(zeros(2, 3))") { a in
            .tuple(try a.tensor("x").shape.map { .int($0) })
        }
        add("matmul", "matrix product (also written a @ b)",
            [Param("a", "the left matrix (or vector)"), Param("b", "the right matrix (or vector)")],
            example: "matmul(ones(2, 3), ones(3, 1))") { a in
            try Operators.binary("@", try a.value("a"), try a.value("b"))
        }
        for (name, summary, f, g) in elementwise {
            add(name, summary + " (numbers or each tensor element)", [Param("x", "a number, tensor or nested lists")],
                example: "\(name)(tensor([0, 1]))") { a in
                let v = try a.value("x")
                if let d = v.number { return .float(g(d)) }
                return .tensor(try Convert.tensor(v, "\(name): x").map(f))
            }
        }
        add("softmax", "exp(x) normalised to sum 1 along the last dimension",
            [Param("x", .tensor, "the logits"), Param("dim", .int, default: -1, "the dimension (only the last is supported)")],
            example: "softmax(tensor([1, 2, 3]))") { a in
            let t = try a.tensor("x")
            let dim = try a.int("dim")
            guard t.rank >= 1, dim == -1 || dim == t.rank - 1 else { throw a.error("only the last dimension is supported") }
            return .tensor(Softmax.softmax(t))
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

    private static func installAttributes(_ type: ObjectType<Tensor>) {
        type.sample("t = tensor([[1, 2, 3], [4, 5, 6]])")
        type.attribute("shape", "sizes of the dimensions, as a tuple") { .tuple($0.shape.map { .int($0) }) }
        type.attribute("ndim", "number of dimensions") { .int($0.rank) }
        type.attribute("dtype", "element type (always float32)") { .string($0.dtype) }
        type.attribute("T", "the transpose of a matrix") { t in
            guard t.rank == 2 else { throw LabError("T needs a matrix, shape is \(t.shape)") }
            return .tensor(t.transposed)
        }
        type.method("numel", "number of elements", example: "t.numel()") { t, _ in .int(t.count) }
        type.method("item", "the value of a one-element tensor", example: "t[0, 1].item()") { t, a in
            guard t.count == 1 else { throw a.error("needs a one-element tensor, shape is \(t.shape)") }
            return Value.float32(t.data[0])
        }
        for (name, f) in [("sum", { (t: Tensor) in t.sum() }), ("mean", { $0.mean() })] as [(String, (Tensor) -> Float)] {
            type.method(name, "\(name) of all elements, or along one dimension",
                        [Param("dim", .int, default: nil, "the dimension to reduce (negative counts from the end); None reduces all")],
                        example: "t.\(name)(dim=0)") { t, a in
                guard let d = try a.optionalInt("dim") else { return Value.float32(f(t)) }
                let ax = d < 0 ? d + t.rank : d
                guard ax >= 0 && ax < t.rank else { throw a.error("dim \(d) out of range for shape \(t.shape)") }
                return .tensor(name == "sum" ? t.sum(axis: ax) : t.mean(axis: ax))
            }
        }
        type.method("std", "sample standard deviation of all elements", example: "t.std()") { t, _ in Value.float32(t.std()) }
        type.method("min", "smallest element", example: "t.min()") { t, _ in Value.float32(t.min()) }
        type.method("max", "largest element", example: "t.max()") { t, _ in Value.float32(t.max()) }
        type.method("argmax", "flat index of the largest element", example: "t.argmax()") { t, a in
            guard t.count > 0 else { throw a.error("empty tensor") }
            return .int(t.argmax())
        }
        for name in ["reshape", "view"] {
            type.method(name, "the same values with another shape (one size may be -1)",
                        [.variadic("shape", "the new sizes (ints; one may be -1)")], example: "t.\(name)(3, -1)") { t, a in
                var shape = try Convert.shape(a.rest(), "\(name): shape", allowInferred: true)
                if shape.count == 0 { throw a.error("missing shape") }
                if let u = shape.firstIndex(of: -1) {
                    // The other sizes are checked (no overflow), so their product is exact.
                    let known = shape.filter { $0 != -1 }.reduce(1, *)
                    guard known > 0, t.count % known == 0 else {
                        throw a.error("cannot reshape \(t.shape) (\(t.count) elements) to \(shape)")
                    }
                    shape[u] = t.count / known
                }
                guard Tensor.count(of: shape) == t.count else {
                    throw a.error("cannot reshape \(t.shape) (\(t.count) elements) to \(shape)")
                }
                return .tensor(t.reshaped(shape))
            }
        }
        type.method("tolist", "the values as (nested) lists", example: "t.tolist()") { t, a in
            // Every list made must fit the item limit: the elements, and the rows of all but the
            // last dimension (a [N, 0] tensor makes N empty lists).
            var lists = 1
            for d in t.shape.dropLast() { lists = lists.multipliedReportingOverflow(by: Swift.max(d, 1)).partialValue }
            try Convert.checkItems(Swift.max(t.count, lists), "tolist")
            return tolist(t)
        }
        for (name, summary, f, _) in elementwise {
            type.method(name, summary, example: "t.\(name)()") { t, _ in .tensor(t.map(f)) }
        }
    }

    static func tolist(_ t: Tensor) -> Value {
        if t.rank == 0 { return Value.float32(t.data[0]) }
        if t.rank == 1 { return .list(t.data.map { Value.float32($0) }) }
        return .list((0..<t.shape[0]).map { tolist(t.row($0)) })
    }
}
