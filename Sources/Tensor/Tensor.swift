/// A dense Float32 tensor: a shape and contiguous row-major storage.
///
/// `Tensor` has value semantics (its storage is a copy-on-write Swift array), so
/// passing one around never aliases by surprise. Hot loops reach the storage once
/// through `withUnsafeBufferPointer` / `withUnsafeMutableBufferPointer`.
///
///     var t = Tensor(shape: [2, 3], data: [1, 2, 3, 4, 5, 6])
///     t[1, 2]          // 6
///     t.sum()          // 21
public struct Tensor: Equatable, Sendable {
    /// Sizes of each dimension, outermost first. A scalar has shape `[]`.
    public private(set) var shape: [Int]
    /// The elements in row-major order; `data.count == shape.product`.
    public var data: [Float]

    /// A tensor with the given elements; `data.count` must equal the product of `shape`.
    public init(shape: [Int], data: [Float]) {
        precondition(shape.allSatisfy { $0 >= 0 }, "negative dimension in shape \(shape)")
        precondition(data.count == Tensor.count(of: shape),
                     "shape \(shape) needs \(Tensor.count(of: shape)) elements, got \(data.count)")
        self.shape = shape
        self.data = data
    }

    /// A tensor whose elements all equal `value`.
    public init(shape: [Int], repeating value: Float = 0) {
        self.init(shape: shape, data: [Float](repeating: value, count: Tensor.count(of: shape)))
    }

    /// A tensor of zeros.
    public static func zeros(_ shape: [Int]) -> Tensor { Tensor(shape: shape) }

    /// A tensor of ones.
    public static func ones(_ shape: [Int]) -> Tensor { Tensor(shape: shape, repeating: 1) }

    /// A 0-d tensor holding one value.
    public init(scalar: Float) { self.init(shape: [], data: [scalar]) }

    /// Number of elements a shape holds.
    public static func count(of shape: [Int]) -> Int { shape.reduce(1, *) }

    /// Number of elements.
    public var count: Int { data.count }
    /// Number of dimensions.
    public var rank: Int { shape.count }
    /// The element type's name, as shown in descriptions.
    public var dtype: String { "float32" }

    /// Row-major strides, in elements.
    public var strides: [Int] {
        var s = [Int](repeating: 1, count: shape.count)
        var acc = 1
        for d in stride(from: shape.count - 1, through: 0, by: -1) {
            s[d] = acc
            acc *= shape[d]
        }
        return s
    }

    /// The flat index of a multi-index (each coordinate may be negative, counted from the end).
    public func offset(_ index: [Int]) -> Int {
        precondition(index.count == shape.count, "index \(index) has \(index.count) coordinates for shape \(shape)")
        var off = 0
        for (d, i) in index.enumerated() {
            let j = i < 0 ? i + shape[d] : i
            precondition(j >= 0 && j < shape[d], "index \(i) out of range for dimension \(d) of size \(shape[d])")
            off = off * shape[d] + j
        }
        return off
    }

    public subscript(_ index: Int...) -> Float {
        get { data[offset(index)] }
        set { data[offset(index)] = newValue }
    }

    /// The single value of a one-element tensor.
    public var item: Float {
        precondition(count == 1, "item needs a one-element tensor, shape is \(shape)")
        return data[0]
    }

    /// The same elements viewed with another shape; one dimension may be -1 (inferred).
    public func reshaped(_ newShape: [Int]) -> Tensor {
        var s = newShape
        if let k = s.firstIndex(of: -1) {
            let known = s.enumerated().filter { $0.offset != k }.map(\.element).reduce(1, *)
            precondition(known > 0 && count % known == 0, "cannot reshape \(shape) to \(newShape)")
            s[k] = count / known
        }
        precondition(Tensor.count(of: s) == count, "cannot reshape \(shape) (\(count) elements) to \(newShape)")
        return Tensor(shape: s, data: data)
    }

    /// Row `i` of the outermost dimension, as a tensor of rank-1 lower.
    public func row(_ i: Int) -> Tensor {
        precondition(rank >= 1, "row needs rank >= 1")
        let j = i < 0 ? i + shape[0] : i
        precondition(j >= 0 && j < shape[0], "row \(i) out of range for size \(shape[0])")
        let inner = Array(shape.dropFirst())
        let n = Tensor.count(of: inner)
        return Tensor(shape: inner, data: Array(data[j * n ..< (j + 1) * n]))
    }

    /// Rows `range` of the outermost dimension.
    public func rows(_ range: Range<Int>) -> Tensor {
        precondition(rank >= 1 && range.lowerBound >= 0 && range.upperBound <= shape[0],
                     "rows \(range) out of range for shape \(shape)")
        let n = Tensor.count(of: Array(shape.dropFirst()))
        var s = shape
        s[0] = range.count
        return Tensor(shape: s, data: Array(data[range.lowerBound * n ..< range.upperBound * n]))
    }

    /// The transpose of a matrix.
    public var transposed: Tensor {
        precondition(rank == 2, "transposed needs a matrix, shape is \(shape)")
        let (r, c) = (shape[0], shape[1])
        var out = [Float](repeating: 0, count: count)
        data.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for i in 0..<r { for j in 0..<c { dst[j * r + i] = src[i * c + j] } }
            }
        }
        return Tensor(shape: [c, r], data: out)
    }
}
