/// fastai's `RNNDropout`: one mask per sequence and feature, `[bs, F]` (0 or 1/(1−p)), shared by
/// every time step of the sequence. The encoder uses it on its input and between LSTM layers, the
/// decoder on its input (`output_p`).
///
/// The fast path works on the time-major buffers of the model; `Reference` is the same thing
/// batch-first, as fastai's tensors are.
public enum RNNDropout {
    /// `dst[t, b, f] = src[t, b, f] · mask[b, f]`.
    /// - Parameters:
    ///   - src: `[T, bs, F]`, time-major.
    ///   - mask: `[bs, F]`.
    ///   - dst: `[T, bs, F]`; may be `src` itself (the backward pass multiplies in place).
    /// The same product is its own backward: `dsrc = ddst ⊙ mask`.
    static func apply(_ src: UnsafePointer<Float>, mask: UnsafePointer<Float>, into dst: UnsafeMutablePointer<Float>,
                      T: Int, bs: Int, F: Int) {
        for t in 0..<T {
            for b in 0..<bs {
                let o = (t * bs + b) * F, m = mask + b * F
                for f in 0..<F { dst[o + f] = src[o + f] * m[f] }
            }
        }
    }

    /// Plain loops in Double, batch-first: what `apply` means.
    public enum Reference {
        /// `y[b, t, f] = x[b, t, f] · mask[b, f]`.
        /// - Parameters:
        ///   - x: `[bs, T, F]`.
        ///   - mask: `[bs, F]`, the same for every step `t`.
        /// - Returns: `[bs, T, F]`.
        public static func forward(_ x: [Double], mask: [Double], batchSize bs: Int, steps T: Int, features F: Int) -> [Double] {
            var y = [Double](repeating: 0, count: bs * T * F)
            for b in 0..<bs {
                for t in 0..<T {
                    for f in 0..<F { y[(b * T + t) * F + f] = x[(b * T + t) * F + f] * mask[b * F + f] }
                }
            }
            return y
        }

        /// `dx[b, t, f] = dy[b, t, f] · mask[b, f]` (`dy`: `[bs, T, F]`): a product with a constant
        /// mask is its own transpose, so the backward pass is the forward pass applied to `dy`.
        public static func backward(outputGradient dy: [Double], mask: [Double], batchSize bs: Int, steps T: Int,
                                    features F: Int) -> [Double] {
            forward(dy, mask: mask, batchSize: bs, steps: T, features: F)
        }
    }
}
