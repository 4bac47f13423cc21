// A general single-threaded sgemm with 512-bit vectors, for the model's large products
// (input projections, weight gradients, the decoder in training).
//
// Why our own: Debian's OpenBLAS runs AVX2 kernels on CPUs it does not know (and is told to use
// Haswell's on this project's machine), which reach about half of an AVX-512 core's peak. This is
// the classic three-level blocking of Goto and van de Geijn: a `kc × nc` block of B packed into
// 32-column panels, an `mc × kc` block of A packed into 14-row strips (or read in place when it
// is row-major), and a 14 × 32 register tile (28 of the 32 vector registers) that streams one
// strip against one panel. 1.5–1.9× the Haswell kernels' speed per core here (`lmlab bench gemm`).
#if arch(x86_64)

/// Block sizes of `gemm512`: a strip of A (`14 × kc`, 28 KB) stays in L1 while the panels of the
/// packed B block (`kc × nc`, 2 MB) stream past it from L2. On the project's Xeon (2 MB L2 per
/// core) kc 256–512, mc 48–192 and nc 512–2048 all measured within noise of each other; kc 512
/// keeps the decoder's k (the embedding size) in one pass. 14 rows rather than 12: each B load
/// then feeds 28 multiply-adds, 2–7% faster here.
public enum GEMM512 {
    public static let mr = 14, nr = 32
    public static let kc = 512, mc = 98, nc = 1024

    /// Floats of scratch `gemm512` needs (packed A block + packed B block).
    public static let workspaceCount = mc * kc + kc * nc
}

/// `C = alpha · op(A) · op(B) + beta · C`, row-major, as `cblas_sgemm` with `CblasRowMajor`.
/// `workspace` holds `GEMM512.workspaceCount` floats (its contents are scratch).
public func gemm512(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
                    a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                    beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int,
                    workspace: UnsafeMutablePointer<Float>) {
    guard m > 0, n > 0 else { return }
    let (mr, nr, kc, mc, nc) = (GEMM512.mr, GEMM512.nr, GEMM512.kc, GEMM512.mc, GEMM512.nc)
    let packedA = workspace, packedB = workspace + mc * kc
    // k in near-equal blocks of at most kc, so a short k (the decoder's embedding size) is one
    // pass and C, which may be far larger than the caches, is read and written once.
    let kBlocks = (k + kc - 1) / kc
    // A row-major A with alpha 1 is read in place, 14 rows at a time (packing it would cost a
    // scalar copy per element, which n/32 uses of each element do not repay when n is small, as
    // in the decoder's input gradient); otherwise it is packed.
    let inPlace = !transA && alpha == 1
    // With beta 0 the first k block stores its products instead of adding them, so C is neither
    // cleared beforehand nor read (for the decoder's logits, hundreds of megabytes).
    let empty = k == 0 || alpha == 0
    var jc = 0
    while jc < n {
        let nb = min(nc, n - jc)
        if beta != 1 && (beta != 0 || empty) {
            for i in 0..<m {
                let row = c + i * ldc + jc
                if beta == 0 { row.update(repeating: 0, count: nb) } else { for j in 0..<nb { row[j] *= beta } }
            }
        }
        if empty { jc += nb; continue }
        for block in 0..<kBlocks {
            let pc = k * block / kBlocks, kb = k * (block + 1) / kBlocks - pc
            let overwrite = beta == 0 && block == 0
            packB(transB: transB, b: b, ldb: ldb, rows: pc, kb: kb, columns: jc, nb: nb, into: packedB)
            var ic = 0
            while ic < m {
                let mb = min(mc, m - ic)
                if !inPlace {
                    packA(transA: transA, a: a, lda: lda, rows: ic, mb: mb, columns: pc, kb: kb, alpha: alpha, into: packedA)
                }
                // One strip of A stays in L1 while the panels of B stream past it from L2.
                var ir = 0
                while ir < mb {
                    let rows = min(mr, mb - ir)
                    var jr = 0
                    while jr < nb {
                        let cols = min(nr, nb - jr)
                        let panel = UnsafePointer(packedB + jr * kb)
                        let tile = c + (ic + ir) * ldc + jc + jr
                        if inPlace {
                            let strip = RowStrip(a + (ic + ir) * lda + pc, lda: lda, rows: rows)
                            tileProduct(strip, panel, k: kb, tile, ldc: ldc, rows: rows, cols: cols, overwrite: overwrite)
                        } else {
                            tileProduct(PackedStrip(p: packedA + ir * kb), panel, k: kb, tile, ldc: ldc,
                                        rows: rows, cols: cols, overwrite: overwrite)
                        }
                        jr += nr
                    }
                    ir += mr
                }
                ic += mb
            }
        }
        jc += nb
    }
}

/// Packs `alpha · op(A)[rows ..< rows+mb, columns ..< columns+kb]` into 14-row strips: strip `s`
/// holds `kb` groups of 14 floats (`dst[p·14 + r] = op(A)[14s + r, p]`), rows past `mb` zero.
private func packA(transA: Bool, a: UnsafePointer<Float>, lda: Int, rows i0: Int, mb: Int,
                   columns p0: Int, kb: Int, alpha: Float, into out: UnsafeMutablePointer<Float>) {
    let mr = GEMM512.mr
    var s = 0
    while s * mr < mb {
        let dst = out + s * mr * kb, r0 = i0 + s * mr, height = min(mr, mb - s * mr)
        if transA {
            // op(A)[i, p] = a[p·lda + i]: each p is a contiguous run of the strip's rows.
            for p in 0..<kb {
                let src = a + (p0 + p) * lda + r0, d = dst + p * mr
                if height == mr {
                    let x = UnsafeRawPointer(src).loadUnaligned(as: SIMD8<Float>.self)
                    let y = UnsafeRawPointer(src + 8).loadUnaligned(as: SIMD4<Float>.self)
                    let z = UnsafeRawPointer(src + 12).loadUnaligned(as: SIMD2<Float>.self)
                    UnsafeMutableRawPointer(d).storeBytes(of: alpha * x, as: SIMD8<Float>.self)
                    UnsafeMutableRawPointer(d + 8).storeBytes(of: alpha * y, as: SIMD4<Float>.self)
                    UnsafeMutableRawPointer(d + 12).storeBytes(of: alpha * z, as: SIMD2<Float>.self)
                } else {
                    for r in 0..<mr { d[r] = r < height ? alpha * src[r] : 0 }
                }
            }
        } else {
            for r in 0..<height {
                let src = a + (r0 + r) * lda + p0
                for p in 0..<kb { dst[p * mr + r] = alpha * src[p] }
            }
            if height < mr { for p in 0..<kb { for r in height..<mr { dst[p * mr + r] = 0 } } }
        }
        s += 1
    }
}

/// Packs `op(B)[rows ..< rows+kb, columns ..< columns+nb]` into 32-column panels: panel `q`
/// holds `kb` rows of 32 floats (`dst[p·32 + j] = op(B)[p, 32q + j]`), columns past `nb` zero.
private func packB(transB: Bool, b: UnsafePointer<Float>, ldb: Int, rows p0: Int, kb: Int,
                   columns j0: Int, nb: Int, into out: UnsafeMutablePointer<Float>) {
    let nr = GEMM512.nr
    var q = 0
    while q * nr < nb {
        let dst = out + q * nr * kb, c0 = j0 + q * nr, width = min(nr, nb - q * nr)
        if transB {
            // op(B)[p, j] = b[j·ldb + p]: a transpose, 16 × 16 blocks through registers would be
            // faster, but B is packed once per `mc` rows of A, which amortises this.
            for j in 0..<width {
                let src = b + (c0 + j) * ldb + p0
                for p in 0..<kb { dst[p * nr + j] = src[p] }
            }
            if width < nr { for p in 0..<kb { for j in width..<nr { dst[p * nr + j] = 0 } } }
        } else if width == nr {
            for p in 0..<kb {
                let src = b + (p0 + p) * ldb + c0, d = dst + p * nr
                store16(load16(src), d)
                store16(load16(src + 16), d + 16)
            }
        } else {
            for p in 0..<kb {
                let src = b + (p0 + p) * ldb + c0, d = dst + p * nr
                for j in 0..<nr { d[j] = j < width ? src[j] : 0 }
            }
        }
        q += 1
    }
}

/// Where a kernel reads its 14 rows of A: a packed strip, or the rows of A in place.
private protocol Strip {
    /// `op(A)[r, p]` of the strip.
    func at(_ r: Int, _ p: Int) -> Float
}

/// A packed strip: the 14 values of each k adjacent.
private struct PackedStrip: Strip {
    let p: UnsafePointer<Float>
    init(p: UnsafeMutablePointer<Float>) { self.p = UnsafePointer(p) }
    @inline(__always) func at(_ r: Int, _ k: Int) -> Float { p[k &* 14 &+ r] }
}

/// 14 rows of a row-major A read in place; rows past `rows` repeat the last one (their results
/// are dropped by `tileProduct`), so nothing past A is read.
private struct RowStrip: Strip {
    let r0, r1, r2, r3, r4, r5, r6, r7, r8, r9, r10, r11, r12, r13: UnsafePointer<Float>
    init(_ a: UnsafePointer<Float>, lda: Int, rows: Int) {
        func row(_ r: Int) -> UnsafePointer<Float> { a + min(r, rows - 1) * lda }
        (r0, r1, r2, r3, r4, r5) = (row(0), row(1), row(2), row(3), row(4), row(5))
        (r6, r7, r8, r9, r10, r11) = (row(6), row(7), row(8), row(9), row(10), row(11))
        (r12, r13) = (row(12), row(13))
    }
    @inline(__always) func at(_ r: Int, _ k: Int) -> Float {
        switch r {
        case 0: r0[k]
        case 1: r1[k]
        case 2: r2[k]
        case 3: r3[k]
        case 4: r4[k]
        case 5: r5[k]
        case 6: r6[k]
        case 7: r7[k]
        case 8: r8[k]
        case 9: r9[k]
        case 10: r10[k]
        case 11: r11[k]
        case 12: r12[k]
        default: r13[k]
        }
    }
}

/// `C[rows, cols] += strip · panel` (`=` when `overwrite`); a tile at the bottom or right edge
/// goes through a scratch tile, of which the valid part is added (or stored).
@inline(__always)
private func tileProduct<S: Strip>(_ a: S, _ b: UnsafePointer<Float>, k: Int, _ c: UnsafeMutablePointer<Float>,
                                   ldc: Int, rows: Int, cols: Int, overwrite: Bool) {
    if rows == GEMM512.mr && cols == GEMM512.nr {
        kernel14x32(a, b, k: k, c, ldc: ldc, overwrite: overwrite)
        return
    }
    withUnsafeTemporaryAllocation(of: Float.self, capacity: GEMM512.mr * GEMM512.nr) { buffer in
        let t = buffer.baseAddress!
        kernel14x32(a, b, k: k, t, ldc: GEMM512.nr, overwrite: true)
        for r in 0..<rows {
            for j in 0..<cols { c[r * ldc + j] = (overwrite ? 0 : c[r * ldc + j]) + t[r * GEMM512.nr + j] }
        }
    }
}

/// `C[14, 32] += strip · panel` over `k` (`=` when `overwrite`): 28 accumulators, two B vectors
/// and one broadcast A element live per multiply-add.
@inline(__always)
private func kernel14x32<S: Strip>(_ a: S, _ b: UnsafePointer<Float>, k: Int,
                                   _ c: UnsafeMutablePointer<Float>, ldc: Int, overwrite: Bool) {
    var c00 = SIMD16<Float>(), c01 = SIMD16<Float>(), c10 = SIMD16<Float>(), c11 = SIMD16<Float>()
    var c20 = SIMD16<Float>(), c21 = SIMD16<Float>(), c30 = SIMD16<Float>(), c31 = SIMD16<Float>()
    var c40 = SIMD16<Float>(), c41 = SIMD16<Float>(), c50 = SIMD16<Float>(), c51 = SIMD16<Float>()
    var c60 = SIMD16<Float>(), c61 = SIMD16<Float>(), c70 = SIMD16<Float>(), c71 = SIMD16<Float>()
    var c80 = SIMD16<Float>(), c81 = SIMD16<Float>(), c90 = SIMD16<Float>(), c91 = SIMD16<Float>()
    var ca0 = SIMD16<Float>(), ca1 = SIMD16<Float>(), cb0 = SIMD16<Float>(), cb1 = SIMD16<Float>()
    var cc0 = SIMD16<Float>(), cc1 = SIMD16<Float>(), cd0 = SIMD16<Float>(), cd1 = SIMD16<Float>()
    var pb = b
    for p in 0..<k {
        let u = load16(pb), v = load16(pb + 16)
        var x = SIMD16<Float>(repeating: a.at(0, p))
        c00 = c00.addingProduct(x, u); c01 = c01.addingProduct(x, v)
        x = SIMD16<Float>(repeating: a.at(1, p))
        c10 = c10.addingProduct(x, u); c11 = c11.addingProduct(x, v)
        x = SIMD16<Float>(repeating: a.at(2, p))
        c20 = c20.addingProduct(x, u); c21 = c21.addingProduct(x, v)
        x = SIMD16<Float>(repeating: a.at(3, p))
        c30 = c30.addingProduct(x, u); c31 = c31.addingProduct(x, v)
        x = SIMD16<Float>(repeating: a.at(4, p))
        c40 = c40.addingProduct(x, u); c41 = c41.addingProduct(x, v)
        x = SIMD16<Float>(repeating: a.at(5, p))
        c50 = c50.addingProduct(x, u); c51 = c51.addingProduct(x, v)
        x = SIMD16<Float>(repeating: a.at(6, p))
        c60 = c60.addingProduct(x, u); c61 = c61.addingProduct(x, v)
        x = SIMD16<Float>(repeating: a.at(7, p))
        c70 = c70.addingProduct(x, u); c71 = c71.addingProduct(x, v)
        x = SIMD16<Float>(repeating: a.at(8, p))
        c80 = c80.addingProduct(x, u); c81 = c81.addingProduct(x, v)
        x = SIMD16<Float>(repeating: a.at(9, p))
        c90 = c90.addingProduct(x, u); c91 = c91.addingProduct(x, v)
        x = SIMD16<Float>(repeating: a.at(10, p))
        ca0 = ca0.addingProduct(x, u); ca1 = ca1.addingProduct(x, v)
        x = SIMD16<Float>(repeating: a.at(11, p))
        cb0 = cb0.addingProduct(x, u); cb1 = cb1.addingProduct(x, v)
        x = SIMD16<Float>(repeating: a.at(12, p))
        cc0 = cc0.addingProduct(x, u); cc1 = cc1.addingProduct(x, v)
        x = SIMD16<Float>(repeating: a.at(13, p))
        cd0 = cd0.addingProduct(x, u); cd1 = cd1.addingProduct(x, v)
        pb += 32
    }
    @inline(__always) func add(_ lo: SIMD16<Float>, _ hi: SIMD16<Float>, _ r: Int) {
        let row = c + r * ldc
        if overwrite {
            store16(lo, row)
            store16(hi, row + 16)
        } else {
            store16(load16(row) + lo, row)
            store16(load16(row + 16) + hi, row + 16)
        }
    }
    add(c00, c01, 0); add(c10, c11, 1); add(c20, c21, 2); add(c30, c31, 3)
    add(c40, c41, 4); add(c50, c51, 5); add(c60, c61, 6); add(c70, c71, 7)
    add(c80, c81, 8); add(c90, c91, 9); add(ca0, ca1, 10); add(cb0, cb1, 11)
    add(cc0, cc1, 12); add(cd0, cd1, 13)
}

#endif
