// The evaluation loss's per-row softmax statistics with 512-bit vectors.
#if arch(x86_64)

/// The max `m` of `p[0..<n]` (n ≥ 1) and `Σ e^(p[i] − m)`, without writing the exponentials back.
/// With a `bias`, `p[i] += bias[i]` first, in the same pass as the max (the decoder's logits come
/// from the product without it, so the tile is not filled with the bias beforehand).
/// The last partial vector is padded with the row's first value for the max and masked out of the sum.
public func maxAndShiftedExpSum512(_ p: UnsafeMutablePointer<Float>, _ n: Int,
                                   bias: UnsafePointer<Float>? = nil) -> (max: Float, sum: Float) {
    let raw = UnsafeMutableRawPointer(p)
    let full = n / 16 * 16, rest = n - full
    var m = SIMD16<Float>(repeating: -.infinity)
    var i = 0
    if let bias {
        let b = UnsafeRawPointer(bias)
        while i < full {
            let v = raw.loadUnaligned(fromByteOffset: i * 4, as: SIMD16<Float>.self)
                + b.loadUnaligned(fromByteOffset: i * 4, as: SIMD16<Float>.self)
            raw.storeBytes(of: v, toByteOffset: i * 4, as: SIMD16<Float>.self)
            m = m.replacing(with: v, where: v .> m)
            i += 16
        }
        for j in full..<n { p[j] += bias[j] }
    } else {
        while i < full {
            let v = raw.loadUnaligned(fromByteOffset: i * 4, as: SIMD16<Float>.self)
            m = m.replacing(with: v, where: v .> m)
            i += 16
        }
    }
    func tail() -> SIMD16<Float> {
        var v = SIMD16<Float>(repeating: p[0])
        for i in 0..<rest { v[i] = p[full + i] }
        return v
    }
    if rest > 0 { let v = tail(); m = m.replacing(with: v, where: v .> m) }
    let top = m.max()
    let shift = SIMD16<Float>(repeating: top)
    var s0 = SIMD16<Float>(), s1 = SIMD16<Float>()
    i = 0
    while i + 32 <= full {
        s0 += exp16(raw.loadUnaligned(fromByteOffset: i * 4, as: SIMD16<Float>.self) - shift)
        s1 += exp16(raw.loadUnaligned(fromByteOffset: (i + 16) * 4, as: SIMD16<Float>.self) - shift)
        i += 32
    }
    if i < full { s0 += exp16(raw.loadUnaligned(fromByteOffset: i * 4, as: SIMD16<Float>.self) - shift) }
    if rest > 0 {
        let e = exp16(tail() - shift)
        var lanes = SIMD16<Float>()
        for j in 0..<rest { lanes[j] = e[j] }
        s1 += lanes
    }
    return (top, (s0 + s1).sum())
}

/// `p[i] = e^(p[i] − shift)` in place, returning their sum (the training loss, whose gradient
/// needs the exponentials).
public func shiftedExpInPlaceSum512(_ p: UnsafeMutablePointer<Float>, _ n: Int, shift: Float) -> Float {
    let raw = UnsafeMutableRawPointer(p)
    let by = SIMD16<Float>(repeating: shift)
    var s = SIMD16<Float>()
    var i = 0
    while i + 16 <= n {
        let e = exp16(raw.loadUnaligned(fromByteOffset: i * 4, as: SIMD16<Float>.self) - by)
        raw.storeBytes(of: e, toByteOffset: i * 4, as: SIMD16<Float>.self)
        s += e
        i += 16
    }
    if i < n {
        var v = SIMD16<Float>(repeating: shift)
        for j in 0..<(n - i) { v[j] = p[i + j] }
        let e = exp16(v - by)
        for j in 0..<(n - i) {
            p[i + j] = e[j]
            s[j] += e[j]
        }
    }
    return s.sum()
}

#endif
