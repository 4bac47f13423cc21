import Tensor

/// fastai's `RNNRegularizer` maths (AR and TAR), with gradients, for models to add to the loss
/// they differentiate (the reported loss excludes them).
///
/// - AR: `alpha · mean(dropped²)` over every element of the last layer's output after output
///   dropout, `[bs, sl, E]`.
/// - TAR: `beta · mean((raw[:, t+1] − raw[:, t])²)` over `bs·(sl−1)·E` elements of the last
///   layer's output before dropout. fastai skips TAR when the batch has one **row** (its guard
///   tests the batch dimension); kept here. When `sl == 1` fastai's mean over nothing gives NaN;
///   here TAR is 0 instead (deliberate difference).
///
///     let r = RNNRegularizer().terms(raw: raw, dropped: dropped)   // r.ar + r.tar, r.gradRaw, r.gradDropped
public struct RNNRegularizer: Sendable, Equatable {
    /// AR weight (TextLearner default 2).
    public var alpha: Float
    /// TAR weight (TextLearner default 1).
    public var beta: Float

    public init(alpha: Float = 2, beta: Float = 1) { self.alpha = alpha; self.beta = beta }

    /// The two terms and the gradient of their sum with respect to `raw` and `dropped`
    /// (both `[bs, sl, E]`, batch-first).
    public func terms(raw: Tensor, dropped: Tensor) throws
        -> (ar: Float, tar: Float, gradRaw: Tensor, gradDropped: Tensor) {
        guard raw.rank == 3, dropped.shape == raw.shape else {
            throw LearnError.invalidArgument("AR/TAR: raw \(raw.shape) and dropped \(dropped.shape) must both be [bs, sl, E]")
        }
        let (bs, sl, e) = (raw.shape[0], raw.shape[1], raw.shape[2])
        var gradDropped = Tensor(shape: raw.shape)
        var gradRaw = Tensor(shape: raw.shape)
        var ar = 0.0, tar = 0.0
        let n = dropped.count
        if alpha != 0 && n > 0 {
            var s = 0.0
            let scale = 2 * alpha / Float(n)
            dropped.data.withUnsafeBufferPointer { d in
                gradDropped.data.withUnsafeMutableBufferPointer { g in
                    for i in 0..<n { s += Double(d[i]) * Double(d[i]); g[i] = scale * d[i] }
                }
            }
            ar = Double(alpha) * s / Double(n)
        }
        if beta != 0 && bs > 1 && sl > 1 {
            let m = bs * (sl - 1) * e
            let scale = 2 * beta / Float(m)
            var s = 0.0
            raw.data.withUnsafeBufferPointer { r in
                gradRaw.data.withUnsafeMutableBufferPointer { g in
                    for b in 0..<bs {
                        for t in 0..<(sl - 1) {
                            let now = (b * sl + t) * e, next = now + e
                            for k in 0..<e {
                                let diff = r[next + k] - r[now + k]
                                s += Double(diff) * Double(diff)
                                g[next + k] += scale * diff
                                g[now + k] -= scale * diff
                            }
                        }
                    }
                }
            }
            tar = Double(beta) * s / Double(m)
        }
        return (Float(ar), Float(tar), gradRaw, gradDropped)
    }
}
