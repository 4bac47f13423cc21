// The LSTM cell's gate maths with 512-bit vectors: `Models.lstmCellForward` and
// `lstmCellBackward` sixteen lanes at a time (same formulas, same order of operations).
#if arch(x86_64)

/// Lanes `0..<count` of `p`, the rest zero: the ragged end of a row.
@inline(__always)
private func loadPartial(_ p: UnsafePointer<Float>, _ count: Int) -> SIMD16<Float> {
    var v = SIMD16<Float>()
    for l in 0..<count { v[l] = p[l] }
    return v
}

@inline(__always)
private func storePartial(_ v: SIMD16<Float>, _ p: UnsafeMutablePointer<Float>, _ count: Int) {
    for l in 0..<count { p[l] = v[l] }
}

/// The forward cell on sixteen lanes: activated gates, `c_t` and `h_t`.
@_transparent
private func cellForward16(_ zi: SIMD16<Float>, _ zf: SIMD16<Float>, _ zg: SIMD16<Float>, _ zo: SIMD16<Float>,
                           _ cPrev: SIMD16<Float>)
    -> (i: SIMD16<Float>, f: SIMD16<Float>, g: SIMD16<Float>, o: SIMD16<Float>, c: SIMD16<Float>, h: SIMD16<Float>) {
    let i = sigmoid16(zi), f = sigmoid16(zf), g = tanh16(zg), o = sigmoid16(zo)
    let c = (i * g).addingProduct(f, cPrev)
    return (i, f, g, o, c, o * tanh16(c))
}

/// One step's gate maths in place: `z [bs, 4H]` (pre-activations i, f, g, o, less the bias
/// `[4H]`) becomes the activated gates; `c = f·cPrev + i·g` and `h = o·tanh(c)`, `[bs, H]` each.
public func lstmCellForward512(_ z: UnsafeMutablePointer<Float>, bias: UnsafePointer<Float>, cPrev: UnsafePointer<Float>,
                               c: UnsafeMutablePointer<Float>, h: UnsafeMutablePointer<Float>, bs: Int, H: Int) {
    let full = H / 16 * 16, rest = H - full
    let bi = bias, bf = bi + H, bg = bf + H, bo = bg + H
    for b in 0..<bs {
        let zi = z + b * 4 * H, zf = zi + H, zg = zf + H, zo = zg + H
        let cp = cPrev + b * H, cb = c + b * H, hb = h + b * H
        var j = 0
        while j < full {
            let r = cellForward16(load16(zi + j) + load16(bi + j), load16(zf + j) + load16(bf + j),
                                  load16(zg + j) + load16(bg + j), load16(zo + j) + load16(bo + j), load16(cp + j))
            store16(r.i, zi + j); store16(r.f, zf + j); store16(r.g, zg + j); store16(r.o, zo + j)
            store16(r.c, cb + j); store16(r.h, hb + j)
            j += 16
        }
        if rest > 0 {
            let r = cellForward16(loadPartial(zi + j, rest) + loadPartial(bi + j, rest),
                                  loadPartial(zf + j, rest) + loadPartial(bf + j, rest),
                                  loadPartial(zg + j, rest) + loadPartial(bg + j, rest),
                                  loadPartial(zo + j, rest) + loadPartial(bo + j, rest), loadPartial(cp + j, rest))
            storePartial(r.i, zi + j, rest); storePartial(r.f, zf + j, rest); storePartial(r.g, zg + j, rest)
            storePartial(r.o, zo + j, rest); storePartial(r.c, cb + j, rest); storePartial(r.h, hb + j, rest)
        }
    }
}

/// The backward cell on sixteen lanes: `dL/dz` for i, f, g, o and `dL/dc_{t−1}`.
@_transparent
private func cellBackward16(i: SIMD16<Float>, f: SIMD16<Float>, g: SIMD16<Float>, o: SIMD16<Float>,
                            c: SIMD16<Float>, cPrev: SIMD16<Float>, dh: SIMD16<Float>, dc: SIMD16<Float>)
    -> (i: SIMD16<Float>, f: SIMD16<Float>, g: SIMD16<Float>, o: SIMD16<Float>, dcPrev: SIMD16<Float>) {
    let tc = tanh16(c)
    let dct = dc + dh * o * (1 - tc * tc)
    return (dct * g * i * (1 - i), dct * cPrev * f * (1 - f), dct * i * (1 - g * g), dh * tc * o * (1 - o), dct * f)
}

/// Backward of `lstmCellForward512`: `gates [bs, 4H]` (activated) become `dL/dz`; `dh` is
/// `dL/dh_t`; `dc` holds `dL/dc_t` from step t+1 on entry and `dL/dc_{t−1}` on exit.
public func lstmCellBackward512(_ gates: UnsafeMutablePointer<Float>, dh: UnsafePointer<Float>,
                                dc: UnsafeMutablePointer<Float>, cPrev: UnsafePointer<Float>,
                                c: UnsafePointer<Float>, bs: Int, H: Int) {
    let full = H / 16 * 16, rest = H - full
    for b in 0..<bs {
        let gi = gates + b * 4 * H, gf = gi + H, gg = gf + H, go = gg + H
        let cp = cPrev + b * H, cb = c + b * H, dhb = dh + b * H, dcb = dc + b * H
        var j = 0
        while j < full {
            let r = cellBackward16(i: load16(gi + j), f: load16(gf + j), g: load16(gg + j), o: load16(go + j),
                                   c: load16(cb + j), cPrev: load16(cp + j), dh: load16(dhb + j), dc: load16(dcb + j))
            store16(r.i, gi + j); store16(r.f, gf + j); store16(r.g, gg + j); store16(r.o, go + j)
            store16(r.dcPrev, dcb + j)
            j += 16
        }
        if rest > 0 {
            let r = cellBackward16(i: loadPartial(gi + j, rest), f: loadPartial(gf + j, rest),
                                   g: loadPartial(gg + j, rest), o: loadPartial(go + j, rest),
                                   c: loadPartial(cb + j, rest), cPrev: loadPartial(cp + j, rest),
                                   dh: loadPartial(dhb + j, rest), dc: loadPartial(dcb + j, rest))
            storePartial(r.i, gi + j, rest); storePartial(r.f, gf + j, rest); storePartial(r.g, gg + j, rest)
            storePartial(r.o, go + j, rest); storePartial(r.dcPrev, dcb + j, rest)
        }
    }
}

#endif
