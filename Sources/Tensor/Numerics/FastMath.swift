/// Branch-free float32 `exp`, `sigmoid` and `tanh` for the hot loops, written so LLVM can
/// vectorise the loops that call them (libm's `expf` is an opaque call per element). Public and
/// `@inlinable` so the LSTM cell in Models and the softmax family here inline them as before.
///
/// `fastExp` is Cephes' `expf`: `x = n·ln2 + r`, `e^r ≈ 1 + r + r²·P(r)` with P of degree 5 on
/// |r| ≤ ln2/2, and `2^n` built in the exponent bits, every step a fused multiply-add (Swift
/// does not fuse `a * b + c` by itself, and the unfused multiply and add are two instructions on
/// the LSTM cell's critical path). Relative error ≈ 2 ulp over the clamped range [−87.3, 88]
/// (below it the result is ≈ 1e-38 instead of a denormal or 0, which is harmless in a softmax
/// or a sigmoid). The tests compare against the libm results.
@inlinable @inline(__always)
public func fastExp(_ x: Float) -> Float {
    let lo: Float = -87.33654, hi: Float = 88
    let xc = x < lo ? lo : (x > hi ? hi : x)
    // Round x·log2(e) to the nearest integer with the 1.5·2^23 trick (no float→int conversion traps).
    let magic: Float = 12_582_912
    let t = magic.addingProduct(xc, 1.442_695_04)
    let n = t - magic
    let r = xc.addingProduct(n, -0.693_359_375).addingProduct(n, 2.121_944_4e-4)
    var p = Float(1.398_199_95e-3).addingProduct(r, 1.987_569_15e-4)
    p = Float(8.333_451_9e-3).addingProduct(p, r)
    p = Float(4.166_579_59e-2).addingProduct(p, r)
    p = Float(1.666_666_55e-1).addingProduct(p, r)
    p = Float(5.000_000_12e-1).addingProduct(p, r)
    let er = r.addingProduct(p, r * r) + 1
    // The low bits of t hold n (offset by the magic number); build 2^n from them.
    let bits = (t.bitPattern &- 0x4B40_0000 &+ 127) &<< 23
    return er * Float(bitPattern: bits)
}

/// `1 / (1 + e^−x)`.
@inlinable @inline(__always)
public func fastSigmoid(_ x: Float) -> Float { 1 / (1 + fastExp(-x)) }

/// `tanh x = 1 − 2 / (e^{2x} + 1)`; absolute error ≈ 1e-7 (relative error grows only for |x| < 1e-3,
/// where the value itself is tiny).
@inlinable @inline(__always)
public func fastTanh(_ x: Float) -> Float { 1 - 2 / (fastExp(2 * x) + 1) }

/// Largest element of `p[0..<n]` (n ≥ 1), eight lanes at a time.
@inlinable @inline(__always)
public func maxElement(_ p: UnsafePointer<Float>, _ n: Int) -> Float {
    var i = 0
    var m = p[0]
    if n >= 8 {
        var acc = UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self)
        i = 8
        while i + 8 <= n {
            // Lane select rather than the generic pointwiseMax, which is not reliably inlined.
            let v = UnsafeRawPointer(p + i).loadUnaligned(as: SIMD8<Float>.self)
            acc = acc.replacing(with: v, where: v .> acc)
            i += 8
        }
        m = acc.max()
    }
    while i < n { if p[i] > m { m = p[i] }; i += 1 }
    return m
}

/// Sum of `p[0..<n]`, eight lanes at a time.
@inlinable @inline(__always)
public func sumElements(_ p: UnsafePointer<Float>, _ n: Int) -> Float {
    var acc = SIMD8<Float>()
    var i = 0
    while i + 8 <= n {
        acc += UnsafeRawPointer(p + i).loadUnaligned(as: SIMD8<Float>.self)
        i += 8
    }
    var s = acc.sum()
    while i < n { s += p[i]; i += 1 }
    return s
}

// MARK: - Eight lanes at a time

public typealias Float8 = SIMD8<Float>

@inlinable @inline(__always)
public func load8(_ p: UnsafePointer<Float>) -> Float8 { UnsafeRawPointer(p).loadUnaligned(as: Float8.self) }

@inlinable @inline(__always)
public func store8(_ v: Float8, _ p: UnsafeMutablePointer<Float>) { UnsafeMutableRawPointer(p).storeBytes(of: v, as: Float8.self) }

/// `fastExp` on eight lanes (same algorithm and constants).
@inlinable @inline(__always)
public func fastExp(_ x: Float8) -> Float8 {
    // Clamp with lane selects (the generic pointwiseMin/Max are not reliably inlined).
    let lo = Float8(repeating: -87.33654), hi = Float8(repeating: 88)
    let xc = x.replacing(with: lo, where: x .< lo).replacing(with: hi, where: x .> hi)
    let magic = Float8(repeating: 12_582_912)
    let t = magic.addingProduct(xc, 1.442_695_04)
    let n = t - magic
    let r = xc.addingProduct(n, -0.693_359_375).addingProduct(n, 2.121_944_4e-4)
    var p = Float8(repeating: 1.398_199_95e-3).addingProduct(r, 1.987_569_15e-4)
    p = Float8(repeating: 8.333_451_9e-3).addingProduct(p, r)
    p = Float8(repeating: 4.166_579_59e-2).addingProduct(p, r)
    p = Float8(repeating: 1.666_666_55e-1).addingProduct(p, r)
    p = Float8(repeating: 5.000_000_12e-1).addingProduct(p, r)
    let er = r.addingProduct(p, r * r) + 1
    let bits = (unsafeBitCast(t, to: SIMD8<Int32>.self) &- 0x4B40_0000 &+ 127) &<< 23
    return er * unsafeBitCast(bits, to: Float8.self)
}

@inlinable @inline(__always)
public func fastSigmoid(_ x: Float8) -> Float8 { 1 / (1 + fastExp(-x)) }

@inlinable @inline(__always)
public func fastTanh(_ x: Float8) -> Float8 { 1 - 2 / (fastExp(2 * x) + 1) }

/// `p[i] = e^(p[i] − shift)` in place.
@inlinable @inline(__always)
public func expShifted(_ p: UnsafeMutablePointer<Float>, _ n: Int, shift: Float) {
    var i = 0
    while i + 8 <= n {
        store8(fastExp(load8(p + i) - shift), p + i)
        i += 8
    }
    while i < n { p[i] = fastExp(p[i] - shift); i += 1 }
}

/// `p[i] += bias[i]` and returns the largest result (n ≥ 1): the decoder's bias add fused into
/// the log-softmax max pass, so the logits GEMM needs no pre-filled output.
@inlinable @inline(__always)
public func addBiasAndMax(_ p: UnsafeMutablePointer<Float>, _ bias: UnsafePointer<Float>, _ n: Int) -> Float {
    var i = 0
    var m = -Float.infinity
    if n >= 8 {
        var acc = load8(p) + load8(bias)
        store8(acc, p)
        i = 8
        while i + 8 <= n {
            let v = load8(p + i) + load8(bias + i)
            store8(v, p + i)
            acc = acc.replacing(with: v, where: v .> acc)
            i += 8
        }
        m = acc.max()
    }
    while i < n {
        p[i] += bias[i]
        if p[i] > m { m = p[i] }
        i += 1
    }
    return m
}

/// `expShifted` and `sumElements` in one pass (same lane order, so the same sum).
@inlinable @inline(__always)
public func expShiftedSum(_ p: UnsafeMutablePointer<Float>, _ n: Int, shift: Float) -> Float {
    shiftedExpSum(p, n, shift: shift, storing: true)
}

/// `Σ e^(p[i] − shift)` without writing the exponentials (same lane order as `expShiftedSum`,
/// so the same sum).
@inlinable @inline(__always)
public func shiftedExpSum(_ p: UnsafePointer<Float>, _ n: Int, shift: Float) -> Float {
    shiftedExpSum(UnsafeMutablePointer(mutating: p), n, shift: shift, storing: false)
}

/// The loop of both: `storing` is a constant at each call, so the branch folds away.
@inlinable @inline(__always)
func shiftedExpSum(_ p: UnsafeMutablePointer<Float>, _ n: Int, shift: Float, storing: Bool) -> Float {
    var acc = Float8()
    var i = 0
    while i + 8 <= n {
        let e = fastExp(load8(p + i) - shift)
        if storing { store8(e, p + i) }
        acc += e
        i += 8
    }
    var s = acc.sum()
    while i < n {
        let e = fastExp(p[i] - shift)
        if storing { p[i] = e }
        s += e
        i += 1
    }
    return s
}
