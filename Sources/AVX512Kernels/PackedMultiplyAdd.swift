// The packed product of `Models.PackedGEMM` with 512-bit vectors.
//
// This module alone is compiled for AVX-512 (Package.swift), so nothing here may run on a CPU
// without it: `Models` calls in only after checking the CPU's flags. The packed layout is
// PackedGEMM's (16-column panels, `k` rows of 16 floats each), and one panel row is exactly one
// 512-bit register, so a kernel keeps 12 rows × 2 panels of C in 24 of the 32 vector registers
// (8-, 4- and 1-row kernels take the rows left over).
#if arch(x86_64)

/// k is blocked so two panels' slices (2 × 256 × 16 floats, 32 KB) stay in L1 across row tiles.
private let kc = 256

/// How many 12-row strips an `m`-row A is cut into (24 accumulators: the fewest loads per
/// multiply-add), packed so a strip's 12 values of each k are adjacent; the rest go to 8-row
/// tiles read in place, chosen so that as few rows as possible are left to the one-row kernel
/// (64 rows: 4 strips + 2 tiles).
@inline(__always)
private func stripCount(_ m: Int) -> Int {
    var strips = m / 12
    while strips > 0 && (m - 12 * strips) % 8 != 0 { strips -= 1 }
    if (m - 12 * strips) % 8 != 0 { strips = m / 12 }
    return strips
}

/// Floats `packRows512` writes for an `m × k` A.
public func packedRowsCount512(m: Int, k: Int) -> Int { 12 * stripCount(m) * k }

/// Packs the strips of `A [m, k]` that `packedMultiplyAdd512` would pack on every call, for
/// products that share A (the decoder's vocabulary tiles): k block by k block, each block's
/// strips one after another (`packedRowsCount512(m:k:)` floats).
public func packRows512(m: Int, k: Int, a: UnsafePointer<Float>, lda: Int, into out: UnsafeMutablePointer<Float>) {
    let strips = stripCount(m)
    var k0 = 0
    while k0 < k {
        let kb = min(kc, k - k0)
        packStrips(strips, a: a, lda: lda, k0: k0, kb: kb, into: out + 12 * strips * k0)
        k0 += kb
    }
}

/// Strips `0..<strips` of A, columns `k0 ..< k0+kb`: `dst[s·12·kb + p·12 + r] = A[12s + r, k0 + p]`.
@inline(__always)
private func packStrips(_ strips: Int, a: UnsafePointer<Float>, lda: Int, k0: Int, kb: Int,
                        into out: UnsafeMutablePointer<Float>) {
    for s in 0..<strips {
        let dst = out + s * 12 * kb
        for r in 0..<12 {
            let src = a + (12 * s + r) * lda + k0
            for p in 0..<kb { dst[p * 12 + r] = src[p] }
        }
    }
}

/// `C[m, n] += A[m, k] · B` for `B` packed as `PackedGEMM` packs it (`C = A · B` when not
/// `accumulate`: C is then only written); the same contract as `PackedGEMM.multiplyAdd` (a column
/// slice starts at a panel boundary of `packed`). `packedRows`, when given, holds A's strips from
/// `packRows512` (same `m` and `k`), which are then not packed again.
public func packedMultiplyAdd512(m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int,
                                 packed: UnsafePointer<Float>, c: UnsafeMutablePointer<Float>, ldc: Int,
                                 packedRows: UnsafePointer<Float>? = nil, accumulate: Bool = true) {
    if k == 0 {
        if !accumulate { for i in 0..<m { (c + i * ldc).update(repeating: 0, count: n) } }
        return
    }
    let fullPanels = n / 16, ragged = n % 16
    let strips = stripCount(m), stripRows = 12 * strips
    let scratch = packedRows == nil ? stripRows * min(k, kc) : 0
    withUnsafeTemporaryAllocation(of: Float.self, capacity: scratch + 16) { buffer in
        let t = buffer.baseAddress! + scratch  // one 16-wide row for a ragged panel
        var k0 = 0
        while k0 < k {
            let kb = min(kc, k - k0)
            let add = accumulate || k0 > 0  // later k blocks add to the first one's sums
            let packedA: UnsafePointer<Float>
            if let packedRows {
                packedA = packedRows + stripRows * k0
            } else {
                packStrips(strips, a: a, lda: lda, k0: k0, kb: kb, into: buffer.baseAddress!)
                packedA = UnsafePointer(buffer.baseAddress!)
            }
            func panel(_ p: Int) -> UnsafePointer<Float> { packed + p * k * 16 + k0 * 16 }
            var p = 0
            while p < fullPanels {
                let pair = p + 1 < fullPanels
                let b0 = panel(p), b1 = pair ? panel(p + 1) : b0
                for s in 0..<strips {
                    let strip = packedA + s * 12 * kb, ci = c + 12 * s * ldc + p * 16
                    if pair { kernel12x32(strip, b0, b1, k: kb, ci, ldc: ldc, add: add) } else {
                        kernel12x16(strip, b0, k: kb, ci, ldc: ldc, add: add)
                    }
                }
                var i = stripRows
                while i + 8 <= m {
                    let ai = a + i * lda + k0, ci = c + i * ldc + p * 16
                    if pair { kernel8x32(ai, lda: lda, b0, b1, k: kb, ci, ldc: ldc, add: add) } else {
                        kernel8x16(ai, lda: lda, b0, k: kb, ci, ldc: ldc, add: add)
                    }
                    i += 8
                }
                while i + 4 <= m {
                    let ai = a + i * lda + k0, ci = c + i * ldc + p * 16
                    kernel4x16(ai, lda: lda, b0, k: kb, ci, ldc: ldc, add: add)
                    if pair { kernel4x16(ai, lda: lda, b1, k: kb, ci + 16, ldc: ldc, add: add) }
                    i += 4
                }
                while i < m {
                    let ai = a + i * lda + k0, ci = c + i * ldc + p * 16
                    kernel1x16(ai, b0, k: kb, ci, add: add)
                    if pair { kernel1x16(ai, b1, k: kb, ci + 16, add: add) }
                    i += 1
                }
                p += pair ? 2 : 1
            }
            if ragged > 0 {
                let b = panel(fullPanels)
                for i in 0..<m {
                    let ci = c + i * ldc + fullPanels * 16
                    for col in 0..<16 { t[col] = add && col < ragged ? ci[col] : 0 }
                    kernel1x16(a + i * lda + k0, b, k: kb, t, add: true)
                    for col in 0..<ragged { ci[col] = t[col] }
                }
            }
            k0 += kb
        }
    }
}

/// A packed 12-row strip (`a[p·12 + r]`) against two panels: 24 accumulators.
@inline(__always)
private func kernel12x32(_ a: UnsafePointer<Float>, _ b0: UnsafePointer<Float>, _ b1: UnsafePointer<Float>,
                         k: Int, _ c: UnsafeMutablePointer<Float>, ldc: Int, add: Bool) {
    @inline(__always) func row(_ r: Int) -> UnsafeMutablePointer<Float> { c + r * ldc }
    @inline(__always) func initial(_ p: UnsafePointer<Float>) -> SIMD16<Float> { add ? load16(p) : SIMD16() }
    var c00 = initial(row(0)), c01 = initial(row(0) + 16), c10 = initial(row(1)), c11 = initial(row(1) + 16)
    var c20 = initial(row(2)), c21 = initial(row(2) + 16), c30 = initial(row(3)), c31 = initial(row(3) + 16)
    var c40 = initial(row(4)), c41 = initial(row(4) + 16), c50 = initial(row(5)), c51 = initial(row(5) + 16)
    var c60 = initial(row(6)), c61 = initial(row(6) + 16), c70 = initial(row(7)), c71 = initial(row(7) + 16)
    var c80 = initial(row(8)), c81 = initial(row(8) + 16), c90 = initial(row(9)), c91 = initial(row(9) + 16)
    var ca0 = initial(row(10)), ca1 = initial(row(10) + 16), cb0 = initial(row(11)), cb1 = initial(row(11) + 16)
    var pa = a
    for p in 0..<k {
        let u = load16(b0 + p * 16), v = load16(b1 + p * 16)
        var x = SIMD16<Float>(repeating: pa[0])
        c00 = c00.addingProduct(x, u); c01 = c01.addingProduct(x, v)
        x = SIMD16<Float>(repeating: pa[1])
        c10 = c10.addingProduct(x, u); c11 = c11.addingProduct(x, v)
        x = SIMD16<Float>(repeating: pa[2])
        c20 = c20.addingProduct(x, u); c21 = c21.addingProduct(x, v)
        x = SIMD16<Float>(repeating: pa[3])
        c30 = c30.addingProduct(x, u); c31 = c31.addingProduct(x, v)
        x = SIMD16<Float>(repeating: pa[4])
        c40 = c40.addingProduct(x, u); c41 = c41.addingProduct(x, v)
        x = SIMD16<Float>(repeating: pa[5])
        c50 = c50.addingProduct(x, u); c51 = c51.addingProduct(x, v)
        x = SIMD16<Float>(repeating: pa[6])
        c60 = c60.addingProduct(x, u); c61 = c61.addingProduct(x, v)
        x = SIMD16<Float>(repeating: pa[7])
        c70 = c70.addingProduct(x, u); c71 = c71.addingProduct(x, v)
        x = SIMD16<Float>(repeating: pa[8])
        c80 = c80.addingProduct(x, u); c81 = c81.addingProduct(x, v)
        x = SIMD16<Float>(repeating: pa[9])
        c90 = c90.addingProduct(x, u); c91 = c91.addingProduct(x, v)
        x = SIMD16<Float>(repeating: pa[10])
        ca0 = ca0.addingProduct(x, u); ca1 = ca1.addingProduct(x, v)
        x = SIMD16<Float>(repeating: pa[11])
        cb0 = cb0.addingProduct(x, u); cb1 = cb1.addingProduct(x, v)
        pa += 12
    }
    store16(c00, row(0)); store16(c01, row(0) + 16); store16(c10, row(1)); store16(c11, row(1) + 16)
    store16(c20, row(2)); store16(c21, row(2) + 16); store16(c30, row(3)); store16(c31, row(3) + 16)
    store16(c40, row(4)); store16(c41, row(4) + 16); store16(c50, row(5)); store16(c51, row(5) + 16)
    store16(c60, row(6)); store16(c61, row(6) + 16); store16(c70, row(7)); store16(c71, row(7) + 16)
    store16(c80, row(8)); store16(c81, row(8) + 16); store16(c90, row(9)); store16(c91, row(9) + 16)
    store16(ca0, row(10)); store16(ca1, row(10) + 16); store16(cb0, row(11)); store16(cb1, row(11) + 16)
}

/// A packed 12-row strip against one panel (the odd panel out): 12 accumulators.
@inline(__always)
private func kernel12x16(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, k: Int,
                         _ c: UnsafeMutablePointer<Float>, ldc: Int, add: Bool) {
    @inline(__always) func initial(_ p: UnsafePointer<Float>) -> SIMD16<Float> { add ? load16(p) : SIMD16() }
    var acc = (initial(c), initial(c + ldc), initial(c + 2 * ldc), initial(c + 3 * ldc),
               initial(c + 4 * ldc), initial(c + 5 * ldc), initial(c + 6 * ldc), initial(c + 7 * ldc),
               initial(c + 8 * ldc), initial(c + 9 * ldc), initial(c + 10 * ldc), initial(c + 11 * ldc))
    var pa = a
    for p in 0..<k {
        let u = load16(b + p * 16)
        acc.0 = acc.0.addingProduct(SIMD16(repeating: pa[0]), u); acc.1 = acc.1.addingProduct(SIMD16(repeating: pa[1]), u)
        acc.2 = acc.2.addingProduct(SIMD16(repeating: pa[2]), u); acc.3 = acc.3.addingProduct(SIMD16(repeating: pa[3]), u)
        acc.4 = acc.4.addingProduct(SIMD16(repeating: pa[4]), u); acc.5 = acc.5.addingProduct(SIMD16(repeating: pa[5]), u)
        acc.6 = acc.6.addingProduct(SIMD16(repeating: pa[6]), u); acc.7 = acc.7.addingProduct(SIMD16(repeating: pa[7]), u)
        acc.8 = acc.8.addingProduct(SIMD16(repeating: pa[8]), u); acc.9 = acc.9.addingProduct(SIMD16(repeating: pa[9]), u)
        acc.10 = acc.10.addingProduct(SIMD16(repeating: pa[10]), u); acc.11 = acc.11.addingProduct(SIMD16(repeating: pa[11]), u)
        pa += 12
    }
    store16(acc.0, c); store16(acc.1, c + ldc); store16(acc.2, c + 2 * ldc); store16(acc.3, c + 3 * ldc)
    store16(acc.4, c + 4 * ldc); store16(acc.5, c + 5 * ldc); store16(acc.6, c + 6 * ldc); store16(acc.7, c + 7 * ldc)
    store16(acc.8, c + 8 * ldc); store16(acc.9, c + 9 * ldc); store16(acc.10, c + 10 * ldc); store16(acc.11, c + 11 * ldc)
}

/// Eight rows of A against two panels: 16 accumulators.
@inline(__always)
private func kernel8x32(_ a: UnsafePointer<Float>, lda: Int, _ b0: UnsafePointer<Float>, _ b1: UnsafePointer<Float>,
                        k: Int, _ c: UnsafeMutablePointer<Float>, ldc: Int, add: Bool) {
    @inline(__always) func initial(_ p: UnsafePointer<Float>) -> SIMD16<Float> { add ? load16(p) : SIMD16() }
    let a0 = a, a1 = a0 + lda, a2 = a1 + lda, a3 = a2 + lda, a4 = a3 + lda, a5 = a4 + lda, a6 = a5 + lda, a7 = a6 + lda
    let r0 = c, r1 = r0 + ldc, r2 = r1 + ldc, r3 = r2 + ldc, r4 = r3 + ldc, r5 = r4 + ldc, r6 = r5 + ldc, r7 = r6 + ldc
    var c00 = initial(r0), c01 = initial(r0 + 16), c10 = initial(r1), c11 = initial(r1 + 16)
    var c20 = initial(r2), c21 = initial(r2 + 16), c30 = initial(r3), c31 = initial(r3 + 16)
    var c40 = initial(r4), c41 = initial(r4 + 16), c50 = initial(r5), c51 = initial(r5 + 16)
    var c60 = initial(r6), c61 = initial(r6 + 16), c70 = initial(r7), c71 = initial(r7 + 16)
    for p in 0..<k {
        let u = load16(b0 + p * 16), v = load16(b1 + p * 16)
        var x = SIMD16<Float>(repeating: a0[p])
        c00 = c00.addingProduct(x, u); c01 = c01.addingProduct(x, v)
        x = SIMD16<Float>(repeating: a1[p])
        c10 = c10.addingProduct(x, u); c11 = c11.addingProduct(x, v)
        x = SIMD16<Float>(repeating: a2[p])
        c20 = c20.addingProduct(x, u); c21 = c21.addingProduct(x, v)
        x = SIMD16<Float>(repeating: a3[p])
        c30 = c30.addingProduct(x, u); c31 = c31.addingProduct(x, v)
        x = SIMD16<Float>(repeating: a4[p])
        c40 = c40.addingProduct(x, u); c41 = c41.addingProduct(x, v)
        x = SIMD16<Float>(repeating: a5[p])
        c50 = c50.addingProduct(x, u); c51 = c51.addingProduct(x, v)
        x = SIMD16<Float>(repeating: a6[p])
        c60 = c60.addingProduct(x, u); c61 = c61.addingProduct(x, v)
        x = SIMD16<Float>(repeating: a7[p])
        c70 = c70.addingProduct(x, u); c71 = c71.addingProduct(x, v)
    }
    store16(c00, r0); store16(c01, r0 + 16); store16(c10, r1); store16(c11, r1 + 16)
    store16(c20, r2); store16(c21, r2 + 16); store16(c30, r3); store16(c31, r3 + 16)
    store16(c40, r4); store16(c41, r4 + 16); store16(c50, r5); store16(c51, r5 + 16)
    store16(c60, r6); store16(c61, r6 + 16); store16(c70, r7); store16(c71, r7 + 16)
}

/// Eight rows of A against one panel (the odd panel out): 8 accumulators.
@inline(__always)
private func kernel8x16(_ a: UnsafePointer<Float>, lda: Int, _ b: UnsafePointer<Float>, k: Int,
                        _ c: UnsafeMutablePointer<Float>, ldc: Int, add: Bool) {
    @inline(__always) func initial(_ p: UnsafePointer<Float>) -> SIMD16<Float> { add ? load16(p) : SIMD16() }
    let a0 = a, a1 = a0 + lda, a2 = a1 + lda, a3 = a2 + lda, a4 = a3 + lda, a5 = a4 + lda, a6 = a5 + lda, a7 = a6 + lda
    let r0 = c, r1 = r0 + ldc, r2 = r1 + ldc, r3 = r2 + ldc, r4 = r3 + ldc, r5 = r4 + ldc, r6 = r5 + ldc, r7 = r6 + ldc
    var c0 = initial(r0), c1 = initial(r1), c2 = initial(r2), c3 = initial(r3)
    var c4 = initial(r4), c5 = initial(r5), c6 = initial(r6), c7 = initial(r7)
    for p in 0..<k {
        let u = load16(b + p * 16)
        c0 = c0.addingProduct(SIMD16(repeating: a0[p]), u); c1 = c1.addingProduct(SIMD16(repeating: a1[p]), u)
        c2 = c2.addingProduct(SIMD16(repeating: a2[p]), u); c3 = c3.addingProduct(SIMD16(repeating: a3[p]), u)
        c4 = c4.addingProduct(SIMD16(repeating: a4[p]), u); c5 = c5.addingProduct(SIMD16(repeating: a5[p]), u)
        c6 = c6.addingProduct(SIMD16(repeating: a6[p]), u); c7 = c7.addingProduct(SIMD16(repeating: a7[p]), u)
    }
    store16(c0, r0); store16(c1, r1); store16(c2, r2); store16(c3, r3)
    store16(c4, r4); store16(c5, r5); store16(c6, r6); store16(c7, r7)
}

/// Four rows of A against one panel, each row summed exactly as `kernel1x16` sums it (same
/// four chains, same final adds), so a row gives the same bits whichever of the two takes it;
/// the panel's loads are shared by the four rows. For the rows that 8-row tiles leave over
/// (the few rows of a classifier's first chunks).
@inline(__always)
private func kernel4x16(_ a: UnsafePointer<Float>, lda: Int, _ b: UnsafePointer<Float>, k: Int,
                        _ c: UnsafeMutablePointer<Float>, ldc: Int, add: Bool) {
    let a0 = a, a1 = a0 + lda, a2 = a1 + lda, a3 = a2 + lda
    let r0 = c, r1 = r0 + ldc, r2 = r1 + ldc, r3 = r2 + ldc
    var s00 = add ? load16(r0) : SIMD16(), s01 = SIMD16<Float>(), s02 = SIMD16<Float>(), s03 = SIMD16<Float>()
    var s10 = add ? load16(r1) : SIMD16(), s11 = SIMD16<Float>(), s12 = SIMD16<Float>(), s13 = SIMD16<Float>()
    var s20 = add ? load16(r2) : SIMD16(), s21 = SIMD16<Float>(), s22 = SIMD16<Float>(), s23 = SIMD16<Float>()
    var s30 = add ? load16(r3) : SIMD16(), s31 = SIMD16<Float>(), s32 = SIMD16<Float>(), s33 = SIMD16<Float>()
    var p = 0
    while p + 4 <= k {
        let u0 = load16(b + p * 16), u1 = load16(b + (p + 1) * 16)
        let u2 = load16(b + (p + 2) * 16), u3 = load16(b + (p + 3) * 16)
        s00 = s00.addingProduct(SIMD16(repeating: a0[p]), u0); s01 = s01.addingProduct(SIMD16(repeating: a0[p + 1]), u1)
        s02 = s02.addingProduct(SIMD16(repeating: a0[p + 2]), u2); s03 = s03.addingProduct(SIMD16(repeating: a0[p + 3]), u3)
        s10 = s10.addingProduct(SIMD16(repeating: a1[p]), u0); s11 = s11.addingProduct(SIMD16(repeating: a1[p + 1]), u1)
        s12 = s12.addingProduct(SIMD16(repeating: a1[p + 2]), u2); s13 = s13.addingProduct(SIMD16(repeating: a1[p + 3]), u3)
        s20 = s20.addingProduct(SIMD16(repeating: a2[p]), u0); s21 = s21.addingProduct(SIMD16(repeating: a2[p + 1]), u1)
        s22 = s22.addingProduct(SIMD16(repeating: a2[p + 2]), u2); s23 = s23.addingProduct(SIMD16(repeating: a2[p + 3]), u3)
        s30 = s30.addingProduct(SIMD16(repeating: a3[p]), u0); s31 = s31.addingProduct(SIMD16(repeating: a3[p + 1]), u1)
        s32 = s32.addingProduct(SIMD16(repeating: a3[p + 2]), u2); s33 = s33.addingProduct(SIMD16(repeating: a3[p + 3]), u3)
        p += 4
    }
    while p < k {
        let u = load16(b + p * 16)
        s00 = s00.addingProduct(SIMD16(repeating: a0[p]), u); s10 = s10.addingProduct(SIMD16(repeating: a1[p]), u)
        s20 = s20.addingProduct(SIMD16(repeating: a2[p]), u); s30 = s30.addingProduct(SIMD16(repeating: a3[p]), u)
        p += 1
    }
    store16((s00 + s01) + (s02 + s03), r0); store16((s10 + s11) + (s12 + s13), r1)
    store16((s20 + s21) + (s22 + s23), r2); store16((s30 + s31) + (s32 + s33), r3)
}

/// One row of A against one panel, four k at a time (four chains hide the FMA latency).
@inline(__always)
private func kernel1x16(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, k: Int, _ c: UnsafeMutablePointer<Float>,
                        add: Bool) {
    var s0 = add ? load16(c) : SIMD16(), s1 = SIMD16<Float>(), s2 = SIMD16<Float>(), s3 = SIMD16<Float>()
    var p = 0
    while p + 4 <= k {
        s0 = s0.addingProduct(SIMD16(repeating: a[p]), load16(b + p * 16))
        s1 = s1.addingProduct(SIMD16(repeating: a[p + 1]), load16(b + (p + 1) * 16))
        s2 = s2.addingProduct(SIMD16(repeating: a[p + 2]), load16(b + (p + 2) * 16))
        s3 = s3.addingProduct(SIMD16(repeating: a[p + 3]), load16(b + (p + 3) * 16))
        p += 4
    }
    while p < k {
        s0 = s0.addingProduct(SIMD16(repeating: a[p]), load16(b + p * 16))
        p += 1
    }
    store16((s0 + s1) + (s2 + s3), c)
}

#endif
