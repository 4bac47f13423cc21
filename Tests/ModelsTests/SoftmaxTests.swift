import Foundation
import Testing
import Tensor
@testable import Models

/// Tensor's softmax family: each fast version against its scalar Double reference, on rows of
/// ragged lengths (the 8- and 16-lane loops and their tails), with Tensor's eight-lane kernels
/// and Models' AVX-512 ones (here because only Models may call AVX512Kernels).
@Suite struct SoftmaxTests {
    /// Rows of lengths around the vector widths, logits spread over ±12 with a repeated maximum
    /// (argmax must give the first one).
    func rows() -> [[Float]] {
        var rng = SeededGenerator(seed: 7)
        return [1, 2, 7, 8, 9, 15, 16, 17, 33, 100, 2_003].map { n in
            var row = (0..<n).map { _ in Float(rng.nextUnit() * 24 - 12) }
            if n > 3 { row[n - 1] = row.max()!; }
            return row
        }
    }

    /// Runs `body` with the eight-lane kernels of Tensor and, where the CPU has them, Models'
    /// AVX-512 ones.
    func eachKernel(_ body: (SoftmaxKernels, String) -> Void) {
        body(.simd8, "8 lanes")
        #if arch(x86_64)
        if GEMM.usesAVX512 { body(.avx512, "AVX-512") }
        #endif
    }

    @Test func fastMatchesReference() {
        eachKernel { kernels, kernel in
            for row in rows() {
                let n = row.count
                let ref = Softmax.Reference.self
                #expect(row.withUnsafeBufferPointer { Softmax.argmax($0.baseAddress!, count: n) } == ref.argmax(row),
                        "\(kernel) argmax n=\(n)")
                // fastExp is within 4e-7 relative of exp, and float32 sums of ≤ 2,003 terms in
                // 8 or 16 lanes add about n/lanes·6e-8: 2e-6 relative on the log-sum-exp.
                let lse = row.withUnsafeBufferPointer { Softmax.logSumExp($0.baseAddress!, count: n, kernels: kernels) }
                #expect(abs(lse - ref.logSumExp(row)) <= 2e-6 * max(1, abs(ref.logSumExp(row))), "\(kernel) lse n=\(n)")
                var p = row
                p.withUnsafeMutableBufferPointer { Softmax.softmax($0.baseAddress!, count: n, into: $0.baseAddress!, kernels: kernels) }
                let pRef = ref.softmax(row)
                for i in 0..<n { #expect(abs(Double(p[i]) - pRef[i]) <= 2e-6 * pRef[i] + 1e-9, "\(kernel) softmax n=\(n) i=\(i)") }
                var logP = [Float](repeating: 0, count: n)
                row.withUnsafeBufferPointer { x in
                    logP.withUnsafeMutableBufferPointer { Softmax.logSoftmax(x.baseAddress!, count: n, into: $0.baseAddress!, kernels: kernels) }
                }
                let logRef = ref.logSoftmax(row)
                for i in 0..<n { #expect(abs(Double(logP[i]) - logRef[i]) <= 1e-5 * max(1, abs(logRef[i])), "\(kernel) log_softmax n=\(n)") }
                for target in Set([0, n / 2, n - 1]) {
                    let ce = row.withUnsafeBufferPointer {
                        Softmax.crossEntropy($0.baseAddress!, count: n, target: target, kernels: kernels)
                    }
                    let ceRef = ref.crossEntropy(row, target: target)
                    #expect(abs(ce - ceRef) <= 2e-6 * max(1, ceRef), "\(kernel) ce n=\(n)")
                    var g = row
                    let loss = g.withUnsafeMutableBufferPointer {
                        Softmax.crossEntropyBackward($0.baseAddress!, count: n, target: target, scale: 0.25, kernels: kernels)
                    }
                    #expect(abs(loss - ceRef) <= 2e-6 * max(1, ceRef), "\(kernel) ce backward's loss n=\(n)")
                    let gRef = ref.crossEntropyBackward(row, target: target, scale: 0.25)
                    for i in 0..<n { #expect(abs(Double(g[i]) - gRef[i]) <= 1e-6, "\(kernel) ce gradient n=\(n) i=\(i)") }
                }
            }
        }
    }

    @Test func biasIsAddedInTheMaxPass() {
        eachKernel { kernels, kernel in
            for row in rows() {
                let n = row.count
                let bias = (0..<n).map { Float(($0 * 7) % 5) - 2 }
                let added = zip(row, bias).map { $0 + $1 }
                var g = row
                let loss = g.withUnsafeMutableBufferPointer { p in
                    bias.withUnsafeBufferPointer {
                        Softmax.crossEntropyBackward(p.baseAddress!, count: n, target: n - 1, scale: 1, bias: $0.baseAddress!,
                                                     kernels: kernels)
                    }
                }
                let ref = Softmax.Reference.crossEntropy(added, target: n - 1)
                #expect(abs(loss - ref) <= 2e-6 * max(1, ref), "\(kernel) n=\(n)")
                // The pass that keeps the row: it holds row + bias afterwards.
                var kept = row
                let (m, s) = kept.withUnsafeMutableBufferPointer { p in
                    bias.withUnsafeBufferPointer { kernels.maxAndExpSum(p.baseAddress!, n, $0.baseAddress!) }
                }
                #expect(kept == added && m == added.max()!, "\(kernel) n=\(n)")
                #expect(abs(Double(m) + log(Double(s)) - Softmax.Reference.logSumExp(added)) <= 2e-6 * 20, "\(kernel) n=\(n)")
            }
        }
    }

    @Test func mergedTilesGiveTheWholeRow() {
        for row in rows() where row.count > 2 {
            let cut = row.count / 3
            func part(_ r: ArraySlice<Float>) -> (max: Float, sum: Float) {
                var a = Array(r)
                return a.withUnsafeMutableBufferPointer { SoftmaxKernels.simd8.maxAndExpSum($0.baseAddress!, $0.count, nil) }
            }
            let (m, s) = Softmax.merge(part(row[..<cut]), part(row[cut...]))
            #expect(abs(Double(m) + log(Double(s)) - Softmax.Reference.logSumExp(row)) <= 1e-5)
        }
    }

    @Test func tensorSoftmaxNormalisesEachRow() {
        let t = Tensor(shape: [2, 3], data: [1, 2, 3, 0, 0, 0])
        let p = Softmax.softmax(t)
        #expect(p.shape == [2, 3])
        // Rounded to 5 digits: [0.09003, 0.24473, 0.66524] and thirds.
        #expect(p.data.map { ($0 * 1e5).rounded() / 1e5 } == [0.09003, 0.24473, 0.66524, 0.33333, 0.33333, 0.33333])
        #expect(Softmax.softmax([Float]()) == [])
    }
}
