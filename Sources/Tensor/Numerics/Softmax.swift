import Foundation

/// The one softmax family of the library: softmax, log-softmax, log-sum-exp, argmax and
/// cross-entropy with its gradient, on one row of `n` logits. Every loss, metric, prediction and
/// generation step calls these; `Softmax.Reference` holds the plain scalar versions in Double
/// that the tests compare them with.
///
/// The fast versions take the row's max, then `Σ e^(x − max)` with `fastExp`, through the two
/// passes of `kernels`: eight lanes here (`.simd8`); Models adds sixteen-lane AVX-512 ones for
/// the decoder. They accumulate in float32, so they agree with the reference to about 1e-6
/// relative.
///
///     let p = Softmax.softmax([1, 2, 3])            // [0.090, 0.245, 0.665]
///     Softmax.crossEntropy([1, 2, 3], target: 2)    // 0.4076 = −log 0.665
public enum Softmax {
    // MARK: fast, on a row

    /// The first index of the largest logit (torch.argmax), n ≥ 1.
    public static func argmax(_ x: UnsafePointer<Float>, count n: Int) -> Int {
        // One pass for the max on 8 lanes, then the first index holding it.
        firstIndex(of: maxElement(x, n), in: x, count: n)
    }

    /// `log Σ e^x`, n ≥ 1.
    public static func logSumExp(_ x: UnsafePointer<Float>, count n: Int, kernels: SoftmaxKernels = .simd8) -> Double {
        // Without a bias the pass does not write to the row.
        let (m, s) = kernels.maxAndExpSum(UnsafeMutablePointer(mutating: x), n, nil)
        return Double(m) + Foundation.log(Double(s))
    }

    /// `out = e^x / Σ e^x` (`out` may be `x`), n ≥ 1.
    public static func softmax(_ x: UnsafePointer<Float>, count n: Int, into out: UnsafeMutablePointer<Float>,
                               kernels: SoftmaxKernels = .simd8) {
        if out != UnsafeMutablePointer(mutating: x) { out.update(from: x, count: n) }
        let s = kernels.expInPlaceSum(out, n, maxElement(out, n))
        let k = 1 / s
        for i in 0..<n { out[i] *= k }
    }

    /// `out = x − log Σ e^x` (`out` may be `x`), n ≥ 1.
    public static func logSoftmax(_ x: UnsafePointer<Float>, count n: Int, into out: UnsafeMutablePointer<Float>,
                                  kernels: SoftmaxKernels = .simd8) {
        let lse = Float(logSumExp(x, count: n, kernels: kernels))
        for i in 0..<n { out[i] = x[i] - lse }
    }

    /// `−log_softmax(x)[target] = log Σ e^x − x[target]`, n ≥ 1, target in `0..<n`.
    public static func crossEntropy(_ x: UnsafePointer<Float>, count n: Int, target: Int,
                                    kernels: SoftmaxKernels = .simd8) -> Double {
        logSumExp(x, count: n, kernels: kernels) - Double(x[target])
    }

    /// The cross-entropy of `row` (plus `bias` when given), returned, and its gradient
    /// `scale · (softmax(row) − onehot(target))` written over `row` (the backward pass of
    /// `crossEntropy`, fused: one max pass, one exponential pass, one scaling pass).
    public static func crossEntropyBackward(_ row: UnsafeMutablePointer<Float>, count n: Int, target: Int,
                                            scale: Float, bias: UnsafePointer<Float>? = nil,
                                            kernels: SoftmaxKernels = .simd8) -> Double {
        let m = bias.map { addBiasAndMax(row, $0, n) } ?? maxElement(row, n)
        let zt = row[target]
        let s = kernels.expInPlaceSum(row, n, m)
        let k = scale / s
        for v in 0..<n { row[v] *= k }
        row[target] -= scale
        return Double(m) + Foundation.log(Double(s)) - Double(zt)
    }

    // MARK: fast, on arrays and tensors

    /// Softmax of one row.
    public static func softmax(_ x: [Float]) -> [Float] {
        guard !x.isEmpty else { return [] }
        var out = x
        out.withUnsafeMutableBufferPointer { softmax($0.baseAddress!, count: $0.count, into: $0.baseAddress!) }
        return out
    }

    /// Cross-entropy of one row (`target` in range).
    public static func crossEntropy(_ x: [Float], target: Int) -> Double {
        x.withUnsafeBufferPointer { crossEntropy($0.baseAddress!, count: $0.count, target: target) }
    }

    /// Softmax along the last axis of `t`.
    public static func softmax(_ t: Tensor) -> Tensor {
        let n = t.shape.last ?? 1
        guard n > 0, t.count > 0 else { return t }
        var out = t
        out.data.withUnsafeMutableBufferPointer { p in
            for start in Swift.stride(from: 0, to: p.count, by: n) {
                softmax(p.baseAddress! + start, count: n, into: p.baseAddress! + start)
            }
        }
        return out
    }

    // MARK: pieces for rows taken tile by tile (the decoder's evaluation loss)

    /// The first `i` with `x[i] == value` (n when none), eight lanes at a time.
    @inlinable
    public static func firstIndex(of value: Float, in x: UnsafePointer<Float>, count n: Int) -> Int {
        var i = 0
        while i + 8 <= n {
            let hit = load8(x + i) .== Float8(repeating: value)
            if any(hit) { for l in 0..<8 where hit[l] { return i + l } }
            i += 8
        }
        while i < n && x[i] != value { i += 1 }
        return i
    }

    /// Two parts of a row's log-sum-exp, each a max `m` and `Σ e^(x − m)`, merged:
    /// `S = S₁·e^(m₁−M) + S₂·e^(m₂−M)` with `M = max(m₁, m₂)` (a row taken tile by tile).
    @inlinable
    public static func merge(_ a: (max: Float, sum: Float), _ b: (max: Float, sum: Float)) -> (max: Float, sum: Float) {
        let top = Swift.max(a.max, b.max)
        return (top, a.sum * Foundation.exp(a.max - top) + b.sum * Foundation.exp(b.max - top))
    }

    // MARK: reference

    /// Plain scalar versions in Double with libm's `exp`, written as the formulas read: what the
    /// fast versions mean, and what the tests compare them with.
    public enum Reference {
        public static func argmax(_ x: [Float]) -> Int {
            var best = 0
            for i in x.indices where x[i] > x[best] { best = i }
            return best
        }

        public static func logSumExp(_ x: [Float]) -> Double {
            let m = Double(x.max()!)
            return m + Foundation.log(x.reduce(0.0) { $0 + Foundation.exp(Double($1) - m) })
        }

        public static func softmax(_ x: [Float]) -> [Double] {
            let lse = logSumExp(x)
            return x.map { Foundation.exp(Double($0) - lse) }
        }

        public static func logSoftmax(_ x: [Float]) -> [Double] {
            let lse = logSumExp(x)
            return x.map { Double($0) - lse }
        }

        public static func crossEntropy(_ x: [Float], target: Int) -> Double {
            logSumExp(x) - Double(x[target])
        }

        /// `d crossEntropy / d x · scale = scale · (softmax(x) − onehot(target))`.
        public static func crossEntropyBackward(_ x: [Float], target: Int, scale: Double) -> [Double] {
            var g = softmax(x)
            g[target] -= 1
            return g.map { $0 * scale }
        }
    }
}

/// The two passes every fast member of `Softmax` is built from, as functions so that Models can
/// supply AVX-512 versions (`AVX512Kernels` is not below Tensor).
public struct SoftmaxKernels: Sendable {
    /// `(row, n, bias)` → the max `m` and `Σ e^(x − m)` of `x = row + bias` (n ≥ 1); with a bias,
    /// `row` holds `row + bias` afterwards, else it is not written.
    public let maxAndExpSum: @Sendable (UnsafeMutablePointer<Float>, Int, UnsafePointer<Float>?) -> (max: Float, sum: Float)
    /// `(row, n, shift)`: `row[i] = e^(row[i] − shift)`, returning their sum.
    public let expInPlaceSum: @Sendable (UnsafeMutablePointer<Float>, Int, Float) -> Float

    public init(maxAndExpSum: @escaping @Sendable (UnsafeMutablePointer<Float>, Int, UnsafePointer<Float>?) -> (max: Float, sum: Float),
                expInPlaceSum: @escaping @Sendable (UnsafeMutablePointer<Float>, Int, Float) -> Float) {
        self.maxAndExpSum = maxAndExpSum
        self.expInPlaceSum = expInPlaceSum
    }

    /// Eight lanes with `fastExp` (AVX2 + FMA in this package's build).
    public static let simd8 = SoftmaxKernels(
        maxAndExpSum: { row, n, bias in
            let m = bias.map { addBiasAndMax(row, $0, n) } ?? maxElement(row, n)
            return (m, shiftedExpSum(row, n, shift: m))
        },
        expInPlaceSum: { row, n, shift in expShiftedSum(row, n, shift: shift) })
}
