import Foundation
import Tensor

/// fastai's `LinearDecoder`: output `RNNDropout` then `logits = dropped · Wᵀ + b`.
///
/// With tied weights `W` is the encoder's embedding parameter itself, so the matrix receives
/// the sum of the lookup gradient and the decoder gradient.
///
/// The training loss never materialises the full `[bs·T, V]` logits: `crossEntropy` works on
/// chunks of rows, computing each chunk's logits, log-softmax, loss and gradient in one
/// scratch buffer (fused), then the chunk's contribution to `dW`, `db` and `d dropped`.
public final class LinearDecoder {
    /// `1.decoder.weight [V, E]` (the embedding when tied).
    public let weight: Parameter
    /// `1.decoder.bias [V]`, when the config has `out_bias`.
    public let bias: Parameter?
    /// Output dropout probability.
    public var outputP: Float
    public var isTraining = true
    /// Random source for the output dropout mask.
    public var rng: SeededGenerator

    /// Rows per fused loss chunk are chosen so a chunk's logits hold about this many floats
    /// (96 MB: big enough that the `dW` GEMM per chunk runs at full speed).
    var chunkFloats = 24 << 20

    private(set) var steps = 0
    private(set) var batch = 0
    let mask = FloatBuffer()          // [bs, E]
    private(set) var maskUsed = false
    let dropped = FloatBuffer()       // [T, bs, E]
    let chunk = FloatBuffer()         // [rows, V]
    let biasGrad = FloatBuffer()      // [V]

    init(weight: Parameter, bias: Parameter?, outputP: Float, rng: SeededGenerator) {
        self.weight = weight
        self.bias = bias
        self.outputP = outputP
        self.rng = rng
    }

    var vocabSize: Int { weight.shape[0] }
    var embSize: Int { weight.shape[1] }

    // MARK: forward

    /// Output dropout on the encoder output `raw [T, bs, E]` (time-major) into `dropped`.
    func applyDropout(raw: UnsafePointer<Float>, T: Int, bs: Int) {
        let E = embSize
        steps = T
        batch = bs
        dropped.ensure(T * bs * E)
        maskUsed = isTraining && outputP > 0
        guard maskUsed else {
            dropped.pointer.update(from: raw, count: T * bs * E)
            return
        }
        mask.ensure(bs * E)
        drawDropoutMask(mask.pointer, count: bs * E, p: outputP, rng: &rng)
        for r in 0..<(T * bs) {
            let m = mask.pointer + (r % bs) * E
            for k in 0..<E { dropped.pointer[r * E + k] = raw[r * E + k] * m[k] }
        }
    }

    /// Full logits of rows `rows` of `dropped` into `out [rows.count, V]`.
    func logits(rows: Range<Int>, into out: UnsafeMutablePointer<Float>) {
        let V = vocabSize, E = embSize, n = rows.count
        if let bias {
            bias.withValue { b in for r in 0..<n { (out + r * V).update(from: b, count: V) } }
        } else {
            out.update(repeating: 0, count: n * V)
        }
        weight.withValue { w in
            BLAS.sgemm(transB: true, m: n, n: V, k: E, a: dropped.pointer + rows.lowerBound * E, lda: E,
                       b: w, ldb: E, beta: 1, c: out, ldc: V)
        }
    }

    /// Sum over rows of `−log_softmax(logits)[target]`, fused and chunked.
    /// - Parameters:
    ///   - targets: one target id per row of `dropped`, in the same (time-major) row order.
    ///   - gradScale: factor on the gradient (1/N for a mean loss).
    ///   - dDropped: when not nil, receives `dL/d dropped [N, E]` (overwritten); the weight and
    ///     bias gradients are accumulated at the same time.
    func crossEntropy(targets: [Int], gradScale: Float, dDropped: UnsafeMutablePointer<Float>?) -> Double {
        let V = vocabSize, E = embSize, N = targets.count
        let rowsPerChunk = max(1, min(N, chunkFloats / max(V, 1)))
        chunk.ensure(rowsPerChunk * V)
        let wantBias = dDropped != nil && (bias?.requiresGrad ?? false)
        if wantBias {
            biasGrad.ensure(V)
            biasGrad.zero(V)
        }
        var total = 0.0
        var start = 0
        while start < N {
            let n = min(rowsPerChunk, N - start)
            let z = chunk.pointer
            logits(rows: start..<(start + n), into: z)
            for r in 0..<n {
                let row = z + r * V
                let target = targets[start + r]
                let m = maxElement(row, V)
                let zt = row[target]
                expShifted(row, V, shift: m)
                let s = sumElements(row, V)
                if dDropped != nil {
                    // softmax − one-hot, scaled for the mean.
                    let k = gradScale / s
                    for v in 0..<V { row[v] *= k }
                    row[target] -= gradScale
                }
                total += Double(m + Foundation.log(s) - zt)
            }
            if let dDropped {
                let d = dropped.pointer + start * E
                weight.withValue { w in
                    BLAS.sgemm(m: n, n: E, k: V, a: z, lda: V, b: w, ldb: E, beta: 0,
                               c: dDropped + start * E, ldc: E)
                }
                if weight.requiresGrad {
                    weight.withGrad { g in
                        BLAS.sgemm(transA: true, m: V, n: E, k: n, a: z, lda: V, b: d, ldb: E,
                                   beta: 1, c: g, ldc: E)
                    }
                }
                if wantBias {
                    let bg = biasGrad.pointer
                    for r in 0..<n {
                        let row = z + r * V
                        for v in 0..<V { bg[v] += row[v] }
                    }
                }
            }
            start += n
        }
        if wantBias, let bias {
            bias.withGrad { g in for v in 0..<V { g[v] += biasGrad.pointer[v] } }
        }
        return total
    }

    // MARK: backward

    /// Through the output dropout: `d raw = d dropped ⊙ mask`, in place.
    func backwardDropout(_ d: UnsafeMutablePointer<Float>) {
        guard maskUsed else { return }
        let E = embSize
        for r in 0..<(steps * batch) {
            let m = mask.pointer + (r % batch) * E
            for k in 0..<E { d[r * E + k] *= m[k] }
        }
    }
}
