import Foundation
import Synchronization
import Tensor
#if arch(x86_64)
import AVX512Kernels
#endif

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
    /// (256 MB: every chunk packs the whole weight once per GEMM, so fewer, larger chunks cost
    /// less; peak memory stays far below PyTorch's full logits).
    var chunkFloats = 64 << 20
    /// Most rows per block in the loss without gradient (0 sends that loss through the chunked
    /// path). Every block streams the whole packed `Wᵀ` from memory (96 MB for the 60k decoder),
    /// so taller blocks read it fewer times, while a block's logits (384 × 1,024 floats, 1.5 MB)
    /// still stay in this machine's 2 MB L2 per core from the product through the log-sum-exp.
    /// Timing `loss` alternately in one process (60000/400/1152/3, bs 64): 384 rows 1.59 s best,
    /// 1.83 s median against 64 rows' 1.71 s and 1.93 s; on the two smaller bench configurations
    /// the best times were equal and the medians within 4%.
    var blockRows = 384
    /// Vocabulary columns per block (a multiple of 16, the packed panel width). Each pass over
    /// the packed `Wᵀ` serves a block's rows; 512 measured the same as 1,024 on the 60k decoder
    /// and 1–3% slower on the smaller ones.
    var tileColumns = 1024

    private(set) var steps = 0
    private(set) var batch = 0
    let mask = FloatBuffer()          // [bs, E]
    private(set) var maskUsed = false
    let dropped = FloatBuffer()       // [T, bs, E] when a mask was drawn
    /// The encoder output of the last call when no mask was drawn (eval): no copy is made.
    private var unmasked: UnsafePointer<Float>?
    /// The decoder's input of the last call `[T, bs, E]`: the output after dropout.
    var input: UnsafePointer<Float> { unmasked ?? UnsafePointer(dropped.pointer) }
    let chunk = FloatBuffer()         // [rows, V]
    let rowStats = FloatBuffer()      // [workers, 3, block rows]: running max, sum, target logit
    let packedRows = FloatBuffer()    // [workers, PackedGEMM.packedRowsCount(block rows, E)]
    let biasGrad = FloatBuffer()      // [workers, V]: each worker's rows of the bias gradient
    let partialProducts = FloatBuffer()  // [workers − 1, rows, E]
    let weightGradScratch = FloatBuffer()  // partial sums of the weight gradient (WeightGradient)
    /// `Wᵀ` packed for `PackedGEMM` (`[E, V]`) for the blocked loss (a validation pass packs it once).
    let packedWT = PackedTransposedWeight()

    init(weight: Parameter, bias: Parameter?, outputP: Float, rng: SeededGenerator) {
        self.weight = weight
        self.bias = bias
        self.outputP = outputP
        self.rng = rng
    }

    var vocabSize: Int { weight.shape[0] }
    var embSize: Int { weight.shape[1] }

    // MARK: forward

    /// Output dropout on the encoder output `raw [T, bs, E]` (time-major) into `dropped`; without
    /// a mask the decoder reads `raw` itself (see `input`).
    func applyDropout(raw: UnsafePointer<Float>, T: Int, bs: Int) {
        let E = embSize
        steps = T
        batch = bs
        maskUsed = isTraining && outputP > 0
        guard maskUsed else {
            unmasked = raw
            return
        }
        unmasked = nil
        dropped.ensure(T * bs * E)
        mask.ensure(bs * E)
        drawDropoutMask(mask.pointer, count: bs * E, p: outputP, rng: &rng)
        RNNDropout.apply(raw, mask: mask.pointer, into: dropped.pointer, T: T, bs: bs, F: E)
    }

    /// Full logits of rows `rows` of `input` into `out [rows.count, V]`.
    func logits(rows: Range<Int>, into out: UnsafeMutablePointer<Float>) {
        let V = vocabSize, E = embSize, n = rows.count
        if let bias {
            bias.withValue { b in for r in 0..<n { (out + r * V).update(from: b, count: V) } }
        } else {
            out.update(repeating: 0, count: n * V)
        }
        weight.withValue { w in
            if n <= 2 {
                // Generation: row by row, each streaming W once at memory speed.
                let x = input + rows.lowerBound * E
                WorkSplit.run { width in
                    WorkSplit.forEach(V, parts: width, align: 16) { _, vs in
                        for r in 0..<n { rowDotsAdd(w, n: E, rows: vs, x: x + r * E, y: out + r * V) }
                    }
                }
            } else {
                BLAS.sgemm(transB: true, m: n, n: V, k: E, a: input + rows.lowerBound * E, lda: E,
                           b: w, ldb: E, beta: 1, c: out, ldc: V)
            }
        }
    }

    /// Sum over rows of `−log_softmax(logits)[target]`, fused and chunked, and with `countCorrect`
    /// the number of rows whose largest logit is the target's (first maximal index, as torch.argmax).
    /// - Parameters:
    ///   - targets: one target id per row of `dropped`, in the same (time-major) row order.
    ///   - gradScale: factor on the gradient (1/N for a mean loss).
    ///   - dDropped: when not nil, receives `dL/d dropped [N, E]` (overwritten); the weight and
    ///     bias gradients are accumulated at the same time. Rows are then not counted (`correct` 0).
    ///   - countCorrect: count the rows predicted right (an argmax search per row; off for the loss alone).
    func crossEntropy(targets: [Int], gradScale: Float, dDropped: UnsafeMutablePointer<Float>?,
                      countCorrect: Bool = false) -> (loss: Double, correct: Int) {
        WorkSplit.run { width in
            crossEntropy(targets: targets, gradScale: gradScale, dDropped: dDropped,
                         countCorrect: countCorrect && dDropped == nil, width: width)
        }
    }

    private func crossEntropy(targets: [Int], gradScale: Float, dDropped: UnsafeMutablePointer<Float>?,
                              countCorrect: Bool, width: Int) -> (loss: Double, correct: Int) {
        let V = vocabSize, E = embSize, N = targets.count
        if dDropped == nil, let block = blockShape(rows: N, width: width) {
            return lossInBlocks(targets: targets, rows: block.rows, columns: block.columns, countCorrect: countCorrect,
                                width: width)
        }
        let rowsPerChunk = max(1, min(N, chunkFloats / max(V, 1)))
        chunk.ensure(rowsPerChunk * V)
        let wantBias = dDropped != nil && (bias?.requiresGrad ?? false)
        // One bias-gradient row per worker, summed at the end: each row of (softmax − one-hot)
        // is added in while it is still in cache, instead of a further pass over the chunk.
        if wantBias {
            biasGrad.ensure(width * V)
            biasGrad.zero(width * V)
        }
        if dDropped != nil && width > 1 { partialProducts.ensure((width - 1) * rowsPerChunk * E) }
        let z = chunk.pointer, bg = biasGrad.pointer, src = input
        let partials = partialProducts.pointer
        var partTotals = [Double](repeating: 0, count: width)
        var partCorrect = [Int](repeating: 0, count: width)
        var total = 0.0, correct = 0
        var start = 0
        withBiasValue { biasPointer in
        weight.withValue { w in weight.withGradIf(dDropped != nil && weight.requiresGrad) { wg in
        partTotals.withUnsafeMutableBufferPointer { totals in
        partCorrect.withUnsafeMutableBufferPointer { hits in
        targets.withUnsafeBufferPointer { tg in
            while start < N {
                let n = min(rowsPerChunk, N - start), first = start
                // Logits split along the vocabulary (each worker packs only its rows of W; the
                // bias is added in the max pass below), then log-softmax, loss and
                // (softmax − one-hot) split over rows.
                WorkSplit.forEach(V, parts: WorkSplit.balancedParts(width), align: 16) { _, vs in
                    GEMM.sgemm(transB: true, m: n, n: vs.count, k: E, a: src + first * E, lda: E,
                               b: w + vs.lowerBound * E, ldb: E, beta: 0, c: z + vs.lowerBound, ldc: V)
                }
                // A chunk of fewer rows than workers (a ragged last chunk) runs fewer parts, so
                // every part's slot starts from zero, not from its sum in the previous chunk.
                totals.update(repeating: 0)
                hits.update(repeating: 0)
                WorkSplit.forEach(n, parts: width) { part, rows in
                    var sum = 0.0, right = 0
                    for r in rows {
                        let row = z + r * V
                        let target = tg[first + r]
                        if dDropped != nil {
                            // The row becomes (softmax − one-hot) / N, the gradient of the mean.
                            sum += Softmax.crossEntropyBackward(row, count: V, target: target, scale: gradScale,
                                                                bias: biasPointer, kernels: .best)
                            if wantBias {
                                let acc = bg + part * V
                                for v in 0..<V { acc[v] += row[v] }
                            }
                        } else {
                            let (m, s) = SoftmaxKernels.best.maxAndExpSum(row, V, biasPointer)
                            sum += Double(m) + Foundation.log(Double(s)) - Double(row[target])
                            if countCorrect && Softmax.firstIndex(of: m, in: row, count: V) == target { right += 1 }
                        }
                    }
                    totals[part] = sum
                    hits[part] = right
                }
                for part in 0..<width { total += totals[part]; correct += hits[part] }
                if let dDropped {
                    let d = src + first * E
                    // d dropped = dz · W, split along the vocabulary (the inner dimension) so each
                    // worker packs half of dz and half of W; the partial products are summed.
                    let out = dDropped + first * E
                    WorkSplit.forEach(V, parts: width, align: 16) { part, vs in
                        let c = part == 0 ? out : partials + (part - 1) * n * E
                        if vs.isEmpty { c.update(repeating: 0, count: n * E); return }
                        GEMM.sgemm(m: n, n: E, k: vs.count, a: z + vs.lowerBound, lda: V, b: w + vs.lowerBound * E,
                                   ldb: E, beta: 0, c: c, ldc: E)
                    }
                    for part in 1..<max(width, 1) {
                        let p = partials + (part - 1) * n * E
                        for i in 0..<(n * E) { out[i] += p[i] }
                    }
                    if let wg {
                        WeightGradient.accumulate(m: V, n: E, k: n, a: z, lda: V, b: d, mask: nil, into: wg,
                                                  scratch: weightGradScratch, width: width)
                    }
                }
                start += n
            }
        } } } } } }
        if wantBias, let bias {
            let rowSums = biasGrad.pointer
            for part in 1..<max(width, 1) {
                let acc = rowSums + part * V
                for v in 0..<V { rowSums[v] += acc[v] }
            }
            bias.withGrad { g in for v in 0..<V { g[v] += rowSums[v] } }
        }
        return (total, correct)
    }

    /// The block of `lossInBlocks` for `rows` rows on `width` workers: at most `blockRows` rows, and
    /// small enough (rounded up to a multiple of 4) that each worker gets about four blocks, so a
    /// worker on a slower core can take fewer; vocabulary columns `tileColumns`, or the whole
    /// vocabulary when smaller. nil when `blockRows` is 0, which sends the loss through the chunked path.
    func blockShape(rows: Int, width: Int) -> (rows: Int, columns: Int)? {
        guard blockRows > 0 else { return nil }
        let perBlock = (rows + 4 * width - 1) / (4 * width)
        return (max(4, min(blockRows, (perBlock + 3) / 4 * 4)), min(vocabSize, tileColumns))
    }

    /// The loss without gradient, each worker a block of rows at a time, so the logits
    /// never leave the cache: for each tile of the vocabulary, the block's logits (bias, then
    /// `+= dropped · Wᵀ` over the packed `Wᵀ`), then each row's max and sum of exponentials,
    /// merged into the row's running log-sum-exp (`Softmax.merge`), and the row's running argmax
    /// (a tile's first maximal index, taken when its max beats the running one).
    private func lossInBlocks(targets: [Int], rows R: Int, columns C: Int, countCorrect: Bool,
                              width: Int) -> (loss: Double, correct: Int) {
        let V = vocabSize, E = embSize, N = targets.count
        packedWT.update(from: weight, mask: nil, n: V, k: E)
        chunk.ensure(width * R * C)
        rowStats.ensure(width * 3 * R)
        let rowsCount = PackedGEMM.packedRowsCount(m: R, k: E)
        packedRows.ensure(max(1, width * rowsCount))
        let blocks = chunk.pointer, stats = rowStats.pointer, rowsBase = packedRows.pointer
        let src = input, packed = packedWT.pointer
        // Blocks of R rows go to whichever worker is free (a shared counter), so a worker on a
        // slower core takes fewer; each block's sum has its own slot, added up in block order,
        // so the loss does not depend on which worker took which block.
        let blockCount = (N + R - 1) / R
        var blockSums = [Double](repeating: 0, count: blockCount)
        var blockCorrect = [Int](repeating: 0, count: blockCount)
        var rowArgmax = [Int](repeating: 0, count: width * R)   // [workers, block rows]: running argmax
        let nextBlock = Mutex<Int>(0)
        withBiasValue { biasPointer in
        blockSums.withUnsafeMutableBufferPointer { sums in
        blockCorrect.withUnsafeMutableBufferPointer { hits in
        rowArgmax.withUnsafeMutableBufferPointer { argmaxBase in
        targets.withUnsafeBufferPointer { tg in
            WorkSplit.forEach(width, parts: width) { part, _ in
                let z = blocks + part * R * C
                let runMax = stats + part * 3 * R, runSum = runMax + R, targetLogit = runSum + R
                let best = argmaxBase.baseAddress! + part * R
                while true {
                    let block = nextBlock.withLock { next in
                        defer { next += 1 }
                        return next
                    }
                    guard block < blockCount else { break }
                    let first = block * R, n = min(R, N - first)
                    // The block's rows, packed once for all its vocabulary tiles.
                    let rows = PackedGEMM.packRows(m: n, k: E, a: src + first * E, lda: E,
                                                   into: rowsBase + part * rowsCount)
                    runMax.update(repeating: -.infinity, count: n)
                    runSum.update(repeating: 0, count: n)
                    best.update(repeating: -1, count: n)
                    var v0 = 0
                    while v0 < V {
                        let w = min(C, V - v0)
                        // The product alone; the bias is added row by row with the max.
                        PackedGEMM.multiplyAdd(m: n, n: w, k: E, a: src + first * E, lda: E,
                                               packed: packed + v0 * E, c: z, ldc: C, packedRows: rows,
                                               accumulate: false)
                        let tileBias = biasPointer.map { $0 + v0 }
                        for r in 0..<n {
                            let row = z + r * C, target = tg[first + r] - v0
                            // After this the row holds its logits with the bias.
                            let tile = SoftmaxKernels.best.maxAndExpSum(row, w, tileBias)
                            if target >= 0 && target < w { targetLogit[r] = row[target] }
                            if countCorrect && tile.max > runMax[r] {
                                best[r] = v0 + Softmax.firstIndex(of: tile.max, in: row, count: w)
                            }
                            (runMax[r], runSum[r]) = Softmax.merge((runMax[r], runSum[r]), tile)
                        }
                        v0 += w
                    }
                    var sum = 0.0, right = 0
                    for r in 0..<n {
                        sum += Double(runMax[r]) + Foundation.log(Double(runSum[r])) - Double(targetLogit[r])
                        if best[r] == tg[first + r] { right += 1 }
                    }
                    sums[block] = sum
                    hits[block] = right
                }
            }
        } } } } }
        return (blockSums.reduce(0, +), blockCorrect.reduce(0, +))
    }

    /// `body` with a pointer to the bias values, or nil without a bias.
    private func withBiasValue<R>(_ body: (UnsafePointer<Float>?) -> R) -> R {
        if let bias { return bias.withValue { body($0) } }
        return body(nil)
    }

    // MARK: backward

    /// Through the output dropout: `d raw = d dropped ⊙ mask`, in place.
    func backwardDropout(_ d: UnsafeMutablePointer<Float>) {
        guard maskUsed else { return }
        RNNDropout.apply(d, mask: mask.pointer, into: d, T: steps, bs: batch, F: embSize)
    }
}

// MARK: - Reference

extension LinearDecoder {
    /// The decoder written as the formula reads, row by row in Double: no BLAS, no chunks, no
    /// blocks, no fused loss. The output dropout in front of it is `RNNDropout.Reference`; the loss
    /// after it is `Softmax.Reference`. With tied weights `weight` is the embedding, and the
    /// embedding's gradient is this `weight` gradient plus `EmbeddingDropout.Reference.backward`'s.
    public enum Reference {
        /// `logits[r, v] = bias[v] + Σ_k x[r, k] · weight[v, k]`.
        /// - Parameters:
        ///   - x: `[n, E]` (the dropped encoder output, rows in any order).
        ///   - weight: `[V, E]`; bias: `[V]` or nil.
        /// - Returns: `[n, V]`.
        public static func forward(_ x: [Double], weight: [Double], bias: [Double]?, vocabSize V: Int,
                                   embeddingSize E: Int) -> [Double] {
            let n = x.count / E
            var logits = [Double](repeating: 0, count: n * V)
            for r in 0..<n {
                for v in 0..<V {
                    var s = bias?[v] ?? 0
                    for k in 0..<E { s += x[r * E + k] * weight[v * E + k] }
                    logits[r * V + v] = s
                }
            }
            return logits
        }

        /// Gradients of the input, the weight and the bias from `dL/d logits` (`[n, V]`):
        /// `dx = dlogits · weight`, `dweight = dlogitsᵀ · x`, `dbias = Σ_r dlogits[r, :]`.
        public static func backward(logitsGradient dz: [Double], _ x: [Double], weight: [Double], vocabSize V: Int,
                                    embeddingSize E: Int) -> (input: [Double], weight: [Double], bias: [Double]) {
            let n = x.count / E
            var dx = [Double](repeating: 0, count: n * E), dw = [Double](repeating: 0, count: V * E)
            var db = [Double](repeating: 0, count: V)
            for r in 0..<n {
                for v in 0..<V {
                    let g = dz[r * V + v]
                    db[v] += g
                    for k in 0..<E {
                        dx[r * E + k] += g * weight[v * E + k]
                        dw[v * E + k] += g * x[r * E + k]
                    }
                }
            }
            return (dx, dw, db)
        }
    }
}
