import Foundation
import Testing
import Tensor
@testable import Models

/// Finite-difference check of the hand-written backward on a tiny random model with every
/// dropout active (masks replayed by restoring the generators) and AR/TAR on.
@Suite struct LMGradientCheckTests {
    @Test func backwardMatchesFiniteDifferences() throws {
        let config = AWDLSTMConfig(embSize: 4, hiddenSize: 6, layers: 2, padToken: 1)   // LM dropouts, drop_mult 1
        let vocab = 11
        let lm = try AWDLSTMLanguageModel(config: config, vocabSize: vocab, seed: 7)
        var rng = SeededGenerator(seed: 99)
        // Non-zero decoder bias so its gradient path is exercised with realistic logits.
        lm.decoder.bias!.value = Tensor.uniform([vocab], low: -0.5, high: 0.5, using: &rng)
        let bs = 3, T = 4
        var ids = (0..<(bs * T)).map { _ in Int(rng.next() % UInt64(vocab)) }
        ids[2] = 1   // a pad token: no lookup gradient for row 1
        let x = TokenBatch(batchSize: bs, seqLen: T, ids: ids)
        let y = TokenBatch(batchSize: bs, seqLen: T, ids: (0..<(bs * T)).map { _ in Int(rng.next() % UInt64(vocab)) })
        let (alpha, beta): (Float, Float) = (2, 1)
        lm.isTraining = true
        let encRng = lm.encoder.rng, decRng = lm.decoder.rng

        func total() throws -> Double {
            lm.encoder.rng = encRng
            lm.decoder.rng = decRng
            lm.reset()
            let t = try lm.lossTerms(x: x, y: y, arAlpha: alpha, tarBeta: beta)
            return Double(t.crossEntropy) + Double(t.ar) + Double(t.tar)
        }

        lm.encoder.rng = encRng
        lm.decoder.rng = decRng
        lm.reset()
        lm.zeroGrad()
        try lm.lossAndBackward(x: x, y: y, arAlpha: alpha, tarBeta: beta)
        #expect(lm.lastLoss.ar > 0 && lm.lastLoss.tar > 0)

        // Central differences with h = 1e-2: truncation error O(h²) ≈ 1e-4 relative; the float32
        // loss (≈ 2.5, ulp 2.4e-7) adds ≈ 1e-5 absolute. Tolerance 3e-4 + 2e-2·|g|.
        let h: Float = 1e-2
        var checked = 0
        for p in lm.parameters {
            let analytic = p.grad
            let n = p.value.count
            for k in 0..<min(n, 6) {
                let i = (k * 7919 + 3) % n
                let saved = p.value.data[i]
                p.value.data[i] = saved + h
                let plus = try total()
                p.value.data[i] = saved - h
                let minus = try total()
                p.value.data[i] = saved
                let fd = Float((plus - minus) / Double(2 * h))
                let a = analytic.data[i]
                #expect(abs(fd - a) <= 3e-4 + 2e-2 * abs(a), "\(p.name)[\(i)]: analytic \(a), finite difference \(fd)")
                checked += 1
            }
        }
        #expect(checked > 20)
        // The pad row gets no gradient through the lookup; with tied weights only the decoder part remains.
        let emb = lm.parameter(named: "0.encoder.weight")!
        #expect(emb.grad.row(1).data.contains { $0 != 0 })
    }

    @Test func padRowGetsNoLookupGradientWhenUntied() throws {
        var config = AWDLSTMConfig(embSize: 4, hiddenSize: 5, layers: 2, padToken: 1).scaled(dropMult: 0)
        config.tieWeights = false
        let lm = try AWDLSTMLanguageModel(config: config, vocabSize: 7, seed: 3)
        #expect(lm.parameters.map(\.name).suffix(2) == ["1.decoder.weight", "1.decoder.bias"])
        let x = try TokenBatch(rows: [[1, 2, 1], [3, 1, 4]])
        lm.zeroGrad()
        try lm.lossAndBackward(x: x, y: try TokenBatch(rows: [[2, 3, 4], [5, 6, 0]]))
        let emb = lm.encoder.embedding.grad
        #expect(emb.row(1).data.allSatisfy { $0 == 0 })
        #expect(emb.row(2).data.contains { $0 != 0 })
        #expect(emb.row(5).data.allSatisfy { $0 == 0 })   // never looked up
    }

    @Test func frozenParametersGetNoGradientAndTrainableOnesAreUnchanged() throws {
        let config = AWDLSTMConfig(embSize: 4, hiddenSize: 6, layers: 3, padToken: 1).scaled(dropMult: 0)
        let lm = try AWDLSTMLanguageModel(config: config, vocabSize: 9, seed: 5)
        let x = try TokenBatch(rows: [[2, 3, 4], [5, 6, 7]]), y = try TokenBatch(rows: [[3, 4, 5], [6, 7, 8]])
        lm.reset()
        lm.zeroGrad()
        try lm.lossAndBackward(x: x, y: y)
        let full = lm.parameters.map(\.grad)
        // Freeze everything but the last LSTM layer and the decoder bias: backward stops early,
        // and what still trains gets exactly the same gradient.
        for p in lm.parameters { p.requiresGrad = false }
        for p in lm.parameterGroups[2] { p.requiresGrad = true }
        lm.decoder.bias!.requiresGrad = true
        lm.reset()
        lm.zeroGrad()
        try lm.lossAndBackward(x: x, y: y)
        for (p, g) in zip(lm.parameters, full) {
            if p.requiresGrad {
                #expect(p.grad == g, "\(p.name) unchanged by freezing others")
            } else {
                #expect(p.grad.data.allSatisfy { $0 == 0 }, "\(p.name) frozen")
            }
        }
    }
}
