import Foundation
import Testing
import Tensor
@testable import Models

/// The classifier head's layers, each alone, against its plain reference in Sources (Double):
/// (1) the reference's backward against central finite differences of its forward; (2) the fast
/// layer against the reference at the spec's 1e-4 relative with a floor of 1e-2 × the largest
/// entry (`expectNear`). Batches are padded as fastai pads classifier batches (`Pad_Chunk`: whole
/// chunks of pads before the text, the rest after it), longest text first.
@Suite struct HeadLayerReferenceTests {
    /// `[bs, T]` pad mask as fastai's `Pad_Chunk` pads a classifier batch (../shared/spec/data.md
    /// 5.2): for a text of length n, `l = T − n` pads, the whole chunks of them (`l div bptt · bptt`)
    /// in front of the text, the rest (`l mod bptt`) after it.
    static func padMask(lengths: [Int], T: Int, bptt: Int) -> [Bool] {
        lengths.flatMap { n -> [Bool] in
            let l = T - n, front = l / bptt * bptt
            return [Bool](repeating: true, count: front) + [Bool](repeating: false, count: n)
                + [Bool](repeating: true, count: l - front)
        }
    }

    // MARK: masked concat pooling

    @Test func poolReferenceMatchesFiniteDifferences() {
        var rng = SeededGenerator(seed: 1)
        let (bs, T, E, bptt) = (4, 7, 3, 2)
        // Pads: none; 2 in front and 1 behind; 6 in front; 2 in front.
        let mask = Self.padMask(lengths: [7, 4, 1, 5], T: T, bptt: bptt)
        let x = randomDoubles(bs * T * E, using: &rng), readout = randomDoubles(bs * 3 * E, using: &rng)
        let analytic = MaskedConcatPool.Reference.backward(pooledGradient: readout, x, batchSize: bs, steps: T, features: E,
                                                           padMask: mask, bptt: bptt)
        let numeric = finiteDifferences(at: x) {
            dot(readout, MaskedConcatPool.Reference.forward($0, batchSize: bs, steps: T, features: E, padMask: mask, bptt: bptt))
        }
        expectMatchesFiniteDifferences(analytic, numeric, "pool dx")
        // Max and mean leave the pads out. `last` is fastai's `output[-last_pad-1]` with `last_pad`
        // the pads among the last bptt positions: the last token of the text, except when the
        // text is shorter than bptt after front pads (row 2: a pad at 5, then its one token at 6,
        // so `last` reads the pad at 5), which is reproduced as fastai has it.
        let quirk = 2 * T + 5
        #expect((0..<(bs * T)).filter { mask[$0] && $0 != quirk }.allSatisfy { p in (0..<E).allSatisfy { analytic[p * E + $0] == 0 } },
                "pads get no gradient")
        #expect((0..<E).allSatisfy { analytic[quirk * E + $0] == readout[2 * 3 * E + $0] }, "row 2's last reads the pad at 5")
    }

    /// bptt shorter than, equal to and longer than T; batch 1; one step; a row of pads only
    /// (fastai's −∞ max and nan mean, compared apart since they are not numbers to subtract).
    @Test(arguments: [(1, 1, 1), (1, 7, 3), (3, 1, 2), (5, 9, 4), (5, 9, 9), (5, 9, 20)])
    func poolFastMatchesReference(_ bs: Int, _ T: Int, _ bptt: Int) throws {
        var rng = SeededGenerator(seed: UInt64(100 * bs + 10 * T + bptt))
        let E = 13
        // Lengths longest first, as fastai sorts a classifier batch; with five rows the last
        // is all pads.
        let lengths = bs == 1 ? [max(1, T / 2)] : Array([T, max(1, T - 1), max(1, T / 2), max(1, T / 3), 0].prefix(bs))
        let mask = Self.padMask(lengths: lengths, T: T, bptt: bptt)
        let x = randomDoubles(bs * T * E, using: &rng), dp = randomDoubles(bs * 3 * E, using: &rng)
        let pool = MaskedConcatPool(bptt: bptt)
        let pooled = pool.forward(Tensor(shape: [bs, T, E], data: x.map(Float.init)), padMask: mask)
        let dx = try pool.backward(outputGradient: Tensor(shape: [bs, 3 * E], data: dp.map(Float.init)))
        let ref = MaskedConcatPool.Reference.forward(x, batchSize: bs, steps: T, features: E, padMask: mask, bptt: bptt)
        let refDx = MaskedConcatPool.Reference.backward(pooledGradient: dp, x, batchSize: bs, steps: T, features: E,
                                                        padMask: mask, bptt: bptt)
        let what = "pool bs \(bs) T \(T) bptt \(bptt)"
        let full = (0..<bs).filter { b in (0..<T).contains { !mask[b * T + $0] } }
        let pooledRows = full.flatMap { b in (b * 3 * E)..<((b + 1) * 3 * E) }
        expectNear(pooledRows.map { pooled.data[$0] }, pooledRows.map { ref[$0] }, "\(what) forward")
        expectNear(dx.data, refDx, "\(what) dx")
        for b in 0..<bs where !full.contains(b) {
            let o = b * 3 * E
            for f in 0..<E {
                #expect(Double(pooled.data[o + f]) == ref[o + f], "\(what): last of an all-pad row")
                #expect(pooled.data[o + E + f] == -.infinity && ref[o + E + f] == -.infinity, "\(what): max of an all-pad row")
                #expect(pooled.data[o + 2 * E + f].isNaN && ref[o + 2 * E + f].isNaN, "\(what): mean of an all-pad row")
            }
        }
    }

    // MARK: BatchNorm1d

    @Test(arguments: [false, true])
    func batchNormReferenceMatchesFiniteDifferences(training: Bool) {
        var rng = SeededGenerator(seed: training ? 2 : 3)
        let (N, C) = (5, 3)
        var x = randomDoubles(N * C, scale: 2, using: &rng)
        var w = randomDoubles(C, using: &rng).map { $0 + 1.5 }, b = randomDoubles(C, using: &rng)
        let mean = randomDoubles(C, scale: 0.3, using: &rng), variance = randomDoubles(C, using: &rng).map { $0 + 1.5 }
        let readout = randomDoubles(N * C, using: &rng)
        func loss() -> Double {
            dot(readout, BatchNorm1d.Reference.forward(x, rows: N, features: C, weight: w, bias: b, runningMean: mean,
                                                       runningVar: variance, training: training).y)
        }
        let g = BatchNorm1d.Reference.backward(outputGradient: readout, x, rows: N, features: C, weight: w,
                                               runningMean: mean, runningVar: variance, training: training)
        let mode = training ? "train" : "eval"
        let (x0, w0, b0) = (x, w, b)
        expectMatchesFiniteDifferences(g.input, finiteDifferences(at: x0) { x = $0; return loss() }, "BatchNorm \(mode) dx")
        x = x0
        expectMatchesFiniteDifferences(g.weight, finiteDifferences(at: w0) { w = $0; return loss() }, "BatchNorm \(mode) dweight")
        w = w0
        expectMatchesFiniteDifferences(g.bias, finiteDifferences(at: b0) { b = $0; return loss() }, "BatchNorm \(mode) dbias")
    }

    /// Batch 1 (eval only: training needs two rows), 2, and odd sizes; 13 features.
    @Test(arguments: [(1, false), (2, true), (2, false), (5, true), (7, true), (7, false)])
    func batchNormFastMatchesReference(_ N: Int, _ training: Bool) throws {
        var rng = SeededGenerator(seed: UInt64(10 * N + (training ? 1 : 0)))
        let C = 13
        let x = randomDoubles(N * C, scale: 2, using: &rng), dy = randomDoubles(N * C, using: &rng)
        let w = randomDoubles(C, using: &rng).map { Double(Float($0 + 1.5)) }, b = randomDoubles(C, using: &rng)
        let mean = randomDoubles(C, scale: 0.3, using: &rng), variance = randomDoubles(C, using: &rng).map { Double(Float($0 + 1.5)) }
        let bn = BatchNorm1d(features: C, prefix: "bn")
        bn.weight.value = Tensor(shape: [C], data: w.map(Float.init))
        bn.bias.value = Tensor(shape: [C], data: b.map(Float.init))
        bn.runningMean = Tensor(shape: [C], data: mean.map(Float.init))
        bn.runningVar = Tensor(shape: [C], data: variance.map(Float.init))
        let y = try bn.forward(Tensor(shape: [N, C], data: x.map(Float.init)), training: training)
        let dx = try bn.backward(outputGradient: Tensor(shape: [N, C], data: dy.map(Float.init)))
        let ref = BatchNorm1d.Reference.forward(x, rows: N, features: C, weight: w, bias: b, runningMean: mean,
                                                runningVar: variance, training: training)
        let g = BatchNorm1d.Reference.backward(outputGradient: dy, x, rows: N, features: C, weight: w, runningMean: mean,
                                               runningVar: variance, training: training)
        let what = "BatchNorm N \(N) \(training ? "train" : "eval")"
        expectNear(y.data, ref.y, "\(what) forward")
        expectNear(bn.runningMean.data, ref.runningMean, "\(what) running mean")
        expectNear(bn.runningVar.data, ref.runningVar, "\(what) running var")
        expectNear(dx.data, g.input, "\(what) dx")
        expectNear(bn.weight.grad.data, g.weight, "\(what) dweight")
        expectNear(bn.bias.grad.data, g.bias, "\(what) dbias")
    }

    // MARK: LinBnDrop

    static func referenceWeights(_ block: LinBnDrop, dropMask: [Double]?) -> LinBnDrop.Reference.Weights {
        let bn = block.batchNorm
        return LinBnDrop.Reference.Weights(bnWeight: bn.weight.value.data.map(Double.init), bnBias: bn.bias.value.data.map(Double.init),
                                           runningMean: bn.runningMean.data.map(Double.init),
                                           runningVar: bn.runningVar.data.map(Double.init),
                                           linear: block.linear.value.data.map(Double.init), relu: block.relu, dropMask: dropMask)
    }

    @Test(arguments: [(false, false), (false, true), (true, true)])
    func linBnDropReferenceMatchesFiniteDifferences(_ training: Bool, _ relu: Bool) {
        var rng = SeededGenerator(seed: 4)
        let (N, nIn, nOut) = (4, 5, 3)
        var w = LinBnDrop.Reference.Weights(bnWeight: randomDoubles(nIn, using: &rng).map { $0 + 1.5 },
                                            bnBias: randomDoubles(nIn, using: &rng),
                                            runningMean: randomDoubles(nIn, scale: 0.3, using: &rng),
                                            runningVar: randomDoubles(nIn, using: &rng).map { $0 + 1.5 },
                                            linear: randomDoubles(nOut * nIn, using: &rng), relu: relu,
                                            dropMask: training ? dropoutMask(N * nIn, p: 0.3, using: &rng) : nil)
        var x = randomDoubles(N * nIn, scale: 2, using: &rng)
        let readout = randomDoubles(N * nOut, using: &rng)
        func loss() -> Double {
            dot(readout, LinBnDrop.Reference.forward(x, rows: N, inputs: nIn, outputs: nOut, weights: w, training: training).y)
        }
        let g = LinBnDrop.Reference.backward(outputGradient: readout, x, rows: N, inputs: nIn, outputs: nOut, weights: w,
                                             training: training)
        let what = "LinBnDrop \(training ? "train" : "eval")\(relu ? " relu" : "")"
        let (x0, w0) = (x, w)
        expectMatchesFiniteDifferences(g.input, finiteDifferences(at: x0) { x = $0; return loss() }, "\(what) dx")
        x = x0
        expectMatchesFiniteDifferences(g.bnWeight, finiteDifferences(at: w0.bnWeight) { w.bnWeight = $0; return loss() }, "\(what) dbn.weight")
        w = w0
        expectMatchesFiniteDifferences(g.bnBias, finiteDifferences(at: w0.bnBias) { w.bnBias = $0; return loss() }, "\(what) dbn.bias")
        w = w0
        expectMatchesFiniteDifferences(g.linear, finiteDifferences(at: w0.linear) { w.linear = $0; return loss() }, "\(what) dlinear")
    }

    /// Dropout on (the mask the block drew, read back) and off, ReLU on and off, odd sizes.
    @Test(arguments: [(3, true, true), (3, false, false), (6, true, false), (6, false, true)])
    func linBnDropFastMatchesReference(_ N: Int, _ training: Bool, _ relu: Bool) throws {
        var rng = SeededGenerator(seed: UInt64(N * 4 + (training ? 2 : 0) + (relu ? 1 : 0)))
        let (nIn, nOut) = (13, 7)
        let block = LinBnDrop(inputs: nIn, outputs: nOut, p: 0.3, relu: relu, prefix: "1.layers.0", rng: &rng)
        let bn = block.batchNorm
        bn.weight.value = Tensor(shape: [nIn], data: randomDoubles(nIn, using: &rng).map { Float($0 + 1.5) })
        bn.bias.value = Tensor(shape: [nIn], data: randomDoubles(nIn, using: &rng).map(Float.init))
        bn.runningMean = Tensor(shape: [nIn], data: randomDoubles(nIn, scale: 0.3, using: &rng).map(Float.init))
        bn.runningVar = Tensor(shape: [nIn], data: randomDoubles(nIn, using: &rng).map { Float($0 + 1.5) })
        let weights = Self.referenceWeights(block, dropMask: nil)   // the statistics before the call
        let x = randomDoubles(N * nIn, scale: 2, using: &rng), dy = randomDoubles(N * nOut, using: &rng)
        let y = try block.forward(Tensor(shape: [N, nIn], data: x.map(Float.init)), training: training, rng: &rng)
        let dx = try block.backward(outputGradient: Tensor(shape: [N, nOut], data: dy.map(Float.init)))
        let drawn = try #require(block.last).dropMask
        #expect(drawn.isEmpty != training, "a mask is drawn in training only")
        var w = weights
        w.dropMask = drawn.isEmpty ? nil : drawn.map(Double.init)
        let ref = LinBnDrop.Reference.forward(x, rows: N, inputs: nIn, outputs: nOut, weights: w, training: training)
        let g = LinBnDrop.Reference.backward(outputGradient: dy, x, rows: N, inputs: nIn, outputs: nOut, weights: w,
                                             training: training)
        let what = "LinBnDrop N \(N) \(training ? "train" : "eval")\(relu ? " relu" : "")"
        expectNear(y.data, ref.y, "\(what) forward")
        expectNear(bn.runningVar.data, ref.runningVar, "\(what) running var")
        expectNear(dx.data, g.input, "\(what) dx")
        expectNear(bn.weight.grad.data, g.bnWeight, "\(what) dbn.weight")
        expectNear(bn.bias.grad.data, g.bnBias, "\(what) dbn.bias")
        expectNear(block.linear.grad.data, g.linear, "\(what) dlinear")
    }
}
