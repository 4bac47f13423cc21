import Foundation
import Testing
import Tensor
import TestSupport
@testable import Models

/// Forward values against fastai (eval mode). Tolerance: the fixture README's rtol 1e-4 / atol 1e-5
/// for float32 forward values (PyTorch's fused kernels sum in a different order).
@Suite struct LMForwardParityTests {
    let rtol: Float = 1e-4, atol: Float = 1e-5

    /// Compares everything recorded for one call (`call1`, `call2`).
    func checkCall(_ lm: AWDLSTMLanguageModel, _ fx: LMFixture, prefix: String, out: LMOutput) throws {
        let f = fx.forward
        let n = fx.config.layers
        expectClose(out.logits, try f.float("\(prefix).logits"), rtol: rtol, atol: atol, "\(prefix).logits")
        expectClose(lm.encoder.embeddingOutput, try f.float("\(prefix).emb_out"), rtol: rtol, atol: atol, "\(prefix).emb_out")
        for l in 0..<n {
            expectClose(lm.encoder.rawOutput(ofLayer: l), try f.float("\(prefix).layer\(l).raw_output"),
                        rtol: rtol, atol: atol, "\(prefix).layer\(l).raw_output")
            // After hidden dropout: recorded for every layer but the last (which has none).
            if l < n - 1 {
                expectClose(lm.encoder.output(ofLayer: l), try f.float("\(prefix).layer\(l).output"),
                            rtol: rtol, atol: atol, "\(prefix).layer\(l).output")
            }
            let state = lm.encoder.hiddenState[l]
            expectClose(state.h, try f.float("\(prefix).hidden.\(l).h"), rtol: rtol, atol: atol, "\(prefix).hidden.\(l).h")
            expectClose(state.c, try f.float("\(prefix).hidden.\(l).c"), rtol: rtol, atol: atol, "\(prefix).hidden.\(l).c")
        }
        // The model's second and third outputs are recorded for the first call (README section 1).
        if prefix == "call1" {
            expectClose(out.raw, try f.float("\(prefix).last_raw_output"), rtol: rtol, atol: atol, "\(prefix).last_raw_output")
            expectClose(out.dropped, try f.float("\(prefix).last_output"), rtol: rtol, atol: atol, "\(prefix).last_output")
        }
        expectClose(out.raw, lm.encoder.rawOutput(ofLayer: n - 1), rtol: 0, atol: 0, "raw is the last layer's output")
    }

    @Test func statefulCallsMatchFastai() throws {
        let fx = try LMFixture()
        let lm = try fx.model()
        lm.isTraining = false
        lm.reset()
        let out1 = try lm.forward(try tokenIDs(fx.forward.int("x1")))
        try checkCall(lm, fx, prefix: "call1", out: out1)
        // Second call continues from call 1's state.
        let out2 = try lm.forward(try tokenIDs(fx.forward.int("x2")))
        try checkCall(lm, fx, prefix: "call2", out: out2)
        // Smaller batch without reset keeps the first rows of the state.
        let out3 = try lm.forward(try tokenIDs(fx.forward.int("x_bs2")))
        expectClose(out3.logits, try fx.forward.float("call3_bs2.logits"), rtol: rtol, atol: atol, "call3_bs2.logits")
    }

    @Test func generationStepsMatchFastai() throws {
        let fx = try LMFixture()
        let lm = try fx.model()
        lm.isTraining = false
        lm.reset()
        let prompt = try fx.forward.int("x_gen")
        let out = try lm.forward(try tokenIDs(prompt))
        expectClose(out.logits, try fx.forward.float("gen.prompt_logits"), rtol: rtol, atol: atol, "gen.prompt_logits")
        let last = out.logits.row(0).row(prompt.shape[1] - 1)
        let next = last.argmax()
        #expect(next == (try fx.forward.int("gen.next_id")).data[0])
        let step = try lm.nextTokenLogits(for: [next])
        let expected = try fx.forward.float("gen.step_logits")
        expectClose(Tensor(shape: expected.shape, data: step), expected, rtol: rtol, atol: atol, "gen.step_logits")
        for l in 0..<fx.config.layers {
            let s = lm.encoder.hiddenState[l]
            expectClose(s.h, try fx.forward.float("gen.hidden.\(l).h"), rtol: rtol, atol: atol, "gen.hidden.\(l).h")
            expectClose(s.c, try fx.forward.float("gen.hidden.\(l).c"), rtol: rtol, atol: atol, "gen.hidden.\(l).c")
        }
        // Refeeding the whole sequence from a reset state gives the same last logits (eval mode).
        lm.reset()
        let refed = try lm.nextTokenLogits(for: prompt.data + [next])
        #expect(closeness(refed, step, rtol: rtol, atol: atol).ok)
    }

    @Test func resetZerosTheState() throws {
        let fx = try LMFixture()
        let lm = try fx.model()
        lm.isTraining = false
        let x = try tokenIDs(fx.forward.int("x1"))
        _ = try lm.forward(x)
        #expect(lm.encoder.hiddenState[0].h.data.contains { $0 != 0 })
        lm.reset()
        #expect(lm.encoder.hiddenState.allSatisfy { $0.h.data.allSatisfy { $0 == 0 } && $0.c.data.allSatisfy { $0 == 0 } })
        let again = try lm.forward(x)
        expectClose(again.logits, try fx.forward.float("call1.logits"), rtol: rtol, atol: atol, "call1.logits after reset")
    }
}
