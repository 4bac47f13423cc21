import Foundation
import Testing
import Tensor
import TestSupport
@testable import Learn

@Suite struct RNNRegularizerTests {
    /// lm.json:artar terms from the tiny LM's last-layer output on x1 from a reset state
    /// (dropout 0, so dropped == raw; lm_forward call1 is that same forward).
    @Test func termsMatchFixture() throws {
        let meta = try Fixtures.json("model/lm.json") as! [String: Any]
        let artar = meta["artar"] as! [String: Double]
        let st = try TestSafeTensors("model/lm_forward.safetensors")
        let raw = try st.tensor("call1.last_raw_output"), dropped = try st.tensor("call1.last_output")
        let reg = RNNRegularizer(alpha: Float(artar["alpha"]!), beta: Float(artar["beta"]!))
        let r = try reg.terms(raw: raw, dropped: dropped)
        // rel 1e-6: float32 means over 168 / 144 squares (the stored outputs reproduce the terms to ~1e-8).
        #expect(abs(Double(r.ar) - artar["ar_term"]!) / artar["ar_term"]! < 1e-6, "AR \(r.ar)")
        #expect(abs(Double(r.tar) - artar["tar_term"]!) / artar["tar_term"]! < 1e-6, "TAR \(r.tar)")
    }

    /// Gradients against central finite differences (double-checked maths, micrograd style).
    @Test func gradientsMatchFiniteDifferences() throws {
        var rng = SeededGenerator(seed: 5)
        let raw = Tensor.normal([3, 4, 2], using: &rng), dropped = Tensor.normal([3, 4, 2], using: &rng)
        let reg = RNNRegularizer(alpha: 2, beta: 1)
        let r = try reg.terms(raw: raw, dropped: dropped)
        let h: Float = 1e-2
        for i in 0..<raw.count {
            var p = raw, m = raw
            p.data[i] += h; m.data[i] -= h
            let fd = (try reg.terms(raw: p, dropped: dropped).tar - reg.terms(raw: m, dropped: dropped).tar) / (2 * h)
            #expect(abs(fd - r.gradRaw.data[i]) < 1e-3)   // quadratic: central difference exact up to float32 rounding
            var pd = dropped, md = dropped
            pd.data[i] += h; md.data[i] -= h
            let fdd = (try reg.terms(raw: raw, dropped: pd).ar - reg.terms(raw: raw, dropped: md).ar) / (2 * h)
            #expect(abs(fdd - r.gradDropped.data[i]) < 1e-3)
        }
    }

    @Test func tarSkippedForOneRow() throws {
        var rng = SeededGenerator(seed: 6)
        let x = Tensor.normal([1, 5, 3], using: &rng)
        let r = try RNNRegularizer().terms(raw: x, dropped: x)
        #expect(r.tar == 0 && r.ar > 0 && r.gradRaw.data.allSatisfy { $0 == 0 })
        #expect(throws: LearnError.self) { try RNNRegularizer().terms(raw: Tensor(shape: [2, 3]), dropped: Tensor(shape: [2, 3])) }
    }
}
