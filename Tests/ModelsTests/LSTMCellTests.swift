import Foundation
import Testing
@testable import Models
import Tensor

/// The LSTM cell's gate maths, eight lanes and (where the CPU has AVX-512) sixteen, against the
/// formulas in double precision, on widths with and without a ragged end.
@Suite struct LSTMCellTests {
    static var paths: [Bool] { GEMM.usesAVX512 ? [false, true] : [false] }

    @Test(arguments: [1, 8, 13, 16, 40, 64])
    func forwardAndBackwardMatchDouble(_ H: Int) {
        let bs = 3
        var rng = SeededGenerator(seed: UInt64(H))
        let z = (0..<(bs * 4 * H)).map { _ in 3 * rng.nextNormal() }
        let bias = (0..<(4 * H)).map { _ in rng.nextNormal() }
        let cPrev = (0..<(bs * H)).map { _ in 2 * rng.nextNormal() }
        let dh = (0..<(bs * H)).map { _ in rng.nextNormal() }
        let dcNext = (0..<(bs * H)).map { _ in rng.nextNormal() }
        func sig(_ x: Float) -> Double { 1 / (1 + Foundation.exp(-Double(x))) }
        for avx512 in Self.paths {
            var gates = z, c = [Float](repeating: 0, count: bs * H), h = c
            gates.withUnsafeMutableBufferPointer { g in c.withUnsafeMutableBufferPointer { cp in
                h.withUnsafeMutableBufferPointer { hp in
                    lstmCellForward(g.baseAddress!, bias: bias, cPrev: cPrev, c: cp.baseAddress!, h: hp.baseAddress!,
                                    bs: bs, H: H, avx512: avx512)
                } } }
            var dz = gates, dc = dcNext
            dz.withUnsafeMutableBufferPointer { g in dc.withUnsafeMutableBufferPointer { d in
                lstmCellBackward(g.baseAddress!, dh: dh, dc: d.baseAddress!, cPrev: cPrev, c: c, bs: bs, H: H,
                                 avx512: avx512)
            } }
            var worst = 0.0
            for b in 0..<bs {
                for j in 0..<H {
                    let at = b * 4 * H + j, s = b * H + j
                    func pre(_ gate: Int) -> Float { z[at + gate * H] + bias[j + gate * H] }
                    let i = sig(pre(0)), f = sig(pre(1)), g = tanh(Double(pre(2))), o = sig(pre(3))
                    let ct = f * Double(cPrev[s]) + i * g, tc = tanh(ct), ht = o * tc
                    let dct = Double(dcNext[s]) + Double(dh[s]) * o * (1 - tc * tc)
                    let expected: [(Float, Double)] = [
                        (gates[at], i), (gates[at + H], f), (gates[at + 2 * H], g), (gates[at + 3 * H], o),
                        (c[s], ct), (h[s], ht),
                        (dz[at], dct * g * i * (1 - i)), (dz[at + H], dct * Double(cPrev[s]) * f * (1 - f)),
                        (dz[at + 2 * H], dct * i * (1 - g * g)), (dz[at + 3 * H], Double(dh[s]) * tc * o * (1 - o)),
                        (dc[s], dct * f),
                    ]
                    for (got, want) in expected { worst = max(worst, abs(Double(got) - want) / max(1, abs(want))) }
                }
            }
            #expect(worst <= 2e-6, "H \(H), avx512 \(avx512): \(worst)")
        }
    }
}
