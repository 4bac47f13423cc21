/// fastai's `EmbeddingDropout` around the encoder's `nn.Embedding(V, E, padding_idx: pad)`:
/// whole-word dropout, one mask entry per vocabulary row (0 or 1/(1−p)), drawn once per forward
/// call, so a dropped word is zero everywhere in the batch; then the lookup. As PyTorch's
/// `padding_idx`, the padding row gets no gradient through the lookup (its values still take part
/// in the forward pass).
///
/// The fast path reads and writes rows in whatever order the caller keeps them (the encoder keeps
/// them time-major); `Reference` is the same thing batch-first, in Double.
public enum EmbeddingDropout {
    /// `out[r, :] = weight[ids[r], :] · mask[ids[r]]`.
    /// - Parameters:
    ///   - weight: `[V, E]`.
    ///   - ids: one token id per row, `n` rows.
    ///   - mask: `[V]`, or nil without dropout (eval, or p = 0).
    ///   - out: `[n, E]`.
    static func forward(weight: UnsafePointer<Float>, ids: [Int], mask: UnsafePointer<Float>?, E: Int,
                        into out: UnsafeMutablePointer<Float>) {
        for (r, id) in ids.enumerated() {
            let dst = out + r * E
            dst.update(from: weight + id * E, count: E)
            if let mask {
                let m = mask[id]
                for k in 0..<E { dst[k] *= m }
            }
        }
    }

    /// Scatter-adds `dOutput[r, :] · mask[ids[r]]` into `grad[ids[r], :]`, skipping the padding row.
    /// - Parameters:
    ///   - dOutput: `[n, E]`, rows in the order of `ids`.
    ///   - grad: `[V, E]`, accumulated into.
    static func backward(dOutput: UnsafePointer<Float>, ids: [Int], mask: UnsafePointer<Float>?, padToken: Int, E: Int,
                         into grad: UnsafeMutablePointer<Float>) {
        for (r, id) in ids.enumerated() where id != padToken {
            let m: Float = mask?[id] ?? 1
            if m == 0 { continue }
            let src = dOutput + r * E, dst = grad + id * E
            for k in 0..<E { dst[k] += src[k] * m }
        }
    }

    /// Plain loops in Double, batch-first: what the fast path means.
    public enum Reference {
        /// `y[b, t, :] = weight[ids[b, t], :] · mask[ids[b, t]]`.
        /// - Parameters:
        ///   - weight: `[V, E]`.
        ///   - ids: `[bs, T]`.
        ///   - mask: `[V]`, nil for no dropout.
        /// - Returns: `[bs, T, E]`.
        public static func forward(weight: [Double], ids: [Int], mask: [Double]?, embeddingSize E: Int) -> [Double] {
            var y = [Double](repeating: 0, count: ids.count * E)
            for (r, id) in ids.enumerated() {
                let scale = mask?[id] ?? 1
                for k in 0..<E { y[r * E + k] = weight[id * E + k] * scale }
            }
            return y
        }

        /// `dweight[v, :] = Σ over positions with id v of dy[b, t, :] · mask[v]`, except the padding
        /// row, which stays 0 (PyTorch's `padding_idx`; not the derivative of `forward`).
        /// - Parameters:
        ///   - dy: `[bs, T, E]`.
        /// - Returns: `[V, E]`.
        public static func backward(outputGradient dy: [Double], ids: [Int], mask: [Double]?, padToken: Int,
                                    vocabSize V: Int, embeddingSize E: Int) -> [Double] {
            var dWeight = [Double](repeating: 0, count: V * E)
            for (r, id) in ids.enumerated() {
                guard id != padToken else { continue }
                let scale = mask?[id] ?? 1
                for k in 0..<E { dWeight[id * E + k] += dy[r * E + k] * scale }
            }
            return dWeight
        }
    }
}
