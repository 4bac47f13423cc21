// Unaligned 512-bit loads and stores of 16 floats, shared by the kernels of this module.
#if arch(x86_64)

@inline(__always)
func load16(_ p: UnsafePointer<Float>) -> SIMD16<Float> {
    UnsafeRawPointer(p).loadUnaligned(as: SIMD16<Float>.self)
}

@inline(__always)
func store16(_ v: SIMD16<Float>, _ p: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD16<Float>.self)
}

#endif

#if arch(x86_64)

/// `e^x` for 16 lanes: the algorithm and constants of `Models.fastExp` (Cephes' expf:
/// n = round(x·log2 e), r = x − n·ln 2 in two parts, e^r ≈ 1 + r + r²·P(r) with P of degree 5, 2^n from the
/// exponent bits), with fused multiply-adds as there. Arguments are clamped to [−87.3, 88].
@_transparent
func exp16(_ x: SIMD16<Float>) -> SIMD16<Float> {
    let lo = SIMD16<Float>(repeating: -87.33654), hi = SIMD16<Float>(repeating: 88)
    let xc = x.replacing(with: lo, where: x .< lo).replacing(with: hi, where: x .> hi)
    let magic = SIMD16<Float>(repeating: 12_582_912)
    let t = magic.addingProduct(xc, 1.442_695_04)
    let n = t - magic
    let r = xc.addingProduct(n, -0.693_359_375).addingProduct(n, 2.121_944_4e-4)
    var p = SIMD16<Float>(repeating: 1.398_199_95e-3).addingProduct(r, 1.987_569_15e-4)
    p = SIMD16<Float>(repeating: 8.333_451_9e-3).addingProduct(p, r)
    p = SIMD16<Float>(repeating: 4.166_579_59e-2).addingProduct(p, r)
    p = SIMD16<Float>(repeating: 1.666_666_55e-1).addingProduct(p, r)
    p = SIMD16<Float>(repeating: 5.000_000_12e-1).addingProduct(p, r)
    let er = r.addingProduct(p, r * r) + 1
    let bits = (unsafeBitCast(t, to: SIMD16<Int32>.self) &- 0x4B40_0000 &+ 127) &<< 23
    return er * unsafeBitCast(bits, to: SIMD16<Float>.self)
}

/// `1 / (1 + e^−x)` for 16 lanes (`Models.fastSigmoid`).
@_transparent
func sigmoid16(_ x: SIMD16<Float>) -> SIMD16<Float> { 1 / (1 + exp16(-x)) }

/// `tanh x = 1 − 2 / (e^{2x} + 1)` for 16 lanes (`Models.fastTanh`).
@_transparent
func tanh16(_ x: SIMD16<Float>) -> SIMD16<Float> { 1 - 2 / (exp16(x + x) + 1) }

#endif
