import Foundation
import Testing
import Interop
@testable import Models
import Tensor
import TestSupport

// Full classifier (SentenceEncoder + head) parity with fastai (fixture README section 3), driven by
// clas.json: every batch listed there, eval mode (logits, pooled, encoder outputs, mask, loss, every
// gradient) and train mode on the batch named by `train_mode` / `train_mode_artar`.
// Tolerances: forward rtol 1e-4 / atol 1e-5; eval-mode gradients the spec's 1e-4 relative with a
// floor near zero (`expectGradientClose`); train-mode gradients as measured below.

private func check(_ got: Tensor, _ want: Tensor, atol: Float, rtol: Float, _ what: String) {
    #expect(got.shape == want.shape, "\(what): shape \(got.shape) vs \(want.shape)")
    guard got.shape == want.shape else { return }
    var worst: Float = 0, bad = 0
    for (x, y) in zip(got.data, want.data) {
        let d = abs(x - y)
        worst = max(worst, d)
        if !(d <= atol + rtol * abs(y)) { bad += 1 }
    }
    #expect(bad == 0, "\(what): \(bad) values out of tolerance (worst |diff| \(worst))")
}

private struct ClasModelFixture {
    let data: SafeTensors
    let weights: [String: Tensor]
    let meta: [String: Any]

    init() throws {
        data = try SafeTensors(contentsOf: Fixtures.url("model/clas_data.safetensors"))
        let w = try SafeTensors(contentsOf: Fixtures.url("model/clas_weights.safetensors"))
        var ws = w.floats
        for (k, t) in w.integers { ws[k] = Tensor(shape: t.shape, data: t.data.map { Float($0) }) }
        weights = ws
        meta = try #require(Fixtures.json("model/clas.json") as? [String: Any])
    }

    func int(_ k: String) throws -> Int { try #require(meta[k] as? Int, "clas.json lacks \(k)") }

    func model() throws -> TextClassifierModel { try model(weights: weights) }

    func model(weights: [String: Tensor]) throws -> TextClassifierModel {
        let emb = try int("emb_sz"), hid = try int("n_hid"), layers = try int("n_layers")
        let dm = Float(try #require(meta["drop_mult"] as? Double))
        let cfg = AWDLSTMConfig(embSize: emb, hiddenSize: hid, layers: layers, padToken: try int("pad_idx"),
                                outputP: 0.4, hiddenP: 0.3, inputP: 0.4, embedP: 0.05, weightP: 0.5).scaled(dropMult: dm)
        let lin0 = try #require(weights["1.layers.0.1.weight"] ?? weights["1.layers.0.2.weight"])
        let linFtrs = (meta["lin_ftrs"] as? [Int]) ?? [lin0.shape[0]]
        let m = try TextClassifierModel(config: cfg, vocabSize: try int("vocab"), classes: try int("n_out"),
                                        bptt: try int("seq_len"), maxLen: try int("max_len"), linFtrs: linFtrs, seed: 1)
        try m.load(stateDict: weights)
        return m
    }

    func x(_ b: String) throws -> TokenBatch {
        let t = try data.int("\(b).x")
        return TokenBatch(batchSize: t.shape[0], seqLen: t.shape[1], ids: t.data)
    }
    func y(_ b: String) throws -> [Int] { try data.int("\(b).y").data }
}

@Test func classifierStateDictNamesMatchFastai() throws {
    let f = try ClasModelFixture()
    let m = try f.model()
    let names = try #require(f.meta["param_names"] as? [String])
    #expect(m.parameters.map(\.name) == names)
    let keys = try #require(f.meta["state_dict_keys"] as? [String])
    #expect(m.stateDictKeys == keys)   // PyTorch's order, which a torch checkpoint written from it keeps
}

@Test func classifierEvalParityEveryBatch() throws {
    let f = try ClasModelFixture()
    let batches = try #require(f.meta["batches"] as? [String: Any])
    #expect(!batches.isEmpty)
    for (b, info) in batches.sorted(by: { $0.key < $1.key }) {
        let m = try f.model()
        m.isTraining = false
        let x = try f.x(b), y = try f.y(b)
        let logits = try m.forward(x)
        check(logits, try f.data.float("\(b).eval.logits"), atol: 1e-5, rtol: 1e-4, "\(b) logits")
        check(try #require(m.lastPooled), try f.data.float("\(b).eval.pooled"), atol: 1e-5, rtol: 1e-4, "\(b) pooled")
        check(try #require(m.lastEncoderOutputs), try f.data.float("\(b).eval.encoder_out"), atol: 1e-5, rtol: 1e-4, "\(b) outs")
        // Chunk plan as listed in clas.json.
        do {
            let chunks = try Fixtures.field(try #require(info as? [String: Any]), "chunks", as: [[String: Any]].self, in: "clas.json batch \(b)")
            let got = m.encoder.lastChunks
            #expect(got.count == chunks.count, "\(b): chunk count")
            for (g, w) in zip(got, chunks) {
                #expect(g.start == w["start"] as? Int && g.end == w["end"] as? Int && g.rows == w["real_bs"] as? Int
                        && g.kept == w["kept"] as? Bool, "\(b): chunk \(g) vs \(w)")
            }
        }
        let loss = try m.lossAndBackward(x: x, y: y)
        let want = try #require((info as? [String: Any])?["eval_loss"] as? Double)
        #expect(abs(Double(loss) - want) <= 1e-5 + 1e-4 * abs(want), "\(b) loss \(loss) vs \(want)")
        for p in m.parameters {
            expectGradientClose(p.grad, try f.data.float("\(b).eval.grad.\(p.name)"), "\(b) grad \(p.name)")
        }
    }
}

/// Train mode, BatchNorm on batch statistics: the fixture's 4-row batch makes these gradients
/// ill-conditioned in float32, and the test measures by how much: every encoder weight moved by one
/// float32 ulp (three random draws) changes our own train-mode gradients by up to 7.4e-3 relative
/// (fixture A, `0.module.rnns.1.weight_hh_l0_raw`, floor 1e-2 of the largest entry; in eval mode
/// the same jitter moves them by 3.4e-5). So 1e-4 against PyTorch is out of reach for any float32
/// implementation here. Measured against fastai: worst 7.7e-3 on that same tensor, and at most
/// 2.3× a tensor's own one-ulp sensitivity (`1.layers.0.0.bias`: 7.2e-4 against 3.1e-4). Rule: each
/// gradient within 1e-4, or within 5× its measured one-ulp sensitivity where that is larger. A
/// missing or misrouted term (AR/TAR, a chunk's gradient) is orders of magnitude beyond either.
@Test func classifierTrainModeParityWithAndWithoutARTAR() throws {
    let f = try ClasModelFixture()
    // Plain loss on the batch named by train_mode; CE + AR + TAR with the fixture's alpha and beta on
    // the batch named by train_mode_artar (the two may differ in another fixture set).
    let train = try Fixtures.field(f.meta, "train_mode", as: [String: Any].self, in: "clas.json")
    let artarInfo = try Fixtures.field(f.meta, "train_mode_artar", as: [String: Any].self, in: "clas.json")
    func number(_ d: [String: Any], _ k: String) throws -> Double { try Fixtures.field(d, k, as: Double.self, in: "clas.json") }
    for artar in [false, true] {
        let info = artar ? artarInfo : train
        let b = try Fixtures.field(info, "batch", as: String.self, in: "clas.json")
        let alpha = artar ? Float(try number(info, "alpha")) : 0, beta = artar ? Float(try number(info, "beta")) : 0
        func run(_ weights: [String: Tensor]) throws -> (TextClassifierModel, Float) {
            let m = try f.model(weights: weights)
            m.isTraining = true
            for blk in m.head.blocks { blk.p = 0 }   // fixture: head Dropout forced to p = 0
            return (m, try m.lossAndBackward(x: try f.x(b), y: try f.y(b), arAlpha: alpha, tarBeta: beta))
        }
        let (m, loss) = try run(f.weights)
        var rng = SeededGenerator(seed: 9)
        let jittered = try (0..<3).map { _ in
            var w = f.weights
            for (k, t) in f.weights where k.hasPrefix("0.module.") && k != "0.module.encoder_dp.emb.weight" {
                w[k] = ulpJittered(t, using: &rng)
            }
            w["0.module.encoder_dp.emb.weight"] = w["0.module.encoder.weight"]   // the same (tied) tensor
            return Dictionary(uniqueKeysWithValues: try run(w).0.parameters.map { ($0.name, $0.grad) })
        }
        let sensitivity = gradientSensitivity(base: Dictionary(uniqueKeysWithValues: m.parameters.map { ($0.name, $0.grad) }),
                                              perturbed: jittered)
        let wantLoss = try number(info, artar ? "cross_entropy" : "loss")
        #expect(abs(Double(loss) - wantLoss) <= 1e-4 * abs(wantLoss) + 1e-5, "\(b) loss \(loss) vs \(wantLoss)")
        let prefix = artar ? "\(b).train_artar" : "\(b).train"
        if artar {
            // The AR and TAR terms, from the encoder outputs the regularizers act on.
            let outs = try #require(m.lastEncoderOutputs)
            let (bs, T, E) = (outs.shape[0], outs.shape[1], outs.shape[2])
            var ar = 0.0, tar = 0.0
            for i in 0..<outs.count { ar += Double(outs.data[i]) * Double(outs.data[i]) }
            for r in 0..<bs { for t in 1..<T { for e in 0..<E {
                let d = Double(outs.data[(r * T + t) * E + e]) - Double(outs.data[(r * T + t - 1) * E + e])
                tar += d * d
            } } }
            let arTerm = Double(alpha) * ar / Double(outs.count), tarTerm = Double(beta) * tar / Double(bs * (T - 1) * E)
            for (got, key) in [(arTerm, "ar_term"), (tarTerm, "tar_term"), (Double(loss) + arTerm + tarTerm, "total")] {
                let want = try number(info, key)
                #expect(abs(Double(got) - want) <= 1e-4 * abs(want) + 1e-7, "\(key) \(got) vs \(want)")
            }
        } else {
            check(try #require(m.lastPooled), try f.data.float("\(b).train.pooled"), atol: 1e-5, rtol: 1e-4, "train pooled")
            for blk in m.head.blocks {
                let bn = blk.batchNorm
                check(bn.runningMean, try f.data.float("\(b).train.after.\(bn.prefix).running_mean"), atol: 1e-5, rtol: 1e-4, "running_mean")
                check(bn.runningVar, try f.data.float("\(b).train.after.\(bn.prefix).running_var"), atol: 1e-5, rtol: 1e-4, "running_var")
            }
        }
        for p in m.parameters {
            let s = try #require(sensitivity[p.name])
            expectGradientClose(p.grad, try f.data.float("\(prefix).grad.\(p.name)"), rtol: max(1e-4, 5 * s),
                                "\(prefix) grad \(p.name) (one-ulp sensitivity \(s))")
        }
    }
}

@Test func classifierLoadRejectsWrongShapes() throws {
    let f = try ClasModelFixture()
    let m = try f.model()
    var bad = f.weights
    bad["0.module.encoder.weight"] = Tensor(shape: [3, 2])
    #expect(throws: ModelError.self) { try m.load(stateDict: bad) }
    bad.removeValue(forKey: "0.module.encoder.weight")
    #expect(throws: ModelError.self) { try m.load(stateDict: bad) }
}

/// The one state-dict check on the classifier: fastai's own state dict loads (its
/// `num_batches_tracked` counts included); an unknown key, a missing buffer, a misshapen one, an
/// alias that is not the embedding or a counter that is not a count is refused in one line that
/// names the key and the file, and the model is unchanged.
@Test func classifierLoadChecksEveryKeyAndChangesNothingOnFailure() throws {
    let f = try ClasModelFixture()
    let m = try f.model()
    let before = m.stateDict()
    func message(_ change: (inout [String: Tensor]) -> Void) -> String {
        var sd = f.weights
        change(&sd)
        do { try m.load(stateDict: sd, source: "clas.pth"); return "" } catch { return "\(error)" }
    }
    let buffer = try #require(f.weights.keys.sorted().first { $0.hasSuffix(".running_var") })
    let counter = try #require(f.weights.keys.sorted().first { $0.hasSuffix(".num_batches_tracked") })
    let alias = "0.module.encoder_dp.emb.weight"
    #expect(message { $0["1.layers.99.0.weight"] = Tensor(shape: [1]) }
            == "clas.pth: unexpected key '1.layers.99.0.weight' in state dict")
    #expect(message { $0.removeValue(forKey: buffer) } == "clas.pth: missing key '\(buffer)' in state dict")
    #expect(message { $0[buffer] = Tensor(shape: [1]) }
            == "clas.pth: '\(buffer)' has shape [1], the model expects \(f.weights[buffer]!.shape)")
    #expect(message { $0[alias] = Tensor(shape: $0[alias]!.shape) }
            == "clas.pth: '\(alias)' differs from '0.module.encoder.weight' but the weights are tied")
    #expect(message { $0[counter] = Tensor(shape: [2], data: [1, 2]) }
            == "clas.pth: '\(counter)' must be one whole number ≥ 0, got shape [2]")
    #expect(message { $0[counter] = Tensor(scalar: 0.5) } == "clas.pth: '\(counter)' must be one whole number ≥ 0, got shape []")
    for (k, v) in m.stateDict() { #expect(v == before[k], "\(k) changed by a failed load") }
    // The fastai state dict's counts are loaded; a state dict without counts (LMLab's own saves)
    // loads too and leaves them as they were.
    #expect(m.stateDict()[counter]?.data == f.weights[counter]?.data)
    try m.load(stateDict: f.weights.filter { !$0.key.hasSuffix(".num_batches_tracked") })
    #expect(m.stateDict()[counter]?.data == f.weights[counter]?.data)
}
