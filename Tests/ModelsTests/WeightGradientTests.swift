import Testing
import Tensor
@testable import Models

/// Weight gradients `g += (aᵀ · b) ⊙ mask` against a double-precision loop, split along k
/// (partial sums) and, with the partial-sum limit at zero, along the output rows.
@Suite struct WeightGradientTests {
    @Test(arguments: [false, true], [false, true])
    func matchesLoops(splitAlongK: Bool, masked: Bool) {
        let m = 37, n = 20, k = 53, lda = 41  // a is [k, m] inside rows of 41
        var rng = SeededGenerator(seed: 5)
        let a = (0..<(k * lda)).map { _ in rng.nextNormal() }
        let b = (0..<(k * n)).map { _ in rng.nextNormal() }
        let mask = (0..<(m * n)).map { _ in rng.nextUnit() < 0.5 ? Float(2) : 0 }
        let g0 = (0..<(m * n)).map { _ in rng.nextNormal() }
        // One worker (a single part) and two.
        for width in [1, 2] {
            var g = g0
            let scratch = FloatBuffer()
            WorkSplit.run { _ in
                g.withUnsafeMutableBufferPointer { gp in
                    WeightGradient.accumulate(m: m, n: n, k: k, a: a, lda: lda, b: b, mask: masked ? mask : nil,
                                              into: gp.baseAddress!, scratch: scratch, width: width,
                                              limit: splitAlongK ? WeightGradient.partialsLimit : 0)
                }
            }
            for i in 0..<m {
                for j in 0..<n {
                    var s = 0.0
                    for p in 0..<k { s += Double(a[p * lda + i]) * Double(b[p * n + j]) }
                    let expected = Double(g0[i * n + j]) + s * Double(masked ? mask[i * n + j] : 1)
                    #expect(abs(Double(g[i * n + j]) - expected) <= 1e-4,
                            "(\(i), \(j)) width \(width) splitAlongK \(splitAlongK) masked \(masked)")
                }
            }
        }
    }
}
