/// The weight gradients of the LSTM layers and the decoder: `g += (aᵀ · b) ⊙ mask`, a sum over
/// many rows (time steps × batch, or tokens) of outer products, with a small output.
enum WeightGradient {
    /// Largest total of partial sums (floats) for the split along the rows; above it the split
    /// goes along the output rows. 32M floats = 128 MB: the largest LSTM layer of fastai's LM
    /// (4 × 4608 × 1152) fits, its 60k-word decoder (4 × 60000 × 400) does not.
    static let partialsLimit = 32 << 20

    /// `g [m, n] += (aᵀ · b) ⊙ mask` for `a [k, m]` (row stride `lda`) and `b [k, n]`, on `width`
    /// workers inside a `WorkSplit.run` scope. `scratch` holds the partial sums; `limit` is
    /// `partialsLimit` but for tests.
    ///
    /// Split along k, each part packs only its own rows of both operands and writes its own
    /// `[m, n]` partial sum, added up afterwards. Split along m instead, every part packs all of
    /// `b`: with eight parts that was 20–50% slower on one thread for the lesson-size shapes and
    /// 12% for the largest LSTM layer (throwaway harness). When the partial sums would be too
    /// large (a big decoder), the split goes along m, where packing `b` again hardly matters.
    static func accumulate(m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>,
                           mask: UnsafePointer<Float>?, into g: UnsafeMutablePointer<Float>,
                           scratch: FloatBuffer, width: Int, limit: Int = partialsLimit) {
        let size = m * n
        // Two parts a worker, so a worker on a slower core can take fewer.
        let parts = max(1, min(WorkSplit.balancedParts(width, perWorker: 2), k))
        guard parts * size <= limit else {
            if mask != nil { scratch.ensure(size) }
            let s = scratch.pointer
            WorkSplit.forEach(m, parts: WorkSplit.balancedParts(width), align: 16) { _, rows in
                let r0 = rows.lowerBound
                guard let mask else {
                    GEMM.sgemm(transA: true, m: rows.count, n: n, k: k, a: a + r0, lda: lda, b: b, ldb: n,
                               beta: 1, c: g + r0 * n, ldc: n)
                    return
                }
                GEMM.sgemm(transA: true, m: rows.count, n: n, k: k, a: a + r0, lda: lda, b: b, ldb: n,
                           beta: 0, c: s + r0 * n, ldc: n)
                for i in (r0 * n)..<(rows.upperBound * n) { g[i] += s[i] * mask[i] }
            }
            return
        }
        scratch.ensure(parts * size)
        let partial = scratch.pointer
        WorkSplit.forEach(k, parts: parts) { part, r in
            GEMM.sgemm(transA: true, m: m, n: n, k: r.count, a: a + r.lowerBound * lda, lda: lda,
                       b: b + r.lowerBound * n, ldb: n, beta: 0, c: partial + part * size, ldc: n)
        }
        WorkSplit.forEach(size, parts: width, align: 16) { _, range in
            let sum = partial + range.lowerBound, count = range.count
            for part in 1..<parts {
                let p = partial + part * size + range.lowerBound
                for i in 0..<count { sum[i] += p[i] }
            }
            let out = g + range.lowerBound
            if let mask {
                let mk = mask + range.lowerBound
                for i in 0..<count { out[i] += sum[i] * mk[i] }
            } else {
                for i in 0..<count { out[i] += sum[i] }
            }
        }
    }
}
