import Foundation
import Testing
import Tensor
import Models

/// The inspection accessors (`lastGates`, `lastHiddenStates`, `lastDropoutMasks`, …) against a
/// from-scratch recomputation of the LSTM equations on a small model, in training mode with
/// every dropout large enough that each mask drops something.
@Suite struct InspectionTests {
    static let config = AWDLSTMConfig(embSize: 6, hiddenSize: 10, layers: 2, outputP: 0.5, hiddenP: 0.5,
                                      inputP: 0.5, embedP: 0.5, weightP: 0.5)
    static let vocab = 30

    /// A model after one training-mode forward call on a fixed batch [3, 5].
    func tracedModel() throws -> (AWDLSTMLanguageModel, TokenBatch) {
        let lm = try AWDLSTMLanguageModel(config: Self.config, vocabSize: Self.vocab, seed: 7)
        lm.isTraining = true
        lm.reset()
        let x = try TokenBatch(rows: [[2, 9, 10, 11, 12], [2, 13, 9, 14, 15], [3, 16, 17, 9, 18]])
        _ = try lm.forward(x)
        return (lm, x)
    }

    func sigmoid(_ z: Double) -> Double { 1 / (1 + exp(-z)) }

    @Test func gatesMatchARecomputationOfEveryStep() throws {
        let (lm, x) = try tracedModel()
        let masks = lm.lastDropoutMasks
        for (l, layer) in lm.encoder.layers.enumerated() {
            let H = layer.hiddenSize, nIn = layer.inputSize, G = 4 * H
            let (T, bs) = layer.lastCallShape
            #expect(T == x.seqLen && bs == x.batchSize)
            let gates = layer.lastGates, hs = layer.lastHiddenStates, cs = layer.lastCellStates
            #expect(gates.shape == [bs, T, G])
            #expect(hs.shape == [bs, T + 1, H] && cs.shape == [bs, T + 1, H])
            let input = lm.encoder.lastInput(ofLayer: l)
            #expect(input.shape == [bs, T, nIn])
            let mask = try #require(masks.weight[l], "layer \(l) drew a DropConnect mask")
            let wih = layer.weightIH.value, bih = layer.biasIH.value, bhh = layer.biasHH.value
            let whh = layer.weightHHRaw.value * mask     // the effective W_hh of this call
            // Tolerance: fast exp-based sigmoid/tanh (≈1e-7 absolute) and float32 sums of
            // 16 products in a different order from BLAS; 2e-5 leaves a wide margin.
            var worst = 0.0
            for b in 0..<bs {
                for t in 0..<T {
                    var act = [Double](repeating: 0, count: G)
                    for j in 0..<G {
                        var z = Double(bih[j]) + Double(bhh[j])
                        for k in 0..<nIn { z += Double(wih[j, k]) * Double(input[b, t, k]) }
                        for k in 0..<H { z += Double(whh[j, k]) * Double(hs[b, t, k]) }   // h_{t−1} is step t of hs
                        act[j] = (j / H == 2) ? tanh(z) : sigmoid(z)
                        worst = max(worst, abs(act[j] - Double(gates[b, t, j])))
                    }
                    // The cell equations tie the gates to the stored states.
                    for k in 0..<H {
                        let c = act[H + k] * Double(cs[b, t, k]) + act[k] * act[2 * H + k]
                        worst = max(worst, abs(c - Double(cs[b, t + 1, k])))
                        worst = max(worst, abs(act[3 * H + k] * tanh(c) - Double(hs[b, t + 1, k])))
                    }
                }
            }
            #expect(worst < 2e-5, "layer \(l): largest |gate or state − recomputation| \(worst)")
        }
    }

    @Test func masksAreTheOnesApplied() throws {
        let (lm, x) = try tracedModel()
        let m = lm.lastDropoutMasks
        let E = Self.config.embSize, T = x.seqLen, bs = x.batchSize
        let emb = try #require(m.embedding), inp = try #require(m.input), out = try #require(m.output)
        #expect(emb.shape == [Self.vocab] && inp.shape == [bs, E] && out.shape == [bs, E])
        #expect(m.hidden.count == 1 && m.hidden[0]?.shape == [bs, Self.config.hiddenSize])
        #expect(m.weight.count == 2 && m.weight[1]?.shape == [4 * E, E])
        // Entries are 0 or 1/(1−p) = 2 (p = 0.5 exactly representable), and each mask drops something.
        for t in [emb, inp, out, m.hidden[0]!, m.weight[0]!, m.weight[1]!] {
            #expect(t.data.allSatisfy { $0 == 0 || $0 == 2 })
            #expect(t.data.contains(0) && t.data.contains(2))
        }
        // Layer 0's input is the embedding row, times the row's embedding mask, times the input mask.
        let w = lm.encoder.embedding.value, input = lm.encoder.lastInput(ofLayer: 0)
        let embedded = lm.encoder.embeddingOutput
        for b in 0..<bs {
            for t in 0..<T {
                let id = x[b, t]
                for k in 0..<E {
                    #expect(embedded[b, t, k] == w[id, k] * emb[id])
                    #expect(input[b, t, k] == w[id, k] * emb[id] * inp[b, k])
                }
            }
        }
        // The decoder's input is the last layer's output times the output mask.
        let raw = lm.encoder.rawOutput(ofLayer: 1), dropped = lm.decoder.lastDropped
        for b in 0..<bs { for t in 0..<T { for k in 0..<E { #expect(dropped[b, t, k] == raw[b, t, k] * out[b, k]) } } }
        // The hidden mask sits between the layers.
        let h0 = lm.encoder.rawOutput(ofLayer: 0), in1 = lm.encoder.lastInput(ofLayer: 1), hm = m.hidden[0]!
        for b in 0..<bs { for t in 0..<T { for k in 0..<Self.config.hiddenSize { #expect(in1[b, t, k] == h0[b, t, k] * hm[b, k]) } } }
    }

    @Test func evalModeHasNoMasks() throws {
        let (lm, x) = try tracedModel()
        let before = lm.encoder.layers[0].lastHiddenStates    // [bs, T+1, H]
        lm.isTraining = false
        _ = try lm.forward(x)
        let m = lm.lastDropoutMasks
        #expect(m.embedding == nil && m.input == nil && m.output == nil)
        #expect(m.hidden.allSatisfy { $0 == nil } && m.weight.allSatisfy { $0 == nil })
        // The state is carried: step 0 of this call is the last step of the previous one.
        let after = lm.encoder.layers[0].lastHiddenStates
        let (T, bs) = lm.encoder.lastCallShape, H = Self.config.hiddenSize
        var carried = true
        for b in 0..<bs { for k in 0..<H where after[b, 0, k] != before[b, T, k] { carried = false } }
        #expect(carried)
        #expect(before.data.contains { $0 != 0 })
    }

    @Test func masksDescribeTheLastCallEvenAfterSwitchingMode() throws {
        let (lm, _) = try tracedModel()
        let drawn = lm.lastDropoutMasks
        lm.isTraining = false    // no forward call since: the training call's masks still stand
        let m = lm.lastDropoutMasks
        #expect(m.input != nil && m.input == drawn.input && m.embedding == drawn.embedding)
        #expect(m.weight.allSatisfy { $0 != nil } && m.weight == drawn.weight)
    }

    @Test func beforeAnyForwardTheViewsAreEmpty() throws {
        let lm = try AWDLSTMLanguageModel(config: Self.config, vocabSize: Self.vocab, seed: 7)
        #expect(lm.encoder.layers[0].lastGates.count == 0)
        #expect(lm.encoder.layers[0].lastWeightMask == nil)
        let m = lm.lastDropoutMasks
        #expect(m.embedding == nil && m.input == nil && m.output == nil)
    }
}
