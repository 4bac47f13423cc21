import Foundation
import Tensor
#if arch(x86_64)
import AVX512Kernels
#endif

/// A weight packed as `PackedGEMM`'s `B = (W ⊙ mask)ᵀ`, kept between calls while the weight is
/// unchanged (`Parameter.version`): eval passes and generated words re-use it. A masked pack is
/// never kept, as the next call draws a new mask.
final class PackedTransposedWeight {
    private let buffer = FloatBuffer()
    /// The version of the weight that `buffer` holds unmasked; nil before the first pack or after a masked one.
    private var version: UInt64?

    var pointer: UnsafePointer<Float> { UnsafePointer(buffer.pointer) }

    /// Packs `weight` (`[n, k]` row-major) unless the buffer already holds it unmasked.
    func update(from weight: Parameter, mask: UnsafePointer<Float>?, n: Int, k: Int) {
        guard mask != nil || version != weight.version else { return }
        buffer.ensure(PackedGEMM.packedCount(k: k, n: n))
        weight.withValue { w in PackedGEMM.packTransposed(w, mask: mask, n: n, k: k, into: buffer.pointer) }
        version = mask == nil ? weight.version : nil
    }
}

/// The LSTM's per-time-step product `C += A · B` with `B` packed once per call.
///
/// Why not OpenBLAS here: a step's GEMM is small (a few batch rows times `W_hh`), and `sgemm`
/// re-packs all of `B` on every call, so for the lesson and mid-size models most of a step went
/// into packing. `W_hh` does not change during a forward (or backward) pass, so it is packed
/// once into 16-column panels and every step runs a register-blocked kernel over them
/// (4 rows × 16 columns of accumulators with AVX2, 8 × 32 with AVX-512, fused multiply-adds,
/// `B` read contiguously). The decoder's evaluation loss uses the same kernel on the packed `Wᵀ`.
///
/// Layout of a packed `B [k, n]`: panel `p` holds columns `16p ..< 16p+16` as `k` rows of 16
/// floats (`packed[p·k·16 + r·16 + c] = B[r, 16p + c]`), the last panel padded with zeros.
/// Splitting work along the columns at multiples of 16 is a slice of whole panels
/// (`packed + (j0/16)·k·16`).
enum PackedGEMM {
    /// Number of floats a packed `[k, n]` matrix occupies.
    @inline(__always)
    static func packedCount(k: Int, n: Int) -> Int { (n + 15) / 16 * 16 * k }

    /// Packs `B = (W ⊙ mask)ᵀ` where `W` is `[n, k]` row-major (the forward `h · W_hhᵀ`).
    @inline(never)
    static func packTransposed(_ w: UnsafePointer<Float>, mask: UnsafePointer<Float>?, n: Int, k: Int,
                               columns: Range<Int>? = nil, into out: UnsafeMutablePointer<Float>) {
        let panels = panelRange(columns, n: n)
        for p in panels {
            let j0 = p * 16, width = min(16, n - j0)
            let dst = out + p * k * 16
            for c in 0..<16 {
                guard c < width else {
                    for r in 0..<k { dst[r * 16 + c] = 0 }
                    continue
                }
                let src = w + (j0 + c) * k
                if let mask {
                    let m = mask + (j0 + c) * k
                    for r in 0..<k { dst[r * 16 + c] = src[r] * m[r] }
                } else {
                    for r in 0..<k { dst[r * 16 + c] = src[r] }
                }
            }
        }
    }

    /// Packs `B = W ⊙ mask` where `W` is `[k, n]` row-major (the backward `dz · W_hh`).
    @inline(never)
    static func pack(_ w: UnsafePointer<Float>, mask: UnsafePointer<Float>?, k: Int, n: Int,
                     columns: Range<Int>? = nil, into out: UnsafeMutablePointer<Float>) {
        let panels = panelRange(columns, n: n)
        for p in panels {
            let j0 = p * 16, width = min(16, n - j0)
            let dst = out + p * k * 16
            for r in 0..<k {
                let src = w + r * n + j0, d = dst + r * 16
                if width == 16 {
                    if let mask {
                        let m = mask + r * n + j0
                        store8(load8(src) * load8(m), d)
                        store8(load8(src + 8) * load8(m + 8), d + 8)
                    } else {
                        store8(load8(src), d)
                        store8(load8(src + 8), d + 8)
                    }
                } else {
                    for c in 0..<16 { d[c] = c < width ? src[c] * (mask?[r * n + j0 + c] ?? 1) : 0 }
                }
            }
        }
    }

    /// Panels covering `columns` (which start at a multiple of 16), all panels when nil.
    @inline(__always)
    static func panelRange(_ columns: Range<Int>?, n: Int) -> Range<Int> {
        guard let columns else { return 0..<((n + 15) / 16) }
        return (columns.lowerBound / 16)..<((columns.upperBound + 15) / 16)
    }

    /// Floats `packRows` needs for an `m × k` A: 0 where the kernel reads A in place (without AVX-512).
    static func packedRowsCount(m: Int, k: Int, avx512: Bool = GEMM.usesAVX512) -> Int {
        #if arch(x86_64)
        if avx512 { return packedRowsCount512(m: m, k: k) }
        #endif
        return 0
    }

    /// Packs the rows of `A [m, k]` that every `multiplyAdd` call would pack, for products that
    /// share A; returns what to pass as `packedRows` (nil where there is nothing to pack).
    static func packRows(m: Int, k: Int, a: UnsafePointer<Float>, lda: Int, into out: UnsafeMutablePointer<Float>,
                         avx512: Bool = GEMM.usesAVX512) -> UnsafePointer<Float>? {
        #if arch(x86_64)
        if avx512 {
            packRows512(m: m, k: k, a: a, lda: lda, into: out)
            return UnsafePointer(out)
        }
        #endif
        return nil
    }

    /// `C[m, n] += A[m, k] · B` for a packed `B`; `n` columns starting at panel 0 of `packed`
    /// (pass `packed + (j0/16)·k·16`, `c + j0` and the remaining width for a column slice).
    /// `packedRows`: A's rows from `packRows` (same m, k and kernel), or nil to pack them here.
    /// `accumulate: false` computes `C = A · B` (with AVX-512 C is then never read).
    /// `avx512` chooses the kernel (`AVX512Kernels`, twice the vector width; tests run both where
    /// the CPU allows).
    @inline(never)
    static func multiplyAdd(m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int,
                            packed: UnsafePointer<Float>, c: UnsafeMutablePointer<Float>, ldc: Int,
                            packedRows: UnsafePointer<Float>? = nil, accumulate: Bool = true,
                            avx512: Bool = GEMM.usesAVX512) {
        #if arch(x86_64)
        if avx512 {
            packedMultiplyAdd512(m: m, n: n, k: k, a: a, lda: lda, packed: packed, c: c, ldc: ldc,
                                 packedRows: packedRows, accumulate: accumulate)
            return
        }
        #endif
        if !accumulate { for i in 0..<m { (c + i * ldc).update(repeating: 0, count: n) } }
        // k is blocked so a panel's slice (kc × 16 floats) and the rows of A it meets stay in L1.
        let kc = 256
        var scratch = (Float8(), Float8(), Float8(), Float8(), Float8(), Float8(), Float8(), Float8())
        withUnsafeMutableBytes(of: &scratch) { raw in
            let t = raw.baseAddress!.assumingMemoryBound(to: Float.self)  // 4 × 16 for a ragged panel
            var k0 = 0
            while k0 < k {
                let kb = min(kc, k - k0)
                for p in 0..<((n + 15) / 16) {
                    let j0 = p * 16, width = min(16, n - j0)
                    let pb = packed + p * k * 16 + k0 * 16
                    var i = 0
                    while i < m {
                        let rows = min(4, m - i)
                        let ai = a + i * lda + k0, ci = c + i * ldc + j0
                        if width == 16 && rows == 4 {
                            kernel4x16(ai, lda: lda, pb, k: kb, ci, ldc: ldc)
                        } else if width == 16 {
                            for r in 0..<rows { kernel1x16(ai + r * lda, pb, k: kb, ci + r * ldc) }
                        } else {
                            // Ragged last panel: through a 16-wide scratch row.
                            for r in 0..<rows {
                                for col in 0..<16 { t[col] = col < width ? ci[r * ldc + col] : 0 }
                                kernel1x16(ai + r * lda, pb, k: kb, t)
                                for col in 0..<width { ci[r * ldc + col] = t[col] }
                            }
                        }
                        i += rows
                    }
                }
                k0 += kb
            }
        }
    }

    /// Four rows of A against one 16-column panel: 8 accumulators in registers.
    @inline(__always)
    private static func kernel4x16(_ a: UnsafePointer<Float>, lda: Int, _ pb: UnsafePointer<Float>, k: Int,
                                   _ c: UnsafeMutablePointer<Float>, ldc: Int) {
        let a0 = a, a1 = a0 + lda, a2 = a1 + lda, a3 = a2 + lda
        let r0 = c, r1 = r0 + ldc, r2 = r1 + ldc, r3 = r2 + ldc
        var c00 = load8(r0), c01 = load8(r0 + 8), c10 = load8(r1), c11 = load8(r1 + 8)
        var c20 = load8(r2), c21 = load8(r2 + 8), c30 = load8(r3), c31 = load8(r3 + 8)
        var q = pb
        for p in 0..<k {
            let b0 = load8(q), b1 = load8(q + 8)
            let x0 = Float8(repeating: a0[p]), x1 = Float8(repeating: a1[p])
            let x2 = Float8(repeating: a2[p]), x3 = Float8(repeating: a3[p])
            c00 = c00.addingProduct(x0, b0); c01 = c01.addingProduct(x0, b1)
            c10 = c10.addingProduct(x1, b0); c11 = c11.addingProduct(x1, b1)
            c20 = c20.addingProduct(x2, b0); c21 = c21.addingProduct(x2, b1)
            c30 = c30.addingProduct(x3, b0); c31 = c31.addingProduct(x3, b1)
            q += 16
        }
        store8(c00, r0); store8(c01, r0 + 8); store8(c10, r1); store8(c11, r1 + 8)
        store8(c20, r2); store8(c21, r2 + 8); store8(c30, r3); store8(c31, r3 + 8)
    }

    /// One row of A against one panel, two k at a time (two accumulator chains hide FMA latency).
    @inline(__always)
    private static func kernel1x16(_ a: UnsafePointer<Float>, _ pb: UnsafePointer<Float>, k: Int,
                                   _ c: UnsafeMutablePointer<Float>) {
        var c0 = load8(c), c1 = load8(c + 8), d0 = Float8(), d1 = Float8()
        var q = pb, p = 0
        while p + 2 <= k {
            let x = Float8(repeating: a[p]), y = Float8(repeating: a[p + 1])
            c0 = c0.addingProduct(x, load8(q)); c1 = c1.addingProduct(x, load8(q + 8))
            d0 = d0.addingProduct(y, load8(q + 16)); d1 = d1.addingProduct(y, load8(q + 24))
            q += 32
            p += 2
        }
        if p < k {
            let x = Float8(repeating: a[p])
            c0 = c0.addingProduct(x, load8(q)); c1 = c1.addingProduct(x, load8(q + 8))
        }
        store8(c0 + d0, c)
        store8(c1 + d1, c + 8)
    }
}

/// `y[r] += Σ_c W[r, c] · x[c]` for rows `rows` of a row-major `W [·, n]`: the matrix-vector
/// products of generation (one token at a time). They only stream `W` once, so speed is memory
/// bandwidth; OpenBLAS's `sgemv` reached about half of it here, this loop (four rows at a time,
/// eight lanes, split over the workers by the caller) about all of it.
@inline(never)
func rowDotsAdd(_ w: UnsafePointer<Float>, n: Int, rows: Range<Int>, x: UnsafePointer<Float>,
                y: UnsafeMutablePointer<Float>) {
    var r = rows.lowerBound
    while r + 4 <= rows.upperBound {
        let w0 = w + r * n, w1 = w0 + n, w2 = w1 + n, w3 = w2 + n
        var s0 = Float8(), s1 = Float8(), s2 = Float8(), s3 = Float8()
        var c = 0
        while c + 8 <= n {
            let xv = load8(x + c)
            s0 = s0.addingProduct(load8(w0 + c), xv); s1 = s1.addingProduct(load8(w1 + c), xv)
            s2 = s2.addingProduct(load8(w2 + c), xv); s3 = s3.addingProduct(load8(w3 + c), xv)
            c += 8
        }
        var t0 = s0.sum(), t1 = s1.sum(), t2 = s2.sum(), t3 = s3.sum()
        while c < n {
            t0 += w0[c] * x[c]; t1 += w1[c] * x[c]; t2 += w2[c] * x[c]; t3 += w3[c] * x[c]
            c += 1
        }
        y[r] += t0; y[r + 1] += t1; y[r + 2] += t2; y[r + 3] += t3
        r += 4
    }
    while r < rows.upperBound {
        let wr = w + r * n
        var s = Float8()
        var c = 0
        while c + 8 <= n { s = s.addingProduct(load8(wr + c), load8(x + c)); c += 8 }
        var t = s.sum()
        while c < n { t += wr[c] * x[c]; c += 1 }
        y[r] += t
        r += 1
    }
}
