import Tensor

/// fastai's `masked_concat_pool`: for each row of the SentenceEncoder output, the
/// concatenation `[last, max, mean]` over its non-pad positions.
///
/// - `mean`: sum over non-pad positions / their count;
/// - `max`: element-wise max over non-pad positions (pads count as -inf);
/// - `last`: `outputs[row, T - lastPad - 1]` where `lastPad` is the number of pads among the
///   last `bptt` positions (the last real token under fastai's chunked padding; for plain
///   left padding, the final position).
/// As in fastai, a row with no real token gives `max = -inf` and `mean = nan`.
///
///     // outputs [bs, T, E], padMask [bs*T] (true = pad)
///     let pool = MaskedConcatPool(bptt: 72)
///     let pooled = pool.forward(outputs, padMask: mask)                 // [bs, 3E]
///     let dOutputs = try pool.backward(outputGradient: dPooled)         // [bs, T, E]
public final class MaskedConcatPool {
    /// The SentenceEncoder's chunk length (fastai `seq_len`): it decides which position is "last".
    public let bptt: Int

    /// What the backward pass needs from the last forward call: the chosen positions.
    struct Cache {
        /// Shape of the pooled input `[bs, T, E]`.
        let inputShape: [Int]
        /// Per row, the position used as `last`.
        let lastIndex: [Int]
        /// Per row and feature (`[bs*E]`), the position of the max (-1 when the row is all pads).
        let maxIndex: [Int]
        /// Per row, the number of non-pad positions.
        let lengths: [Int]
        /// `[bs*T]`, true at padding.
        let padMask: [Bool]
    }
    private var last: Cache?
    /// The output of the last forward call, `[bs, 3E]`.
    public private(set) var lastPooled: Tensor?

    public init(bptt: Int) { self.bptt = bptt }

    /// - Parameters:
    ///   - outputs: `[bs, T, E]` encoder outputs.
    ///   - padMask: `[bs * T]`, row-major, true where the token is padding.
    /// - Returns: pooled `[bs, 3E]` laid out as `[last | max | mean]`.
    public func forward(_ outputs: Tensor, padMask: [Bool]) -> Tensor {
        precondition(outputs.rank == 3, "masked concat pool needs [bs, T, E], got \(outputs.shape)")
        let (bs, t, e) = (outputs.shape[0], outputs.shape[1], outputs.shape[2])
        precondition(padMask.count == bs * t, "pad mask has \(padMask.count) entries for [\(bs), \(t)]")
        var pooled = [Float](repeating: 0, count: bs * 3 * e)
        var lastIndex = [Int](repeating: 0, count: bs)
        var maxIndex = [Int](repeating: -1, count: bs * e)
        var lengths = [Int](repeating: 0, count: bs)
        outputs.data.withUnsafeBufferPointer { x in
            pooled.withUnsafeMutableBufferPointer { out in
                for b in 0..<bs {
                    let row = b * t
                    var lastPad = 0
                    for j in max(0, t - bptt) ..< t where padMask[row + j] { lastPad += 1 }
                    var li = t - lastPad - 1
                    if li < 0 { li += t }   // Python's negative index (only for an all-pad tail of length T)
                    lastIndex[b] = li
                    let o = b * 3 * e
                    for f in 0..<e { out[o + f] = x[(row + li) * e + f] }
                    // max and mean over non-pad positions
                    for f in 0..<e { out[o + e + f] = -.infinity }
                    var n = 0
                    for j in 0..<t where !padMask[row + j] {
                        n += 1
                        let src = (row + j) * e
                        for f in 0..<e {
                            let v = x[src + f]
                            out[o + 2 * e + f] += v
                            if v > out[o + e + f] || maxIndex[b * e + f] < 0 {
                                out[o + e + f] = v
                                maxIndex[b * e + f] = j
                            }
                        }
                    }
                    lengths[b] = n
                    let inv = 1 / Float(n)   // n = 0 gives nan, as fastai's 0/0
                    for f in 0..<e { out[o + 2 * e + f] *= inv }
                    if n == 0 { for f in 0..<e { out[o + 2 * e + f] = .nan } }
                }
            }
        }
        last = Cache(inputShape: outputs.shape, lastIndex: lastIndex, maxIndex: maxIndex, lengths: lengths, padMask: padMask)
        lastPooled = Tensor(shape: [bs, 3 * e], data: pooled)
        return lastPooled!
    }

    /// Gradient with respect to the last forward's `outputs` given the gradient of the pooled
    /// features `[bs, 3E]`: `last` sends its gradient to one position, `max` to the arg-max
    /// position of each feature, `mean` spreads `1/n` over the non-pad positions.
    public func backward(outputGradient dPooled: Tensor) throws -> Tensor {
        guard let cache = last else { throw ClassifierError("masked concat pool: backward before forward") }
        let (bs, t, e) = (cache.inputShape[0], cache.inputShape[1], cache.inputShape[2])
        guard dPooled.shape == [bs, 3 * e] else {
            throw ClassifierError("masked concat pool: gradient shape \(dPooled.shape), expected [\(bs), \(3 * e)]")
        }
        let padMask = cache.padMask
        var dx = [Float](repeating: 0, count: bs * t * e)
        dPooled.data.withUnsafeBufferPointer { g in
            dx.withUnsafeMutableBufferPointer { d in
                for b in 0..<bs {
                    let o = b * 3 * e, row = b * t
                    let li = cache.lastIndex[b]
                    for f in 0..<e { d[(row + li) * e + f] += g[o + f] }
                    for f in 0..<e {
                        let j = cache.maxIndex[b * e + f]
                        if j >= 0 { d[(row + j) * e + f] += g[o + e + f] }
                    }
                    let n = cache.lengths[b]
                    guard n > 0 else { continue }
                    let inv = 1 / Float(n)
                    for j in 0..<t where !padMask[row + j] {
                        for f in 0..<e { d[(row + j) * e + f] += g[o + 2 * e + f] * inv }
                    }
                }
            }
        }
        return Tensor(shape: cache.inputShape, data: dx)
    }
}

// MARK: - Reference

extension MaskedConcatPool {
    /// Masked concat pooling written from the spec's words (../shared/spec/model.md 3.2), in Double
    /// with one position at a time.
    public enum Reference {
        /// The position `last` reads in a row: `T − last_pad − 1`, where `last_pad` counts the pads
        /// among the last `bptt` positions, and a negative index counts from the end as in Python.
        static func lastPosition(padRow: ArraySlice<Bool>, bptt: Int) -> Int {
            let T = padRow.count
            let lastPad = padRow.suffix(bptt).filter { $0 }.count
            let index = T - lastPad - 1
            return index < 0 ? index + T : index
        }

        /// - Parameters:
        ///   - x: `[bs, T, E]`.
        ///   - padMask: `[bs, T]`, true at padding.
        /// - Returns: `[bs, 3E]`, per row `[last | max | mean]`, max and mean over the non-pad
        ///   positions (a row with none gets −∞ and nan, as fastai).
        public static func forward(_ x: [Double], batchSize bs: Int, steps T: Int, features E: Int, padMask: [Bool],
                                   bptt: Int) -> [Double] {
            var pooled = [Double](repeating: 0, count: bs * 3 * E)
            for b in 0..<bs {
                let pads = padMask[(b * T)..<((b + 1) * T)]
                let last = lastPosition(padRow: pads, bptt: bptt)
                let real = (0..<T).filter { !padMask[b * T + $0] }
                for f in 0..<E {
                    let values = real.map { x[(b * T + $0) * E + f] }
                    pooled[b * 3 * E + f] = x[(b * T + last) * E + f]
                    pooled[b * 3 * E + E + f] = values.max() ?? -.infinity
                    pooled[b * 3 * E + 2 * E + f] = values.reduce(0, +) / Double(values.count)
                }
            }
            return pooled
        }

        /// `dL/dx` from `dL/d pooled` (`[bs, 3E]`): `last` to its position, `max` to the first
        /// position holding the max, `mean` spread as `1/n` over the `n` non-pad positions.
        public static func backward(pooledGradient dp: [Double], _ x: [Double], batchSize bs: Int, steps T: Int,
                                    features E: Int, padMask: [Bool], bptt: Int) -> [Double] {
            var dx = [Double](repeating: 0, count: bs * T * E)
            for b in 0..<bs {
                let last = lastPosition(padRow: padMask[(b * T)..<((b + 1) * T)], bptt: bptt)
                let real = (0..<T).filter { !padMask[b * T + $0] }
                for f in 0..<E {
                    dx[(b * T + last) * E + f] += dp[b * 3 * E + f]
                    let values = real.map { x[(b * T + $0) * E + f] }
                    if let top = values.max(), let at = real.first(where: { x[(b * T + $0) * E + f] == top }) {
                        dx[(b * T + at) * E + f] += dp[b * 3 * E + E + f]
                    }
                    for t in real { dx[(b * T + t) * E + f] += dp[b * 3 * E + 2 * E + f] / Double(real.count) }
                }
            }
            return dx
        }
    }
}
