import Foundation
import Testing
import Tensor
@testable import Models
#if arch(x86_64)
import AVX512Kernels
#endif

/// The model's general product (`GEMM.sgemm`) against a double-precision triple loop, on every
/// transpose combination and on shapes that hit each edge of the AVX-512 blocking: partial 14-row
/// strips and 32-column panels, k split into several blocks, n across the column blocks, leading
/// dimensions wider than the matrices, alpha and beta. Both implementations run where the CPU allows.
@Suite struct GEMMTests {
    static let shapes: [(m: Int, n: Int, k: Int)] = [
        (1, 1, 1), (12, 32, 16), (13, 33, 7), (5, 100, 600), (100, 5, 513), (97, 1030, 31), (25, 70, 1100),
    ]
    static let kernels: [Bool] = GEMM.usesAVX512 ? [false, true] : [false]

    @Test(arguments: 0..<shapes.count, kernels)
    func matchesLoopsForEveryTranspose(_ index: Int, avx512: Bool) {
        let (m, n, k) = Self.shapes[index]
        for (transA, transB) in [(false, false), (true, false), (false, true), (true, true)] { for beta: Float in [2, 0] {
            var rng = SeededGenerator(seed: UInt64(index * 4 + (transA ? 2 : 0) + (transB ? 1 : 0) + 1))
            // Leading dimensions three wider than needed, so a kernel that assumes packed rows fails.
            let lda = (transA ? m : k) + 3, ldb = (transB ? k : n) + 3, ldc = n + 3
            let a = (0..<((transA ? k : m) * lda)).map { _ in rng.nextNormal() }
            let b = (0..<((transB ? n : k) * ldb)).map { _ in rng.nextNormal() }
            var c = (0..<(m * ldc)).map { _ in rng.nextNormal() }
            let alpha: Float = 0.5
            var expected = c.map(Double.init)
            for i in 0..<m { for j in 0..<n {
                var s = 0.0
                for p in 0..<k {
                    s += Double(transA ? a[p * lda + i] : a[i * lda + p]) * Double(transB ? b[j * ldb + p] : b[p * ldb + j])
                }
                expected[i * ldc + j] = Double(alpha) * s + Double(beta) * Double(c[i * ldc + j])
            } }
            c.withUnsafeMutableBufferPointer { cp in
                GEMM.sgemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb,
                           beta: beta, c: cp.baseAddress!, ldc: ldc, avx512: avx512)
            }
            let tol = 1e-5 * Double(k).squareRoot() * 4
            var worst = 0.0
            for i in 0..<m { for j in 0..<ldc {
                // Columns past n are padding: `expected` holds their old values, which must stay.
                worst = max(worst, abs(Double(c[i * ldc + j]) - expected[i * ldc + j]))
            } }
            #expect(worst <= tol, "\(m)×\(n)×\(k) transA \(transA) transB \(transB) beta \(beta) avx512 \(avx512): error \(worst)")
        } }
    }

    /// beta 0 must overwrite C even where it holds NaN (as BLAS does), not multiply it: with
    /// whole and edge tiles, k in one block or several (only the first may store), and k = 0.
    @Test(arguments: kernels)
    func betaZeroOverwritesNaN(avx512: Bool) {
        for (m, n, k) in [(14, 40, 9), (15, 40, 600), (3, 5, 0)] {
            let a = [Float](repeating: 1, count: max(m * k, 1)), b = [Float](repeating: 2, count: max(k * n, 1))
            var c = [Float](repeating: .nan, count: m * n)
            c.withUnsafeMutableBufferPointer { cp in
                GEMM.sgemm(m: m, n: n, k: k, a: a, lda: max(k, 1), b: b, ldb: n, c: cp.baseAddress!, ldc: n, avx512: avx512)
            }
            #expect(c.allSatisfy { $0 == Float(2 * k) }, "\(m)×\(n)×\(k)")
        }
    }

    #if arch(x86_64)
    /// The evaluation loss's row statistics with 16 lanes: whole vectors, a partial last one
    /// (whose padding must count in neither the max nor the sum) and a single element.
    @Test(.enabled(if: GEMM.usesAVX512), arguments: [1, 7, 16, 17, 33, 48, 1000])
    func rowMaxAndExpSumMatchDouble(_ n: Int) {
        var rng = SeededGenerator(seed: UInt64(n))
        // The max sits in the last element, so a tail that is not read would miss it.
        var row = (0..<n).map { _ in 8 * rng.nextNormal() - 20 }
        row[n - 1] = 30
        var read = row
        let (m, s) = read.withUnsafeMutableBufferPointer { maxAndShiftedExpSum512($0.baseAddress!, n) }
        let expected = row.reduce(0.0) { $0 + exp(Double($1) - 30) }
        #expect(m == 30)
        #expect(read == row)
        #expect(abs(Double(s) - expected) <= 1e-6 * expected, "n \(n): \(s) vs \(expected)")
        // With a bias (the decoder's): the row becomes row + bias, and the statistics are of that.
        let bias = (0..<n).map { _ in rng.nextNormal() }
        var biased = row
        let (mb, sb) = biased.withUnsafeMutableBufferPointer { maxAndShiftedExpSum512($0.baseAddress!, n, bias: bias) }
        #expect(biased == zip(row, bias).map(+))
        #expect(mb == biased.max()!)
        let expectedBiased = biased.reduce(0.0) { $0 + exp(Double($1) - Double(mb)) }
        #expect(abs(Double(sb) - expectedBiased) <= 1e-6 * expectedBiased, "n \(n) biased")
        // The in-place form (training) writes each exponential and returns the same sum.
        var written = row
        let total = written.withUnsafeMutableBufferPointer { shiftedExpInPlaceSum512($0.baseAddress!, n, shift: 30) }
        #expect(abs(Double(total) - expected) <= 1e-6 * expected)
        for i in 0..<n {
            // Of the argument rounded to float, as the kernel sees it (x − 30 in float32 moves
            // e^(x−30) by up to about |x − 30| · 6e-8 relative).
            let e = exp(Double(row[i] - 30))
            #expect(abs(Double(written[i]) - e) <= 1e-6 * e, "n \(n) at \(i)")
        }
    }

    /// The blocking covers k and n in several blocks on at least one of the shapes above.
    @Test func shapesCrossTheBlocks() {
        #expect(Self.shapes.contains { $0.k > GEMM512.kc })
        #expect(Self.shapes.contains { $0.n > GEMM512.nc })
        #expect(Self.shapes.contains { $0.m > GEMM512.mc && $0.m % GEMM512.mr != 0 })
    }
    #endif
}
