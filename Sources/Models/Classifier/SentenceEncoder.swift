import Tensor

/// fastai's `SentenceEncoder`: runs an `AWDLSTM` over a padded classifier batch `[bs, T]` in
/// chunks of `bptt` columns and keeps the outputs of the chunks that start within the last
/// `maxLen` columns (../shared/spec/model.md 3.1).
///
/// Each chunk runs on the **first** `k` rows, `k` = number of rows whose token at the chunk's
/// first column is not padding (fastai's rule, reproduced literally). The state is carried from
/// chunk to chunk but detached, so the gradient of a kept chunk stops at its first column.
/// A forward that `keepsActivations` keeps every kept chunk's activations (as PyTorch's autograd
/// does for fastai) while they fit in `activationBudget`; `backward` runs through those, and
/// recomputes any other kept chunk from a snapshot of its entry state (same state, same dropout
/// generator, hence identical activations and masks). Either way the gradients are the same.
///
///     let enc = SentenceEncoder(module: awd, bptt: 72, maxLen: 72 * 20)
///     let (outs, mask) = try enc.forward(x, keepsActivations: true)   // [bs, T', E], [bs*T']
///     try enc.backward(outputGradient: dOuts)         // into awd's parameters
public final class SentenceEncoder {
    /// The wrapped encoder (fastai `module`; parameters named `0.module.…` in the classifier).
    public let module: AWDLSTM
    public let bptt: Int
    public let maxLen: Int
    public let padIndex: Int

    /// One chunk of the last forward call.
    struct Chunk {
        let start: Int, end: Int, rows: Int
        /// Column offset in the kept outputs, nil when the chunk's output was dropped.
        let keptOffset: Int?
        /// Encoder state and generator before the chunk (kept chunks only).
        let entry: AWDLSTM.Snapshot?
        /// The chunk's activations, when the forward kept them (not for the last chunk, whose
        /// activations are the module's own).
        var activations: AWDLSTM.Activations?
    }
    private var chunks: [Chunk] = []
    private var input: TokenBatch?
    private var keptLength = 0
    /// Activation sets no chunk holds, reused by later forwards (no allocation per chunk).
    private var spare: [AWDLSTM.Activations] = []
    /// One chunk's output gradient, time-major, reused by every backward.
    private let chunkGradient = FloatBuffer()

    /// The most memory, in bytes, that a forward keeps in activations for `backward` beyond the
    /// module's own (the sets stay allocated for the next batches). With 2 GiB every chunk of the
    /// lesson and full-IMDb classifiers fits: 6.9 MB per chunk at 64/128/2 with bs 16, 27 MB at
    /// 128/256/2 with bs 32, at most 19 chunks kept (`maxLen` 20·`bptt`). fastai's full size
    /// (400/1152/3, bs 64, vocab 60,000) takes about 400 MB per chunk, so there a batch keeps five
    /// chunks and recomputes the rest.
    public var activationBudget = 2 << 30

    public init(module: AWDLSTM, bptt: Int, maxLen: Int, padIndex: Int? = nil) {
        self.module = module
        self.bptt = max(1, bptt)
        self.maxLen = maxLen
        self.padIndex = padIndex ?? module.config.padToken
    }

    /// Outputs of the kept chunks `[bs, T', E]` (zero rows where a chunk did not run a row) and
    /// the pad mask of the same columns, row-major `[bs*T']` (true = pad).
    /// With `keepsActivations`, keeps what `backward` needs of every kept chunk (within
    /// `activationBudget`); without, `backward` recomputes the chunks before the last.
    public func forward(_ x: TokenBatch, keepsActivations: Bool = false) throws -> (outputs: Tensor, padMask: [Bool]) {
        try x.validate(vocabSize: module.vocabSize)
        let bs = x.batchSize, T = x.seqLen, E = module.config.embSize
        module.reset()
        spare += chunks.compactMap(\.activations)
        chunks = []
        var keptBytes = 0
        input = x
        let firstKept = stride(from: 0, to: T, by: bptt).first { T - $0 <= maxLen } ?? T
        keptLength = T - firstKept
        var outs = [Float](repeating: 0, count: bs * keptLength * E)
        var mask = [Bool](repeating: false, count: bs * keptLength)
        for b in 0..<bs { for j in 0..<keptLength { mask[b * keptLength + j] = x.ids[b * T + firstKept + j] == padIndex } }
        for start in stride(from: 0, to: T, by: bptt) {
            let end = min(start + bptt, T), w = end - start
            var k = 0
            for b in 0..<bs where x.ids[b * T + start] != padIndex { k += 1 }
            let kept = start >= firstKept
            let entry = kept ? module.snapshot() : nil
            chunks.append(Chunk(start: start, end: end, rows: k, keptOffset: kept ? start - firstKept : nil, entry: entry))
            guard k > 0 else { continue }
            try module.run(subBatch(x, rows: k, start: start, end: end))
            guard kept else { continue }
            // Straight from the module's time-major output [w, k, E] into the kept columns
            // (before its buffers are handed over below).
            let off = start - firstKept, src = UnsafePointer(module.output)
            outs.withUnsafeMutableBufferPointer { dst in
                for t in 0..<w {
                    for b in 0..<k {
                        (dst.baseAddress! + (b * keptLength + off + t) * E).update(from: src + (t * k + b) * E, count: E)
                    }
                }
            }
            if keepsActivations && end < T {
                // Hand this chunk's buffers over and give the module a spare set for the next.
                let mine = module.exchangeActivations(spare.popLast() ?? AWDLSTM.Activations())
                if keptBytes + mine.bytes <= activationBudget {
                    keptBytes += mine.bytes
                    chunks[chunks.count - 1].activations = mine
                } else {
                    // Over budget: put them back; backward recomputes this chunk.
                    spare.append(module.exchangeActivations(mine))
                }
            }
        }
        return (Tensor(shape: [bs, keptLength, E], data: outs), mask)
    }

    /// Backpropagates `outputGradient [bs, T', E]` (gradient w.r.t. the last forward's outputs)
    /// into the encoder's parameters, chunk by chunk, last chunk first.
    public func backward(outputGradient: Tensor) throws {
        guard let x = input else { throw ModelError("sentence encoder: backward before forward") }
        let bs = x.batchSize, E = module.config.embSize
        guard outputGradient.shape == [bs, keptLength, E] else {
            throw ModelError("sentence encoder backward: gradient shape \(outputGradient.shape), expected [\(bs), \(keptLength), \(E)]")
        }
        let after = module.snapshot()
        defer { module.restore(after) }
        var activationsCurrent = true   // the encoder holds the activations of the last chunk run
        for (n, c) in chunks.enumerated().reversed() {
            guard c.rows > 0 else { continue }
            guard let off = c.keptOffset, let entry = c.entry else { break }
            let w = c.end - c.start
            if let kept = c.activations {
                spare.append(module.exchangeActivations(kept))
                chunks[n].activations = nil
            } else if !(activationsCurrent && n == chunks.count - 1) {
                module.restore(entry)
                try module.run(subBatch(x, rows: c.rows, start: c.start, end: c.end))
            }
            activationsCurrent = false
            // The chunk's columns of the gradient, time-major [w, rows, E] as the module reads them.
            chunkGradient.ensure(c.rows * w * E)
            let g = chunkGradient.pointer
            outputGradient.data.withUnsafeBufferPointer { src in
                for t in 0..<w {
                    for b in 0..<c.rows {
                        (g + (t * c.rows + b) * E).update(from: src.baseAddress! + (b * keptLength + off + t) * E, count: E)
                    }
                }
            }
            module.backward(dOutput: g)
        }
    }

    /// How many chunks of the last forward hold their own activations.
    var keptActivationCount: Int { chunks.filter { $0.activations != nil }.count }

    /// `(start, end, rows, kept)` of every chunk of the last forward (as the fixture lists them).
    public var lastChunks: [(start: Int, end: Int, rows: Int, kept: Bool)] {
        chunks.map { ($0.start, $0.end, $0.rows, $0.keptOffset != nil) }
    }

    private func subBatch(_ x: TokenBatch, rows: Int, start: Int, end: Int) throws -> TokenBatch {
        let T = x.seqLen, w = end - start
        var ids = [Int](repeating: 0, count: rows * w)
        for b in 0..<rows { for t in 0..<w { ids[b * w + t] = x.ids[b * T + start + t] } }
        return TokenBatch(batchSize: rows, seqLen: w, ids: ids)
    }
}
