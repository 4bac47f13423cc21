import Foundation
import Testing
import Tensor
@testable import Models

/// The fast path (time-major GEMMs, fused chunked loss) against a naive reference written
/// directly from the equations, on random weights.
@Suite struct LMReferencePathTests {
    /// Naive forward: batch-first, scalar loops, double accumulation. Returns logits `[bs][T][V]`.
    func naiveLogits(_ sd: [String: Tensor], config: AWDLSTMConfig, x: TokenBatch,
                     h0: [[[Double]]]? = nil) -> [[[Double]]] {
        let emb = sd["0.encoder.weight"]!
        let E = config.embSize
        var seq: [[[Double]]] = (0..<x.batchSize).map { b in
            (0..<x.seqLen).map { t in (0..<E).map { Double(emb[x[b, t], $0]) } }
        }
        for l in 0..<config.layers {
            let wih = sd["0.rnns.\(l).module.weight_ih_l0"]!, whh = sd["0.rnns.\(l).weight_hh_l0_raw"]!
            let bih = sd["0.rnns.\(l).module.bias_ih_l0"]!, bhh = sd["0.rnns.\(l).module.bias_hh_l0"]!
            let H = whh.shape[1], nIn = wih.shape[1]
            seq = seq.map { rowSeq in
                var h = [Double](repeating: 0, count: H), c = [Double](repeating: 0, count: H)
                var outs: [[Double]] = []
                for xt in rowSeq {
                    var z = [Double](repeating: 0, count: 4 * H)
                    for r in 0..<(4 * H) {
                        var s = Double(bih[r]) + Double(bhh[r])
                        for k in 0..<nIn { s += Double(wih[r, k]) * xt[k] }
                        for k in 0..<H { s += Double(whh[r, k]) * h[k] }
                        z[r] = s
                    }
                    func sg(_ v: Double) -> Double { 1 / (1 + exp(-v)) }
                    for j in 0..<H {
                        let i = sg(z[j]), f = sg(z[H + j]), g = tanh(z[2 * H + j]), o = sg(z[3 * H + j])
                        c[j] = f * c[j] + i * g
                        h[j] = o * tanh(c[j])
                    }
                    outs.append(h)
                }
                return outs
            }
        }
        let dec = sd["1.decoder.weight"]!, bias = sd["1.decoder.bias"]!
        let V = dec.shape[0]
        return seq.map { rowSeq in rowSeq.map { ht in
            (0..<V).map { v in (0..<E).reduce(Double(bias[v])) { $0 + Double(dec[v, $1]) * ht[$1] } }
        } }
    }

    func randomModel(seed: UInt64, batchSize: Int = 4, seqLen: Int = 6) throws -> (AWDLSTMLanguageModel, TokenBatch, TokenBatch) {
        let config = AWDLSTMConfig(embSize: 5, hiddenSize: 7, layers: 3, padToken: 1)
        let V = 23, n = batchSize * seqLen
        let lm = try AWDLSTMLanguageModel(config: config, vocabSize: V, seed: seed)
        var rng = SeededGenerator(seed: seed + 1)
        lm.decoder.bias!.value = Tensor.uniform([V], low: -0.3, high: 0.3, using: &rng)
        let x = TokenBatch(batchSize: batchSize, seqLen: seqLen, ids: (0..<n).map { _ in Int(rng.next() % UInt64(V)) })
        let y = TokenBatch(batchSize: batchSize, seqLen: seqLen, ids: (0..<n).map { _ in Int(rng.next() % UInt64(V)) })
        return (lm, x, y)
    }

    @Test func fastForwardAndFusedLossMatchNaiveReference() throws {
        // 8 × 9 = 72 rows: 10-row blocks end with a ragged block.
        let (lm, x, y) = try randomModel(seed: 5, batchSize: 8, seqLen: 9)
        var rng = SeededGenerator(seed: 99)
        lm.isTraining = false
        let naive = naiveLogits(lm.stateDict(), config: lm.config, x: x)
        lm.reset()
        let fast = try lm.forward(x).logits
        let flat = naive.flatMap { $0.flatMap { $0.map(Float.init) } }
        // float32 GEMMs vs double loops over ≤ 28 terms per dot product: 1e-5 absolute.
        #expect(closeness(fast.data, flat, rtol: 1e-5, atol: 1e-5).ok)

        var ce = 0.0
        for b in 0..<x.batchSize {
            for t in 0..<x.seqLen {
                let row = naive[b][t]
                let m = row.max()!
                ce += m + log(row.reduce(0) { $0 + exp($1 - m) }) - row[y[b, t]]
            }
        }
        ce /= Double(x.batchSize * x.seqLen)
        var hits = 0
        for b in 0..<x.batchSize {
            for t in 0..<x.seqLen where Softmax.Reference.argmax(naive[b][t].map(Float.init)) == y[b, t] { hits += 1 }
        }
        let accuracy = Float(hits) / Float(x.batchSize * x.seqLen)
        // Every way of computing the loss without gradient: chunks of 5 rows through sgemm
        // (several chunks and a ragged last one), blocks of 10 rows over the packed weight with
        // the whole vocabulary in one tile, and blocks whose vocabulary comes in tiles of 16
        // columns (a ragged last one, as V = 23), merged by the running log-sum-exp.
        let V = lm.vocabSize
        let N = x.batchSize * x.seqLen
        for (path, blockRows, tile) in [("sgemm chunks", 0, V), ("packed blocks", 10, V),
                                        ("vocabulary tiles", 10, 16)] {
            lm.decoder.chunkFloats = 5 * V
            lm.decoder.blockRows = blockRows
            lm.decoder.tileColumns = tile
            let shape = lm.decoder.blockShape(rows: N, width: 1)
            #expect((shape != nil) == (blockRows > 0))
            if let shape { #expect(shape.rows == 10 && N % 10 != 0 && shape.columns == min(V, tile)) }
            lm.reset()
            let (fused, fusedAccuracy) = try lm.lossAndAccuracy(x: x, y: y)
            #expect(abs(Double(fused) - ce) <= 1e-5 * ce, "\(path): fused \(fused) vs naive \(ce)")
            // The running argmax across tiles: the same positions as the naive logits' argmax
            // (random weights leave no near-ties at float32 resolution here).
            #expect(fusedAccuracy == accuracy, "\(path): accuracy \(fusedAccuracy) vs naive \(accuracy)")
        }
        // The packed weight follows a change of the weight (as a validation pass after a step).
        lm.decoder.weight.value = Tensor.uniform(lm.decoder.weight.shape, low: -0.5, high: 0.5, using: &rng)
        lm.reset()
        let blocked = try lm.loss(x: x, y: y)
        lm.decoder.blockRows = 0
        lm.reset()
        let chunked = try lm.loss(x: x, y: y)
        #expect(abs(blocked - chunked) <= 1e-5 * chunked, "after a weight change: \(blocked) vs \(chunked)")
    }

    @Test func gradientsDoNotDependOnChunkSize() throws {
        let (lm, x, y) = try randomModel(seed: 11)
        lm.isTraining = true
        let encRng = lm.encoder.rng, decRng = lm.decoder.rng
        func grads(chunkRows: Int) throws -> [Tensor] {
            lm.decoder.chunkFloats = chunkRows * lm.vocabSize
            lm.encoder.rng = encRng
            lm.decoder.rng = decRng
            lm.reset()
            lm.zeroGrad()
            try lm.lossAndBackward(x: x, y: y, arAlpha: 2, tarBeta: 1)
            return lm.parameters.map(\.grad)
        }
        let whole = try grads(chunkRows: 1000), chunked = try grads(chunkRows: 7)
        for (a, b) in zip(whole, chunked) {
            // Same maths, different float32 summation order over chunks: 1e-6 absolute.
            #expect(closeness(a.data, b.data, rtol: 1e-4, atol: 1e-6).ok)
        }
    }

    @Test func gateSplitAndBatchSplitRecurrencesAgree() throws {
        // The two ways of sharing the time loop between workers (per-step GEMM split along the
        // gates, or whole loop split along the batch rows) must give the same loss and gradients.
        let (lm, x, y) = try randomModel(seed: 17)
        lm.isTraining = true
        let encRng = lm.encoder.rng, decRng = lm.decoder.rng
        func run(gateSplit: Bool) throws -> (Float, [Tensor], Tensor) {
            for l in lm.encoder.layers { l.gateSplitMACs = gateSplit ? 0 : Int.max }
            lm.encoder.rng = encRng
            lm.decoder.rng = decRng
            lm.reset()
            lm.zeroGrad()
            let loss = try lm.lossAndBackward(x: x, y: y, arAlpha: 2, tarBeta: 1)
            return (loss, lm.parameters.map(\.grad), lm.encoder.hiddenState[0].h)
        }
        let (l1, g1, h1) = try run(gateSplit: true), (l2, g2, h2) = try run(gateSplit: false)
        // Same maths; only the GEMM blocking (float32 summation order) may differ: 1e-6.
        #expect(abs(l1 - l2) <= 1e-6 * max(1, abs(l1)))
        #expect(closeness(h1.data, h2.data, rtol: 1e-5, atol: 1e-6).ok)
        for (a, b) in zip(g1, g2) {
            #expect(closeness(a.data, b.data, rtol: 1e-4, atol: 1e-6).ok)
        }
        #expect(g1.contains { $0.data.contains { $0 != 0 } }, "gradients were computed")
    }

    @Test func dropoutIsActiveOnlyInTraining() throws {
        let (lm, x, _) = try randomModel(seed: 13)
        lm.isTraining = false
        lm.reset()
        let eval1 = try lm.forward(x).logits
        lm.reset()
        let eval2 = try lm.forward(x).logits
        #expect(eval1 == eval2)
        lm.isTraining = true
        lm.reset()
        let train = try lm.forward(x)
        #expect(train.logits != eval1)
        // Output dropout: dropped is raw times a [bs, 1, E] mask of 0 or 1/(1-p).
        let p = lm.config.outputP
        for b in 0..<x.batchSize {
            for e in 0..<lm.config.embSize {
                let ratios = (0..<x.seqLen).map { t -> Float in
                    let r = train.raw[b, t, e]
                    return r == 0 ? .nan : train.dropped[b, t, e] / r
                }.filter { !$0.isNaN }
                guard let first = ratios.first else { continue }
                #expect(abs(first) < 1e-6 || abs(first - 1 / (1 - p)) < 1e-5)
                #expect(ratios.allSatisfy { abs($0 - first) < 1e-5 }, "same mask for every time step")
            }
        }
    }

    @Test func stateFollowsBatchSizeChanges() throws {
        let (lm, x, _) = try randomModel(seed: 17)
        lm.isTraining = false
        lm.reset()
        _ = try lm.forward(x)
        #expect(lm.encoder.hiddenState[0].h.shape == [1, 4, lm.config.hiddenSize])
        // Larger batch without reset: rows 0..<4 continue, rows 4 and 5 start from zero state.
        let bigger = TokenBatch(batchSize: 6, seqLen: 2, ids: Array(repeating: 3, count: 12))
        let big = try lm.forward(bigger).logits
        #expect(lm.encoder.hiddenState[0].h.shape == [1, 6, lm.config.hiddenSize])
        lm.reset()
        let fromZero = try lm.forward(TokenBatch(batchSize: 1, seqLen: 2, ids: [3, 3])).logits
        // Same computation from zeros: identical up to GEMM blocking (1e-6 absolute).
        #expect(closeness(big.row(5).data, fromZero.row(0).data, rtol: 0, atol: 1e-6).ok)
        #expect(!closeness(big.row(0).data, fromZero.row(0).data, rtol: 0, atol: 1e-6).ok, "row 0 carried state")
    }

    @Test func encoderSnapshotReplaysACallExactly() throws {
        let (lm, x, _) = try randomModel(seed: 19)
        let enc = lm.encoder
        enc.isTraining = true
        enc.reset()
        _ = try enc.forward(x)                 // some carried state
        let snap = enc.snapshot()
        let first = try enc.forward(x)
        let grads1: Tensor = {
            lm.zeroGrad()
            try? enc.backward(outputGradient: first * 0.5)
            return enc.layers[0].weightHHRaw.grad
        }()
        enc.restore(snap)
        let again = try enc.forward(x)
        #expect(again == first, "same state, same masks → identical output")
        lm.zeroGrad()
        try enc.backward(outputGradient: again * 0.5)
        #expect(enc.layers[0].weightHHRaw.grad == grads1)
        #expect(grads1.data.contains { $0 != 0 })
        // Without the restore the masks and state differ.
        #expect(try enc.forward(x) != first)
        #expect(throws: ModelError.self) { try enc.backward(outputGradient: Tensor.zeros([1, 1, 1])) }
    }
}
