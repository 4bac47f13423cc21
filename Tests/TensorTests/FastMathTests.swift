import Foundation
import Testing
import Tensor

/// The branch-free exp/sigmoid/tanh used in the hot loops against libm.
@Suite struct FastMathTests {
    @Test func fastExpSigmoidTanhMatchLibm() {
        var xs: [Float] = stride(from: -90, through: 90, by: 0.37).map { Float($0) }
        xs += [0, -0.0, 1e-6, -1e-6, 0.5, -0.5, 20, -20]
        for x in xs {
            let e = Foundation.exp(x)
            if x > -87 && x < 88 {
                // Cephes expf: a few ulp; 4e-7 relative.
                #expect(abs(fastExp(x) - e) <= 4e-7 * e, "exp(\(x))")
            }
            // Sigmoid and tanh in absolute terms (values in [0, 1] / [−1, 1]): 2e-7.
            #expect(abs(fastSigmoid(x) - 1 / (1 + Foundation.exp(-x))) <= 2e-7, "sigmoid(\(x))")
            #expect(abs(fastTanh(x) - Foundation.tanh(x)) <= 2e-7, "tanh(\(x))")
        }
        // The eight-lane versions compute the same values as the scalar ones.
        for k in stride(from: 0, to: xs.count - 8, by: 8) {
            let v = SIMD8<Float>(xs[k..<(k + 8)])
            let (e, s, t) = (fastExp(v), fastSigmoid(v), fastTanh(v))
            for l in 0..<8 {
                #expect(e[l] == fastExp(xs[k + l]) && s[l] == fastSigmoid(xs[k + l]) && t[l] == fastTanh(xs[k + l]))
            }
        }
        #expect(fastExp(-1000) >= 0 && fastExp(-1000) < 1e-37)
        #expect(fastExp(1000).isFinite)
    }

    @Test func maxAndSumOverRaggedLengths() {
        for n in [1, 7, 8, 9, 31] {
            let xs = (0..<n).map { Float(($0 * 37) % 11) - 5 }
            xs.withUnsafeBufferPointer { p in
                #expect(maxElement(p.baseAddress!, n) == xs.max()!)
                // Small integers: exact in float32.
                #expect(sumElements(p.baseAddress!, n) == xs.reduce(0, +))
            }
        }
    }

    @Test func fusedBiasMaxAndExpSumMatchTheSeparatePasses() {
        for n in [1, 7, 8, 9, 31] {
            let xs = (0..<n).map { Float(($0 * 37) % 11) - 5 }
            let bias = (0..<n).map { Float(($0 * 5) % 7) - 3 }
            var row = xs
            let m = row.withUnsafeMutableBufferPointer { p in
                bias.withUnsafeBufferPointer { addBiasAndMax(p.baseAddress!, $0.baseAddress!, n) }
            }
            // Small integers: the sums are exact in float32.
            let added = zip(xs, bias).map { $0 + $1 }
            #expect(row == added)
            #expect(m == added.max()!)
            var separate = added
            let sumOnly = row.withUnsafeBufferPointer { shiftedExpSum($0.baseAddress!, n, shift: m) }
            #expect(row == added, "shiftedExpSum leaves the row alone")
            let s = row.withUnsafeMutableBufferPointer { expShiftedSum($0.baseAddress!, n, shift: m) }
            #expect(s == sumOnly)
            separate.withUnsafeMutableBufferPointer { expShifted($0.baseAddress!, n, shift: m) }
            // Same per-element exp and the same lane order of the sum: bit-identical.
            #expect(row == separate)
            #expect(s == separate.withUnsafeBufferPointer { sumElements($0.baseAddress!, n) })
        }
    }
}
