import Foundation
import Testing
import Tensor
@testable import Models

/// The language model's layers, each alone, against its plain reference in Sources (Double,
/// batch-first): (1) the reference's backward against central finite differences of the
/// reference's forward; (2) the fast layer's forward and backward against the reference at the
/// spec's 1e-4 relative, with a floor of 1e-2 × the largest entry for entries near zero
/// (`expectNear`). Dropout masks are the ones the fast layer drew (it keeps them), given to the
/// reference, so the comparison is exact up to rounding. Sizes are odd on purpose: widths that are
/// not multiples of 8 or 16 (the SIMD and packed-panel widths), batch 1, one time step.
@Suite struct LMLayerReferenceTests {
    /// (batch, steps) pairs covering batch 1 and sequence length 1.
    static let shapes: [(Int, Int)] = [(1, 1), (1, 6), (3, 1), (3, 5)]

    // MARK: RNNDropout

    @Test func rnnDropoutReferenceMatchesFiniteDifferences() {
        var rng = SeededGenerator(seed: 1)
        let (bs, T, F) = (3, 4, 5)
        let x = randomDoubles(bs * T * F, using: &rng), mask = dropoutMask(bs * F, p: 0.4, using: &rng)
        let readout = randomDoubles(bs * T * F, using: &rng)
        let analytic = RNNDropout.Reference.backward(outputGradient: readout, mask: mask, batchSize: bs, steps: T, features: F)
        let numeric = finiteDifferences(at: x) { dot(readout, RNNDropout.Reference.forward($0, mask: mask, batchSize: bs, steps: T, features: F)) }
        expectMatchesFiniteDifferences(analytic, numeric, "RNNDropout dx")
    }

    @Test(arguments: shapes)
    func rnnDropoutFastMatchesReference(_ bs: Int, _ T: Int) {
        var rng = SeededGenerator(seed: UInt64(10 * bs + T))
        let F = 13
        let x = randomDoubles(bs * T * F, using: &rng), mask = dropoutMask(bs * F, p: 0.3, using: &rng)
        let src = timeMajor(x, bs: bs, T: T, F: F), maskF = mask.map(Float.init)
        var dst = [Float](repeating: .nan, count: src.count)
        dst.withUnsafeMutableBufferPointer { d in
            RNNDropout.apply(src, mask: maskF, into: d.baseAddress!, T: T, bs: bs, F: F)
        }
        let fast = dst.withUnsafeBufferPointer { batchFirst($0.baseAddress!, bs: bs, T: T, F: F) }
        expectNear(fast, RNNDropout.Reference.forward(x, mask: mask, batchSize: bs, steps: T, features: F),
                   "RNNDropout [\(bs), \(T), \(F)]")
        // In place (the backward pass): the same numbers.
        var inPlace = src
        inPlace.withUnsafeMutableBufferPointer { RNNDropout.apply($0.baseAddress!, mask: maskF, into: $0.baseAddress!, T: T, bs: bs, F: F) }
        #expect(inPlace == dst)
    }

    // MARK: EmbeddingDropout

    @Test func embeddingReferenceMatchesFiniteDifferencesOffThePadRow() {
        var rng = SeededGenerator(seed: 2)
        let (V, E, pad) = (7, 5, 1)
        let ids = [0, 1, 3, 3, 6, 1, 2, 3, 5]   // [3, 3], repeats and pads
        let w = randomDoubles(V * E, using: &rng), mask = dropoutMask(V, p: 0.3, using: &rng)
        let readout = randomDoubles(ids.count * E, using: &rng)
        let analytic = EmbeddingDropout.Reference.backward(outputGradient: readout, ids: ids, mask: mask, padToken: pad,
                                                           vocabSize: V, embeddingSize: E)
        let numeric = finiteDifferences(at: w) { dot(readout, EmbeddingDropout.Reference.forward(weight: $0, ids: ids, mask: mask, embeddingSize: E)) }
        // PyTorch's padding_idx: no gradient for the pad row, although the forward reads it.
        let offPad = (0..<(V * E)).filter { $0 / E != pad }
        expectMatchesFiniteDifferences(offPad.map { analytic[$0] }, offPad.map { numeric[$0] }, "embedding dW")
        #expect(analytic[(pad * E)..<((pad + 1) * E)].allSatisfy { $0 == 0 })
        #expect(numeric[(pad * E)..<((pad + 1) * E)].contains { $0 != 0 }, "the pad row is read by the forward pass")
    }

    @Test(arguments: shapes)
    func embeddingFastMatchesReference(_ bs: Int, _ T: Int) {
        var rng = SeededGenerator(seed: UInt64(20 * bs + T))
        let (V, E, pad) = (11, 13, 1)
        // Ids with the pad and a repeat in every batch of more than one position.
        var ids = (0..<(bs * T)).map { _ in Int(rng.next() % UInt64(V)) }
        if ids.count > 1 { ids[0] = pad; ids[ids.count - 1] = ids[ids.count / 2] }
        let w = randomDoubles(V * E, using: &rng), dy = randomDoubles(bs * T * E, using: &rng)
        for mask in [nil, dropoutMask(V, p: 0.5, using: &rng)] {
            let wF = w.map(Float.init), maskF = mask?.map(Float.init)
            var out = [Float](repeating: .nan, count: bs * T * E), grad = [Float](repeating: 0, count: V * E)
            let dyF = dy.map(Float.init)
            // Rows in batch-first order here; the fast path takes them in any order.
            withOptionalPointer(maskF) { m in
                out.withUnsafeMutableBufferPointer { o in
                    EmbeddingDropout.forward(weight: wF, ids: ids, mask: m, E: E, into: o.baseAddress!)
                }
                grad.withUnsafeMutableBufferPointer { g in
                    EmbeddingDropout.backward(dOutput: dyF, ids: ids, mask: m, padToken: pad, E: E, into: g.baseAddress!)
                }
            }
            let what = "embedding [\(bs), \(T)] \(mask == nil ? "eval" : "dropout")"
            expectNear(out, EmbeddingDropout.Reference.forward(weight: w, ids: ids, mask: mask, embeddingSize: E), "\(what) forward")
            expectNear(grad, EmbeddingDropout.Reference.backward(outputGradient: dy, ids: ids, mask: mask, padToken: pad,
                                                                  vocabSize: V, embeddingSize: E), "\(what) dW")
        }
    }

    /// The encoder's own use of the two dropouts: the masks it drew, given to the references,
    /// give its embedding output, its first layer's input and the input of every later layer.
    @Test func encoderDropoutsMatchReferencesWithItsMasks() throws {
        let config = AWDLSTMConfig(embSize: 5, hiddenSize: 9, layers: 3, padToken: 1, outputP: 0.3, hiddenP: 0.4,
                                   inputP: 0.35, embedP: 0.3, weightP: 0.5)
        let enc = try AWDLSTM(config: config, vocabSize: 13, seed: 3)
        let x = try TokenBatch(rows: [[1, 1, 4, 5, 6], [7, 8, 4, 1, 12], [2, 3, 3, 3, 0]])
        let (bs, T, E, V) = (3, 5, 5, 13)
        try enc.forward(x)
        let w = enc.embedding.value.data.map(Double.init)
        let embMask = enc.embeddingMask.array(V).map(Double.init)
        #expect(embMask.contains(0) && embMask.contains { $0 > 1 }, "p = 0.3 on 13 rows drew both")
        let embedded = EmbeddingDropout.Reference.forward(weight: w, ids: x.ids, mask: embMask, embeddingSize: E)
        expectNear(enc.embeddingOutput.data, embedded, "encoder embedding output")
        let inputMask = enc.inputMask.array(bs * E).map(Double.init)
        let layer0Input = batchFirst(enc.input(ofLayer: 0), bs: bs, T: T, F: E)
        expectNear(layer0Input, RNNDropout.Reference.forward(embedded, mask: inputMask, batchSize: bs, steps: T, features: E),
                   "encoder input dropout")
        for l in 0..<(config.layers - 1) {
            let H = enc.layers[l].hiddenSize
            let raw = enc.rawOutput(ofLayer: l).data.map(Double.init)
            let mask = enc.hiddenMasks[l].array(bs * H).map(Double.init)
            expectNear(enc.output(ofLayer: l).data, RNNDropout.Reference.forward(raw, mask: mask, batchSize: bs, steps: T, features: H),
                       "encoder hidden dropout after layer \(l)")
        }
    }

    // MARK: weight-dropped LSTM

    static func referenceWeights(_ layer: LSTMLayer, mask: [Double]?) -> LSTMLayer.Reference.Weights {
        LSTMLayer.Reference.Weights(inputSize: layer.inputSize, hiddenSize: layer.hiddenSize,
                                    weightIH: layer.weightIH.value.data.map(Double.init),
                                    weightHHRaw: layer.weightHHRaw.value.data.map(Double.init),
                                    biasIH: layer.biasIH.value.data.map(Double.init),
                                    biasHH: layer.biasHH.value.data.map(Double.init), weightHHMask: mask)
    }

    @Test func lstmReferenceMatchesFiniteDifferences() {
        var rng = SeededGenerator(seed: 4)
        let (bs, T, nIn, H) = (2, 4, 3, 5)
        let G = 4 * H
        var w = LSTMLayer.Reference.Weights(inputSize: nIn, hiddenSize: H, weightIH: randomDoubles(G * nIn, using: &rng),
                                            weightHHRaw: randomDoubles(G * H, using: &rng),
                                            biasIH: randomDoubles(G, using: &rng), biasHH: randomDoubles(G, using: &rng),
                                            weightHHMask: dropoutMask(G * H, p: 0.4, using: &rng))
        let x = randomDoubles(bs * T * nIn, using: &rng)
        let h0 = randomDoubles(bs * H, using: &rng), c0 = randomDoubles(bs * H, scale: 2, using: &rng)
        let readout = randomDoubles(bs * T * H, using: &rng)
        func loss(_ x: [Double], _ w: LSTMLayer.Reference.Weights) -> Double {
            dot(readout, LSTMLayer.Reference.forward(x, batchSize: bs, steps: T, h0: h0, c0: c0, weights: w).output)
        }
        let g = LSTMLayer.Reference.backward(outputGradient: readout, x, batchSize: bs, steps: T, h0: h0, c0: c0, weights: w)
        expectMatchesFiniteDifferences(g.input, finiteDifferences(at: x) { loss($0, w) }, "LSTM dx")
        let base = w
        expectMatchesFiniteDifferences(g.weightIH, finiteDifferences(at: base.weightIH) { w.weightIH = $0; return loss(x, w) }, "LSTM dW_ih")
        w = base
        expectMatchesFiniteDifferences(g.weightHHRaw, finiteDifferences(at: base.weightHHRaw) { w.weightHHRaw = $0; return loss(x, w) },
                                       "LSTM dW_hh_raw (through the mask)")
        w = base
        expectMatchesFiniteDifferences(g.biasIH, finiteDifferences(at: base.biasIH) { w.biasIH = $0; return loss(x, w) }, "LSTM db_ih")
        w = base
        expectMatchesFiniteDifferences(g.biasHH, finiteDifferences(at: base.biasHH) { w.biasHH = $0; return loss(x, w) }, "LSTM db_hh")
        #expect(g.weightHHRaw.enumerated().contains { $0.element == 0 && base.weightHHMask![$0.offset] == 0 },
                "dropped weights get no gradient")
    }

    /// Both ways of sharing the recurrence between workers (per step along the gates, or the whole
    /// loop along the batch rows), in training (a DropConnect mask) and eval, from a non-zero state.
    @Test(arguments: [(1, 1, 5, 3), (1, 6, 13, 19), (3, 1, 13, 19), (3, 5, 7, 16), (5, 3, 16, 21)])
    func lstmFastMatchesReference(_ bs: Int, _ T: Int, _ nIn: Int, _ H: Int) {
        var rng = SeededGenerator(seed: UInt64(1000 * bs + 100 * T + H))
        let layer = LSTMLayer(inputSize: nIn, hiddenSize: H, weightP: 0.5, namePrefix: "")
        layer.initialize(using: &rng)
        let x = randomDoubles(bs * T * nIn, using: &rng), dy = randomDoubles(bs * T * H, using: &rng)
        let h0 = randomDoubles(bs * H, scale: 0.5, using: &rng), c0 = randomDoubles(bs * H, scale: 2, using: &rng)
        let xT = timeMajor(x, bs: bs, T: T, F: nIn)
        for training in [true, false] {
            for gateSplit in [true, false] {
                let what = "LSTM bs \(bs) T \(T) nIn \(nIn) H \(H) \(training ? "train" : "eval") \(gateSplit ? "gate" : "batch") split"
                layer.gateSplitMACs = gateSplit ? 0 : .max
                layer.setState(h: h0.map(Float.init), c: c0.map(Float.init), batchSize: bs)
                for p in layer.parameters { p.zeroGrad() }
                var dxT = [Float](repeating: .nan, count: bs * T * nIn)
                var dyT = timeMajor(dy, bs: bs, T: T, F: H)
                layer.forward(xT, T: T, bs: bs, training: training, rng: &rng)
                let out = batchFirst(layer.output, bs: bs, T: T, F: H)
                let state = layer.state
                dyT.withUnsafeMutableBufferPointer { d in dxT.withUnsafeMutableBufferPointer { dx in
                    layer.backward(dOutput: d.baseAddress!, x: xT, dInput: dx.baseAddress!)
                } }
                let mask = training ? layer.weightMask.array(4 * H * H).map(Double.init) : nil
                if let mask { #expect(mask.contains(0), "\(what): a mask was drawn") }
                let w = Self.referenceWeights(layer, mask: mask)
                let ref = LSTMLayer.Reference.forward(x, batchSize: bs, steps: T, h0: h0, c0: c0, weights: w)
                let g = LSTMLayer.Reference.backward(outputGradient: dy, x, batchSize: bs, steps: T, h0: h0, c0: c0, weights: w)
                expectNear(out, ref.output, "\(what) output")
                expectNear(state.h.data, ref.h, "\(what) h_T")
                expectNear(state.c.data, ref.c, "\(what) c_T")
                expectNear(dxT.withUnsafeBufferPointer { batchFirst($0.baseAddress!, bs: bs, T: T, F: nIn) }, g.input, "\(what) dx")
                expectNear(layer.weightIH.grad.data, g.weightIH, "\(what) dW_ih")
                expectNear(layer.weightHHRaw.grad.data, g.weightHHRaw, "\(what) dW_hh_raw")
                expectNear(layer.biasIH.grad.data, g.biasIH, "\(what) db_ih")
                expectNear(layer.biasHH.grad.data, g.biasHH, "\(what) db_hh")
            }
        }
    }

    // MARK: LinearDecoder (tied)

    @Test func decoderReferenceMatchesFiniteDifferences() {
        var rng = SeededGenerator(seed: 5)
        let (n, V, E) = (4, 7, 3)
        var x = randomDoubles(n * E, using: &rng), w = randomDoubles(V * E, using: &rng), b = randomDoubles(V, using: &rng)
        let readout = randomDoubles(n * V, using: &rng)
        let g = LinearDecoder.Reference.backward(logitsGradient: readout, x, weight: w, vocabSize: V, embeddingSize: E)
        let (x0, w0, b0) = (x, w, b)
        func loss() -> Double { dot(readout, LinearDecoder.Reference.forward(x, weight: w, bias: b, vocabSize: V, embeddingSize: E)) }
        expectMatchesFiniteDifferences(g.input, finiteDifferences(at: x0) { x = $0; return loss() }, "decoder dx")
        x = x0
        expectMatchesFiniteDifferences(g.weight, finiteDifferences(at: w0) { w = $0; return loss() }, "decoder dW")
        w = w0
        expectMatchesFiniteDifferences(g.bias, finiteDifferences(at: b0) { b = $0; return loss() }, "decoder db")
    }

    /// Output dropout, logits (both products: row by row for one or two rows, the BLAS product
    /// otherwise), the fused loss with its gradients (chunks of 5 rows, a ragged last one) and the
    /// blocked loss without gradient, against the references and `Softmax.Reference`. The weight
    /// is tied: its gradient is added to what the embedding put there.
    @Test(arguments: shapes)
    func decoderFastMatchesReference(_ bs: Int, _ T: Int) {
        var rng = SeededGenerator(seed: UInt64(30 * bs + T))
        let (V, E) = (37, 13)
        let n = bs * T
        let w = randomDoubles(V * E, using: &rng), b = randomDoubles(V, scale: 0.3, using: &rng)
        let raw = randomDoubles(n * E, scale: 2, using: &rng)
        let targets = (0..<n).map { _ in Int(rng.next() % UInt64(V)) }   // batch-first order
        let lookupGrad = randomDoubles(V * E, using: &rng)   // what the embedding's backward left
        let weight = Parameter("0.encoder.weight", Tensor(shape: [V, E], data: w.map(Float.init)))
        let bias = Parameter("1.decoder.bias", Tensor(shape: [V], data: b.map(Float.init)))
        let decoder = LinearDecoder(weight: weight, bias: bias, outputP: 0.4, rng: SeededGenerator(seed: 9))
        decoder.chunkFloats = 5 * V
        decoder.blockRows = 4
        let rawT = timeMajor(raw, bs: bs, T: T, F: E)
        decoder.applyDropout(raw: rawT, T: T, bs: bs)
        let mask = decoder.mask.array(bs * E).map(Double.init)
        let dropped = RNNDropout.Reference.forward(raw, mask: mask, batchSize: bs, steps: T, features: E)
        let what = "decoder [\(bs), \(T)]"
        expectNear(batchFirst(decoder.input, bs: bs, T: T, F: E), dropped, "\(what) output dropout")

        let logits = LinearDecoder.Reference.forward(dropped, weight: w, bias: b, vocabSize: V, embeddingSize: E)
        var fastLogits = [Float](repeating: .nan, count: n * V)
        fastLogits.withUnsafeMutableBufferPointer { decoder.logits(rows: 0..<n, into: $0.baseAddress!) }
        expectNear(batchFirst(fastLogits, bs: bs, T: T, F: V), logits, "\(what) logits")

        // Mean cross-entropy over the n rows and its gradient, by the softmax family's reference.
        var loss = 0.0, dLogits: [Double] = []
        for r in 0..<n {
            let row = logits[(r * V)..<((r + 1) * V)].map(Float.init)
            loss += Softmax.Reference.crossEntropy(row, target: targets[r]) / Double(n)
            dLogits += Softmax.Reference.crossEntropyBackward(row, target: targets[r], scale: 1 / Double(n))
        }
        let g = LinearDecoder.Reference.backward(logitsGradient: dLogits, dropped, weight: w, vocabSize: V, embeddingSize: E)
        let dRaw = RNNDropout.Reference.backward(outputGradient: g.input, mask: mask, batchSize: bs, steps: T, features: E)
        var targetsT = targets   // the decoder's rows are time-major
        for b in 0..<bs { for t in 0..<T { targetsT[t * bs + b] = targets[b * T + t] } }

        weight.grad = Tensor(shape: [V, E], data: lookupGrad.map(Float.init))
        bias.zeroGrad()
        var dDropped = [Float](repeating: .nan, count: n * E)
        let fused = dDropped.withUnsafeMutableBufferPointer { d in
            decoder.crossEntropy(targets: targetsT, gradScale: 1 / Float(n), dDropped: d.baseAddress!).loss / Double(n)
        }
        #expect(abs(fused - loss) <= 1e-5 * loss, "\(what) fused loss \(fused) vs \(loss)")
        dDropped.withUnsafeMutableBufferPointer { decoder.backwardDropout($0.baseAddress!) }
        expectNear(batchFirst(dDropped, bs: bs, T: T, F: E), dRaw, "\(what) d raw")
        expectNear(weight.grad.data, zip(lookupGrad, g.weight).map { $0 + $1 }, "\(what) tied dW (lookup + decoder)")
        expectNear(bias.grad.data, g.bias, "\(what) db")
        let blocked = decoder.crossEntropy(targets: targetsT, gradScale: 0, dDropped: nil).loss / Double(n)
        #expect(abs(blocked - loss) <= 1e-5 * loss, "\(what) blocked loss \(blocked) vs \(loss)")
    }
}

/// `body` with a pointer to `values`, or nil when there are none.
private func withOptionalPointer<R>(_ values: [Float]?, _ body: (UnsafePointer<Float>?) -> R) -> R {
    guard let values else { return body(nil) }
    return values.withUnsafeBufferPointer { body($0.baseAddress!) }
}
