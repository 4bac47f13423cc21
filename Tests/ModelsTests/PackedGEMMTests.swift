import Foundation
import Testing
import Tensor
@testable import Models

/// The per-step LSTM product against a plain triple loop, on shapes that hit every path of the
/// kernels: whole and ragged 16-column panels, pairs of panels and an odd one, packed 12-row
/// strips, 8-row tiles and leftover rows, k across the 256 blocking.
@Suite struct PackedGEMMTests {
    static let shapes: [(m: Int, n: Int, k: Int)] = [
        (1, 16, 1), (3, 100, 37), (4, 512, 128), (8, 800, 200), (5, 33, 300), (17, 64, 513), (2, 4608 / 8, 64),
        (9, 48, 20), (12, 100, 37), (24, 48, 300), (20, 80, 40), (64, 96, 17),
    ]

    /// `C + A · Wᵀ` in double precision, W `[n, k]` row-major.
    static func reference(_ a: [Float], _ w: [Float], _ c: [Float], m: Int, n: Int, k: Int) -> [Double] {
        var out = c.map(Double.init)
        for i in 0..<m { for j in 0..<n {
            var s = 0.0
            for p in 0..<k { s += Double(a[i * k + p]) * Double(w[j * k + p]) }
            out[i * n + j] += s
        } }
        return out
    }

    /// The kernels this CPU can run: the AVX2 one always, the AVX-512 one where the CPU has it.
    static let kernels: [Bool] = GEMM.usesAVX512 ? [false, true] : [false]

    @Test(arguments: 0..<shapes.count, kernels)
    func transposedPackingMatchesLoops(_ index: Int, avx512: Bool) {
        let (m, n, k) = Self.shapes[index]
        var rng = SeededGenerator(seed: UInt64(index + 1))
        let a = (0..<(m * k)).map { _ in rng.nextNormal() }
        let w = (0..<(n * k)).map { _ in rng.nextNormal() }
        let mask = (0..<(n * k)).map { _ in rng.nextUnit() < 0.5 ? Float(2) : 0 }
        let c0 = (0..<(m * n)).map { _ in rng.nextNormal() }
        let expected = Self.reference(a, zip(w, mask).map(*), c0, m: m, n: n, k: k)
        var packed = [Float](repeating: .nan, count: PackedGEMM.packedCount(k: k, n: n))
        packed.withUnsafeMutableBufferPointer { pk in
            PackedGEMM.packTransposed(w, mask: mask, n: n, k: k, into: pk.baseAddress!)
        }
        let product = Self.reference(a, zip(w, mask).map(*), [Float](repeating: 0, count: m * n), m: m, n: n, k: k)
        // A packed by each call, and packed once beforehand (as the decoder's blocks share it);
        // C += A·B, and C = A·B over a C of NaNs (which must not leak into the result).
        for prepacked in [false, true] { for accumulate in [true, false] {
            var c = accumulate ? c0 : [Float](repeating: .nan, count: m * n)
            let expected = accumulate ? expected : product
            var rows = [Float](repeating: .nan, count: max(1, PackedGEMM.packedRowsCount(m: m, k: k, avx512: avx512)))
            rows.withUnsafeMutableBufferPointer { rp in
                let packedRows = prepacked
                    ? PackedGEMM.packRows(m: m, k: k, a: a, lda: k, into: rp.baseAddress!, avx512: avx512) : nil
                #expect(prepacked && avx512 ? packedRows != nil : packedRows == nil)
                c.withUnsafeMutableBufferPointer { cp in
                    PackedGEMM.multiplyAdd(m: m, n: n, k: k, a: a, lda: k, packed: packed, c: cp.baseAddress!, ldc: n,
                                           packedRows: packedRows, accumulate: accumulate, avx512: avx512)
                }
            }
            // float32 sums of k products of unit normals: error grows like √k · 1e-7 · |terms|.
            let tol = 1e-5 * Double(k).squareRoot() * 4
            for i in 0..<(m * n) {
                #expect(abs(Double(c[i]) - expected[i]) <= tol,
                        "shape \(m)×\(n)×\(k) at \(i), avx512 \(avx512), prepacked \(prepacked), accumulate \(accumulate)")
            }
        } }
    }

    /// With k = 0 the product is zero: C is cleared when not accumulating, kept when accumulating.
    @Test(arguments: kernels)
    func emptyInnerDimension(avx512: Bool) {
        let m = 5, n = 20
        let none = [Float](repeating: 0, count: 16)
        for accumulate in [true, false] {
            var c = [Float](repeating: 3, count: m * n)
            c.withUnsafeMutableBufferPointer { cp in
                PackedGEMM.multiplyAdd(m: m, n: n, k: 0, a: none, lda: 1, packed: none, c: cp.baseAddress!, ldc: n,
                                       accumulate: accumulate, avx512: avx512)
            }
            #expect(c.allSatisfy { $0 == (accumulate ? 3 : 0) }, "accumulate \(accumulate)")
        }
    }

    /// A row left over by the 8-row tiles gives the same bits in a 4-row group as alone (the
    /// 4-row kernel sums each row in the 1-row kernel's order), so how the rows are cut into
    /// tiles cannot change them. (The AVX2 kernels make no such promise.)
    @Test(.enabled(if: GEMM.usesAVX512, "needs AVX-512"))
    func leftoverRowsSumAsOneRowDoes() {
        let avx512 = true
        let m = 7, n = 40, k = 203  // 4 + 3 rows; two panels, a ragged one; k with a remainder of 3
        var rng = SeededGenerator(seed: 12)
        let a = (0..<(m * k)).map { _ in rng.nextNormal() }
        let w = (0..<(n * k)).map { _ in rng.nextNormal() }
        var packed = [Float](repeating: .nan, count: PackedGEMM.packedCount(k: k, n: n))
        packed.withUnsafeMutableBufferPointer { PackedGEMM.packTransposed(w, mask: nil, n: n, k: k, into: $0.baseAddress!) }
        let c0 = (0..<(m * n)).map { _ in rng.nextNormal() }
        var together = c0
        together.withUnsafeMutableBufferPointer { cp in
            PackedGEMM.multiplyAdd(m: m, n: n, k: k, a: a, lda: k, packed: packed, c: cp.baseAddress!, ldc: n, avx512: avx512)
        }
        for i in 0..<m {
            var alone = Array(c0[(i * n)..<((i + 1) * n)])
            a.withUnsafeBufferPointer { ap in
                alone.withUnsafeMutableBufferPointer { cp in
                    PackedGEMM.multiplyAdd(m: 1, n: n, k: k, a: ap.baseAddress! + i * k, lda: k, packed: packed,
                                           c: cp.baseAddress!, ldc: n, avx512: avx512)
                }
            }
            #expect(alone.map(\.bitPattern) == together[(i * n)..<((i + 1) * n)].map(\.bitPattern), "row \(i)")
        }
    }

    /// The backward packing (`B = W`, `[k, n]`) and a product over a column slice of whole panels,
    /// as the gate split uses it.
    @Test(arguments: kernels)
    func directPackingAndColumnSlices(avx512: Bool) {
        let m = 6, k = 48, n = 72
        var rng = SeededGenerator(seed: 9)
        let a = (0..<(m * k)).map { _ in rng.nextNormal() }
        let b = (0..<(k * n)).map { _ in rng.nextNormal() }  // [k, n]
        let bt = (0..<(n * k)).map { i in b[(i % k) * n + i / k] }  // its transpose [n, k]
        let expected = Self.reference(a, bt, [Float](repeating: 0, count: m * n), m: m, n: n, k: k)
        var packed = [Float](repeating: .nan, count: PackedGEMM.packedCount(k: k, n: n))
        packed.withUnsafeMutableBufferPointer { PackedGEMM.pack(b, mask: nil, k: k, n: n, into: $0.baseAddress!) }
        var c = [Float](repeating: 0, count: m * n)
        c.withUnsafeMutableBufferPointer { cp in
            packed.withUnsafeBufferPointer { pk in
                for cols in [0..<32, 32..<n] {  // slices start on panel boundaries
                    PackedGEMM.multiplyAdd(m: m, n: cols.count, k: k, a: a, lda: k,
                                           packed: pk.baseAddress! + cols.lowerBound * k,
                                           c: cp.baseAddress! + cols.lowerBound, ldc: n, avx512: avx512)
                }
            }
        }
        for i in 0..<(m * n) { #expect(abs(Double(c[i]) - expected[i]) <= 1e-4, "at \(i)") }
    }

    /// The matrix-vector rows of generation, over a row slice with leftover rows and columns.
    @Test func rowDotsMatchLoops() {
        let rows = 23, n = 45
        var rng = SeededGenerator(seed: 4)
        let w = (0..<(rows * n)).map { _ in rng.nextNormal() }
        let x = (0..<n).map { _ in rng.nextNormal() }
        var y = [Float](repeating: 1, count: rows)
        y.withUnsafeMutableBufferPointer { rowDotsAdd(w, n: n, rows: 2..<21, x: x, y: $0.baseAddress!) }
        for r in 0..<rows {
            let dot = (0..<n).reduce(0.0) { $0 + Double(w[r * n + $1]) * Double(x[$1]) }
            let expected = (2..<21).contains(r) ? 1 + dot : 1
            #expect(abs(Double(y[r]) - expected) <= 1e-4, "row \(r)")
        }
    }

    /// Eval calls reuse the packed weight until the parameter changes; a changed weight must
    /// change the output (the cache is keyed on `Parameter.version`).
    @Test func evalCacheFollowsWeightChanges() throws {
        let lm = try AWDLSTMLanguageModel(config: AWDLSTMConfig(embSize: 8, hiddenSize: 16, layers: 2), vocabSize: 20, seed: 3)
        lm.isTraining = false
        lm.reset()
        let before = try lm.nextTokenLogits(for: [2, 5, 7])
        lm.reset()
        #expect(try lm.nextTokenLogits(for: [2, 5, 7]) == before)
        let p = lm.encoder.layers[0].weightHHRaw
        let v = p.version
        p.value.data[0] += 0.5
        #expect(p.version != v)
        lm.reset()
        #expect(try lm.nextTokenLogits(for: [2, 5, 7]) != before)

        // weight_ih, packed for the input projections of a sequence long enough for the GEMM path.
        let prompt = [2, 5, 7, 1, 9, 4, 3, 8, 6, 2, 5, 7]
        lm.reset()
        let long = try lm.nextTokenLogits(for: prompt)
        lm.reset()
        #expect(try lm.nextTokenLogits(for: prompt) == long)
        lm.encoder.layers[1].weightIH.value.data[3] -= 0.5
        lm.reset()
        #expect(try lm.nextTokenLogits(for: prompt) != long)
    }
}
