import Foundation
import Testing
import Tensor
import TestSupport
@testable import Models

/// Losses and every parameter's gradient against fastai (train mode, all dropout p = 0).
/// Tolerances: gradients the spec's 1e-4 relative, elementwise, with a floor near zero
/// (`expectGradientClose`); losses rtol 1e-5 (a mean of float32 log-softmax values accumulated
/// in double).
@Suite struct LMBackwardParityTests {

    func checkGrads(_ lm: AWDLSTMLanguageModel, _ fx: LMFixture, prefix: String) throws {
        let names = try #require(fx.json["param_names"] as? [String])
        #expect(lm.parameters.map(\.name) == names, "named_parameters order")
        for name in names {
            let p = try #require(lm.parameter(named: name), "parameter \(name)")
            #expect(p.hasGrad, "\(name) has a gradient")
            expectGradientClose(p.grad, try fx.backward.float("\(prefix).grad.\(name)"), "\(prefix).grad.\(name)")
        }
    }

    @Test func twoStatefulBatchesMatchFastai() throws {
        let fx = try LMFixture()
        let lm = try fx.model()
        lm.isTraining = true
        let b = fx.backward
        let x1 = try tokenIDs(b.int("x1")), y1 = try tokenIDs(b.int("y1"))
        let x2 = try tokenIDs(b.int("x2")), y2 = try tokenIDs(b.int("y2"))

        // Logits of batch 1 from a reset state (train mode with p = 0 equals eval).
        lm.reset()
        expectClose(try lm.forward(x1).logits, try b.float("loss1.logits"), rtol: 1e-4, atol: 1e-5, "loss1.logits")

        lm.reset()
        lm.zeroGrad()
        let loss1 = try lm.lossAndBackward(x: x1, y: y1)
        #expect(abs(Double(loss1) - (try fx.double("loss1"))) <= 1e-5 * abs(try fx.double("loss1")), "loss1 \(loss1)")
        try checkGrads(lm, fx, prefix: "loss1")

        // Batch 2 continues from batch 1's (detached) state.
        lm.zeroGrad()
        let loss2 = try lm.lossAndBackward(x: x2, y: y2)
        #expect(abs(Double(loss2) - (try fx.double("loss2"))) <= 1e-5 * abs(try fx.double("loss2")), "loss2 \(loss2)")
        try checkGrads(lm, fx, prefix: "loss2")
    }

    @Test func arTarTermsAndGradientsMatchFastai() throws {
        let fx = try LMFixture()
        let artar = try #require(fx.json["artar"] as? [String: Any])
        func v(_ k: String) throws -> Float { try #require((artar[k] as? NSNumber)?.floatValue, "artar.\(k)") }
        let lm = try fx.model()
        lm.isTraining = true
        lm.reset()
        lm.zeroGrad()
        let b = fx.backward
        let ce = try lm.lossAndBackward(x: try tokenIDs(b.int("x1")), y: try tokenIDs(b.int("y1")),
                                        arAlpha: try v("alpha"), tarBeta: try v("beta"))
        let t = lm.lastLoss
        #expect(abs(ce - (try v("cross_entropy"))) <= 1e-5 * abs(try v("cross_entropy")))
        #expect(abs(t.ar - (try v("ar_term"))) <= 1e-4 * abs(try v("ar_term")), "ar \(t.ar)")
        #expect(abs(t.tar - (try v("tar_term"))) <= 1e-4 * abs(try v("tar_term")), "tar \(t.tar)")
        #expect(abs(t.total - (try v("total"))) <= 1e-5 * abs(try v("total")), "total \(t.total)")
        try checkGrads(lm, fx, prefix: "artar")
    }
}
