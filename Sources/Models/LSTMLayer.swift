import Foundation
import Tensor
#if arch(x86_64)
import AVX512Kernels
#endif

/// One weight-dropped LSTM layer: fastai's `WeightDropout(nn.LSTM(nIn, H, 1, batch_first=True))`.
///
/// PyTorch layout: `weight_ih [4H, nIn]`, `weight_hh [4H, H]`, biases `[4H]`, gate blocks in the
/// order i, f, g, o. The trainable hidden-to-hidden matrix is `weight_hh_l0_raw`; in training a
/// DropConnect mask is drawn once per forward call and the effective matrix
/// `raw ⊙ mask` is shared by every time step and row.
///
/// The layer keeps its state `(h, c)` (`[bs, H]` each) between calls, detached: the next call
/// starts from it but no gradient flows back into the previous call.
///
/// Internally every sequence buffer is **time-major**, `[T, bs, features]`, so the rows of one
/// time step are contiguous and the recurrent product of a step is one GEMM.
public final class LSTMLayer {
    public let inputSize: Int
    public let hiddenSize: Int
    /// `…weight_hh_l0_raw [4H, H]`
    public let weightHHRaw: Parameter
    /// `…module.weight_ih_l0 [4H, nIn]`
    public let weightIH: Parameter
    /// `…module.bias_ih_l0 [4H]`
    public let biasIH: Parameter
    /// `…module.bias_hh_l0 [4H]`
    public let biasHH: Parameter
    /// DropConnect probability on `weight_hh`.
    public var weightP: Float

    /// Multiply-adds per time step (`bs·4H·H`) from which the recurrent product of a step is split
    /// along the gates between workers (synchronising every step) instead of along the batch
    /// rows (no synchronisation, but every worker streams all of `W_hh` on every step). Measured
    /// with `bench lm`: the batch split wins at 10k/200/512/2 (34 M per step, eval +24%), the gate
    /// split at 60k/400/1152/3 (340 M, +10%). `LMLAB_GATE_SPLIT_MACS` overrides it.
    var gateSplitMACs: Int = LSTMLayer.defaultGateSplitMACs
    static let defaultGateSplitMACs: Int =
        ProcessInfo.processInfo.environment["LMLAB_GATE_SPLIT_MACS"].flatMap { Int($0) } ?? (1 << 27)

    /// Whether each step's product is split along the gates (forward) or hidden units (backward)
    /// rather than along the batch rows: when a step is large enough to pay for a
    /// synchronisation per step, or when there are fewer rows than workers (generation).
    func splitsEachStep(bs: Int, width: Int) -> Bool {
        width > 1 && (bs < width || bs * 4 * hiddenSize * hiddenSize >= gateSplitMACs)
    }

    // Carried state, [stateBatch, H] each.
    private(set) var stateBatch = 0
    let h0 = FloatBuffer()
    let c0 = FloatBuffer()

    // Caches of the last forward call (time-major): what `backward` reads, handed over as a
    // whole by `exchangeActivations`.
    private(set) var steps = 0
    private(set) var batch = 0
    /// Activated gates `[T, bs, 4H]` (i, f, g, o); overwritten by their gradients in backward.
    private(set) var gates = FloatBuffer()
    /// Hidden states `[T+1, bs, H]`: row block 0 is the initial state, block t+1 the output at t.
    private(set) var hs = FloatBuffer()
    /// Cell states `[T+1, bs, H]`, same layout.
    private(set) var cs = FloatBuffer()
    /// The `weight_hh` of the last forward call, transposed and packed for `PackedGEMM`
    /// (`B = (raw ⊙ mask)ᵀ`, `[H, 4H]`).
    let packedHHT = PackedTransposedWeight()
    /// `weight_ih` packed the same way (`[nIn, 4H]`) for the input projections of all steps.
    let packedIHT = PackedTransposedWeight()
    /// The same weight packed for the backward product `dz · W_hh` (`B = raw ⊙ mask`, `[4H, H]`).
    let packedHH = FloatBuffer()
    /// DropConnect mask of the last training call (`[4H, H]`, values 0 or 1/(1-p)).
    private(set) var weightMask = FloatBuffer()
    /// Whether the last forward call drew `weightMask`.
    private(set) var maskUsed = false
    // Backward scratch.
    let dCell = FloatBuffer()
    let dWeightScratch = FloatBuffer()
    let biasSum = FloatBuffer()

    init(inputSize: Int, hiddenSize: Int, weightP: Float, namePrefix: String) {
        self.inputSize = inputSize
        self.hiddenSize = hiddenSize
        self.weightP = weightP
        let g = 4 * hiddenSize
        weightHHRaw = Parameter(namePrefix + "weight_hh_l0_raw", Tensor.zeros([g, hiddenSize]))
        weightIH = Parameter(namePrefix + "module.weight_ih_l0", Tensor.zeros([g, inputSize]))
        biasIH = Parameter(namePrefix + "module.bias_ih_l0", Tensor.zeros([g]))
        biasHH = Parameter(namePrefix + "module.bias_hh_l0", Tensor.zeros([g]))
    }

    /// The caches of one forward call, as `backward` reads them.
    struct Activations {
        var steps = 0, batch = 0
        var gates = FloatBuffer(), hs = FloatBuffer(), cs = FloatBuffer(), weightMask = FloatBuffer()
        var maskUsed = false
        var bytes: Int { 4 * (gates.capacity + hs.capacity + cs.capacity + weightMask.capacity) }
    }

    /// Installs `other`'s caches (as if its forward call were the last one) and returns the
    /// ones the layer held; `Activations()` gives empty buffers for the next call to fill.
    func exchangeActivations(_ other: Activations) -> Activations {
        let mine = Activations(steps: steps, batch: batch, gates: gates, hs: hs, cs: cs, weightMask: weightMask,
                               maskUsed: maskUsed)
        (steps, batch, gates, hs, cs, weightMask, maskUsed) =
            (other.steps, other.batch, other.gates, other.hs, other.cs, other.weightMask, other.maskUsed)
        return mine
    }

    /// fastai's `named_parameters` order within a layer.
    public var parameters: [Parameter] { [weightHHRaw, weightIH, biasIH, biasHH] }

    /// PyTorch's default LSTM init: every weight and bias U(−1/√H, 1/√H).
    func initialize(using rng: inout SeededGenerator) {
        let k = 1 / Float(hiddenSize).squareRoot()
        for p in parameters { p.value = Tensor.uniform(p.shape, low: -k, high: k, using: &rng) }
    }

    /// Zeros the carried state.
    public func reset() {
        h0.zero(stateBatch * hiddenSize)
        c0.zero(stateBatch * hiddenSize)
    }

    /// Carried state `(h, c)`, each `[1, bs, H]` as PyTorch reports it.
    public var state: (h: Tensor, c: Tensor) {
        (Tensor(shape: [1, stateBatch, hiddenSize], data: h0.array(stateBatch * hiddenSize)),
         Tensor(shape: [1, stateBatch, hiddenSize], data: c0.array(stateBatch * hiddenSize)))
    }

    /// Replaces the carried state with `h`, `c` (`[bs, H]` each, row-major).
    func setState(h: [Float], c: [Float], batchSize bs: Int) {
        stateBatch = bs
        h0.ensure(bs * hiddenSize)
        c0.ensure(bs * hiddenSize)
        h.withUnsafeBufferPointer { h0.pointer.update(from: $0.baseAddress!, count: bs * hiddenSize) }
        c.withUnsafeBufferPointer { c0.pointer.update(from: $0.baseAddress!, count: bs * hiddenSize) }
    }

    /// Cuts the state to its first `bs` rows or extends it with zero rows (fastai's rule when the
    /// batch size changes without a reset).
    func adjustState(to bs: Int) {
        guard bs != stateBatch else { return }
        let H = hiddenSize
        if bs > stateBatch {
            for buf in [h0, c0] {
                let old = buf.array(stateBatch * H)
                buf.ensure(bs * H)
                buf.zero(bs * H)
                buf.pointer.update(from: old, count: old.count)
            }
        }
        stateBatch = bs
    }

    // MARK: forward

    /// Runs the layer over `T` steps from the carried state and stores the final state.
    /// - Parameters:
    ///   - x: input `[T, bs, nIn]` (time-major).
    ///   - training: draws a fresh DropConnect mask when true and `weightP > 0`.
    /// The output `[T, bs, H]` is `output` (block 1… of `hs`).
    func forward(_ x: UnsafePointer<Float>, T: Int, bs: Int, training: Bool, rng: inout SeededGenerator) {
        let H = hiddenSize, G = 4 * H, n = T * bs
        adjustState(to: bs)
        steps = T
        batch = bs
        gates.ensure(n * G)
        hs.ensure((T + 1) * bs * H)
        cs.ensure((T + 1) * bs * H)

        // Effective recurrent weight, once per call, packed for the per-step products; drawn
        // while the input projections run, which do not read it.
        maskUsed = training && weightP > 0
        if maskUsed { weightMask.ensure(G * H) }
        func prepareRecurrentWeight() {
            if maskUsed { drawDropoutMask(weightMask.pointer, count: G * H, p: weightP, rng: &rng) }
            packedHHT.update(from: weightHHRaw, mask: maskUsed ? UnsafePointer(weightMask.pointer) : nil, n: G, k: H)
        }

        // Input projections of all steps in one GEMM; the summed biases are added in the cell.
        let z = gates.pointer
        biasSum.ensure(G)
        biasIH.withValue { bi in biasHH.withValue { bh in
            for j in 0..<G { biasSum.pointer[j] = bi[j] + bh[j] }
        } }
        hs.pointer.update(from: h0.pointer, count: bs * H)
        cs.pointer.update(from: c0.pointer, count: bs * H)
        let bsum = UnsafePointer(biasSum.pointer)
        let hp = hs.pointer, cp = cs.pointer, nIn = inputSize
        weightIH.withValue { wih in
            WorkSplit.run { width in
                if n < 2 * width {
                    prepareRecurrentWeight()
                    z.update(repeating: 0, count: n * G)
                    // A token or two (generation): matrix-vector products split along the gates.
                    WorkSplit.forEach(G, parts: width, align: 16) { _, gr in
                        for r in 0..<n { rowDotsAdd(wih, n: nIn, rows: gr, x: x + r * nIn, y: z + r * G) }
                    }
                } else {
                    packedIHT.update(from: weightIH, mask: nil, n: G, k: nIn)
                    let wihT = packedIHT.pointer
                    WorkSplit.forEach(n, parts: WorkSplit.balancedParts(width), alongside: prepareRecurrentWeight) { _, rows in
                        PackedGEMM.multiplyAdd(m: rows.count, n: G, k: nIn, a: x + rows.lowerBound * nIn, lda: nIn,
                                               packed: wihT, c: z + rows.lowerBound * G, ldc: G, accumulate: false)
                    }
                }
                let whhT = packedHHT.pointer
                if splitsEachStep(bs: bs, width: width) {
                    // Each step's product along the gates, so each worker streams only its
                    // panels of W_hh, then the cell maths along the rows.
                    for t in 0..<T {
                        let zt = z + t * bs * G, hPrev = hp + t * bs * H
                        WorkSplit.forEach(G, parts: width, align: 16) { _, gr in
                            PackedGEMM.multiplyAdd(m: bs, n: gr.count, k: H, a: hPrev, lda: H,
                                                   packed: whhT + gr.lowerBound * H, c: zt + gr.lowerBound, ldc: G)
                        }
                        WorkSplit.forEach(bs, parts: width) { _, rows in
                            let b0 = rows.lowerBound
                            lstmCellForward(zt + b0 * G, bias: bsum, cPrev: cp + (t * bs + b0) * H,
                                            c: cp + ((t + 1) * bs + b0) * H, h: hp + ((t + 1) * bs + b0) * H,
                                            bs: rows.count, H: H)
                        }
                    }
                    return
                }
                // Batch rows are independent through the whole recurrence: each worker runs all
                // steps on its own rows, one product per step.
                WorkSplit.forEach(bs, parts: width) { _, rows in
                    let b0 = rows.lowerBound, m = rows.count
                    for t in 0..<T {
                        let zt = z + (t * bs + b0) * G
                        let hPrev = hp + (t * bs + b0) * H
                        PackedGEMM.multiplyAdd(m: m, n: G, k: H, a: hPrev, lda: H, packed: whhT, c: zt, ldc: G)
                        lstmCellForward(zt, bias: bsum, cPrev: cp + (t * bs + b0) * H, c: cp + ((t + 1) * bs + b0) * H,
                                        h: hp + ((t + 1) * bs + b0) * H, bs: m, H: H)
                    }
                }
            }
        }
        h0.pointer.update(from: hs.pointer + T * bs * H, count: bs * H)
        c0.pointer.update(from: cs.pointer + T * bs * H, count: bs * H)
    }

    /// The output of the last forward call, `[T, bs, H]`.
    var output: UnsafeMutablePointer<Float> { hs.pointer + batch * hiddenSize }

    // MARK: backward

    /// Backpropagates through the last forward call (truncated at its initial state).
    /// - Parameters:
    ///   - dOutput: gradient of the loss w.r.t. the output, `[T, bs, H]`; used as scratch (destroyed).
    ///   - x: the input of the forward call, `[T, bs, nIn]`.
    ///   - dInput: when not nil, receives the gradient w.r.t. `x`, `[T, bs, nIn]` (overwritten).
    /// Weight and bias gradients are accumulated into the parameters that require them.
    func backward(dOutput: UnsafeMutablePointer<Float>, x: UnsafePointer<Float>,
                  dInput: UnsafeMutablePointer<Float>?) {
        let H = hiddenSize, G = 4 * H, T = steps, bs = batch, n = T * bs, nIn = inputSize
        dCell.ensure(bs * H)
        dCell.zero(bs * H)
        let dz = gates.pointer  // gates are replaced by dL/dz step by step
        let dc = dCell.pointer, cp = UnsafePointer(cs.pointer), hp = UnsafePointer(hs.pointer)
        let mask = UnsafePointer(weightMask.pointer)
        packedHH.ensure(PackedGEMM.packedCount(k: G, n: H))
        let whh = UnsafePointer(packedHH.pointer)
        WorkSplit.run { width in
            weightHHRaw.withValue { raw in
                WorkSplit.forEach(H, parts: width, align: 16) { _, cols in
                    PackedGEMM.pack(raw, mask: maskUsed ? mask : nil, k: G, n: H, columns: cols, into: packedHH.pointer)
                }
            }
            if splitsEachStep(bs: bs, width: width) {
                // Cell maths along the rows, then dh_{t-1} += dz_t · W_hh split
                // along the hidden units (each worker packs only its columns of W_hh).
                for t in stride(from: T - 1, through: 0, by: -1) {
                    let dzt = dz + t * bs * G
                    WorkSplit.forEach(bs, parts: width) { _, rows in
                        let b0 = rows.lowerBound
                        lstmCellBackward(dzt + b0 * G, dh: dOutput + (t * bs + b0) * H, dc: dc + b0 * H,
                                         cPrev: cp + (t * bs + b0) * H, c: cp + ((t + 1) * bs + b0) * H,
                                         bs: rows.count, H: H)
                    }
                    if t > 0 {
                        WorkSplit.forEach(H, parts: width, align: 16) { _, hc in
                            PackedGEMM.multiplyAdd(m: bs, n: hc.count, k: G, a: dzt, lda: G, packed: whh + hc.lowerBound * G,
                                                   c: dOutput + (t - 1) * bs * H + hc.lowerBound, ldc: H)
                        }
                    }
                }
            } else {
            // Through time, each worker on its own batch rows (no synchronisation per step).
            WorkSplit.forEach(bs, parts: width) { _, rows in
                let b0 = rows.lowerBound, m = rows.count
                for t in stride(from: T - 1, through: 0, by: -1) {
                    let dzt = dz + (t * bs + b0) * G
                    lstmCellBackward(dzt, dh: dOutput + (t * bs + b0) * H, dc: dc + b0 * H,
                                     cPrev: cp + (t * bs + b0) * H, c: cp + ((t + 1) * bs + b0) * H, bs: m, H: H)
                    if t > 0 {
                        // dh_{t-1} += dz_t · W_hh
                        PackedGEMM.multiplyAdd(m: m, n: H, k: G, a: dzt, lda: G, packed: whh,
                                               c: dOutput + ((t - 1) * bs + b0) * H, ldc: H)
                    }
                }
            }
            }

            // Weight gradients: dzᵀ·h and dzᵀ·x as GEMMs over all steps.
            if weightHHRaw.requiresGrad {
                weightHHRaw.withGrad { g in
                    WeightGradient.accumulate(m: G, n: H, k: n, a: dz, lda: G, b: hp, mask: maskUsed ? mask : nil,
                                              into: g, scratch: dWeightScratch, width: width)
                }
            }
            if weightIH.requiresGrad {
                weightIH.withGrad { g in
                    WeightGradient.accumulate(m: G, n: nIn, k: n, a: dz, lda: G, b: x, mask: nil,
                                              into: g, scratch: dWeightScratch, width: width)
                }
            }
            if biasIH.requiresGrad || biasHH.requiresGrad {
                biasSum.ensure(G)
                biasSum.zero(G)
                let s = biasSum.pointer
                // Split along the columns: each column still sums its rows in order.
                WorkSplit.forEach(G, parts: width, align: 16) { _, cols in
                    let sum = s + cols.lowerBound, count = cols.count
                    for r in 0..<n {
                        let row = dz + r * G + cols.lowerBound
                        for j in 0..<count { sum[j] += row[j] }
                    }
                }
                for p in [biasIH, biasHH] where p.requiresGrad {
                    p.withGrad { g in for j in 0..<G { g[j] += s[j] } }
                }
            }
            if let dInput {
                weightIH.withValue { wih in
                    WorkSplit.forEach(n, parts: WorkSplit.balancedParts(width)) { _, rows in
                        GEMM.sgemm(m: rows.count, n: nIn, k: G, a: dz + rows.lowerBound * G, lda: G, b: wih, ldb: nIn,
                                   beta: 0, c: dInput + rows.lowerBound * nIn, ldc: nIn)
                    }
                }
            }
        }
    }
}

// MARK: - Cell kernels (forward and backward side by side)

/// One LSTM step's gate maths, in place.
/// - Parameters:
///   - z: pre-activations `[bs, 4H]` (blocks i, f, g, o) but for the bias; replaced by the
///     activated gates.
///   - bias: `b_ih + b_hh [4H]`, added here rather than copied into every row of `z` before the
///     products (a pass over all of `z` that cost more than this add).
///   - cPrev: `[bs, H]`; c: receives `c_t [bs, H]`; h: receives `h_t [bs, H]`.
///   - avx512: sixteen lanes at a time (`lstmCellForward512`) rather than eight.
// Not inlined: inside the large forward/backward bodies the SIMD loads stop being inlined.
@inline(never)
func lstmCellForward(_ z: UnsafeMutablePointer<Float>, bias: UnsafePointer<Float>, cPrev: UnsafePointer<Float>,
                     c: UnsafeMutablePointer<Float>, h: UnsafeMutablePointer<Float>, bs: Int, H: Int,
                     avx512: Bool = GEMM.usesAVX512) {
    #if arch(x86_64)
    if avx512 { return lstmCellForward512(z, bias: bias, cPrev: cPrev, c: c, h: h, bs: bs, H: H) }
    #endif
    let bi = bias, bf = bi + H, bg = bf + H, bo = bg + H
    for b in 0..<bs {
        let zi = z + b * 4 * H, zf = zi + H, zg = zf + H, zo = zg + H
        let cp = cPrev + b * H, cb = c + b * H, hb = h + b * H
        var j = 0
        while j + 8 <= H {
            let i = fastSigmoid(load8(zi + j) + load8(bi + j)), f = fastSigmoid(load8(zf + j) + load8(bf + j))
            let g = fastTanh(load8(zg + j) + load8(bg + j)), o = fastSigmoid(load8(zo + j) + load8(bo + j))
            store8(i, zi + j); store8(f, zf + j); store8(g, zg + j); store8(o, zo + j)
            let ct = (i * g).addingProduct(f, load8(cp + j))
            store8(ct, cb + j)
            store8(o * fastTanh(ct), hb + j)
            j += 8
        }
        while j < H {
            let i = fastSigmoid(zi[j] + bi[j]), f = fastSigmoid(zf[j] + bf[j])
            let g = fastTanh(zg[j] + bg[j]), o = fastSigmoid(zo[j] + bo[j])
            zi[j] = i; zf[j] = f; zg[j] = g; zo[j] = o
            let ct = (i * g).addingProduct(f, cp[j])
            cb[j] = ct
            hb[j] = o * fastTanh(ct)
            j += 1
        }
    }
}

/// Backward of `lstmCellForward`.
/// - Parameters:
///   - gates: activated gates `[bs, 4H]` of this step; replaced by `dL/dz`.
///   - dh: `dL/dh_t [bs, H]` (output gradient plus the recurrent contribution).
///   - dc: on entry `dL/dc_t` from step t+1 (`[bs, H]`); on exit `dL/dc_{t-1}`.
///   - cPrev: `c_{t-1} [bs, H]`; c: `c_t [bs, H]`.
///   - avx512: sixteen lanes at a time (`lstmCellBackward512`) rather than eight.
@inline(never)
func lstmCellBackward(_ gates: UnsafeMutablePointer<Float>, dh: UnsafePointer<Float>,
                      dc: UnsafeMutablePointer<Float>, cPrev: UnsafePointer<Float>,
                      c: UnsafePointer<Float>, bs: Int, H: Int, avx512: Bool = GEMM.usesAVX512) {
    #if arch(x86_64)
    if avx512 { return lstmCellBackward512(gates, dh: dh, dc: dc, cPrev: cPrev, c: c, bs: bs, H: H) }
    #endif
    for b in 0..<bs {
        let gi = gates + b * 4 * H, gf = gi + H, gg = gf + H, go = gg + H
        let cp = cPrev + b * H, cb = c + b * H, dhb = dh + b * H, dcb = dc + b * H
        var j = 0
        while j + 8 <= H {
            let i = load8(gi + j), f = load8(gf + j), g = load8(gg + j), o = load8(go + j)
            let tc = fastTanh(load8(cb + j))
            let dht = load8(dhb + j)
            let dct = load8(dcb + j) + dht * o * (1 - tc * tc)
            store8(dht * tc * o * (1 - o), go + j)
            store8(dct * g * i * (1 - i), gi + j)
            store8(dct * i * (1 - g * g), gg + j)
            store8(dct * load8(cp + j) * f * (1 - f), gf + j)
            store8(dct * f, dcb + j)
            j += 8
        }
        while j < H {
            let i = gi[j], f = gf[j], g = gg[j], o = go[j]
            let tc = fastTanh(cb[j])
            let dht = dhb[j]
            let dct = dcb[j] + dht * o * (1 - tc * tc)
            go[j] = dht * tc * o * (1 - o)
            gi[j] = dct * g * i * (1 - i)
            gg[j] = dct * i * (1 - g * g)
            gf[j] = dct * cp[j] * f * (1 - f)
            dcb[j] = dct * f
            j += 1
        }
    }
}

// MARK: - Reference

extension LSTMLayer {
    /// The weight-dropped LSTM layer written as the equations read (../shared/spec/model.md 2.3):
    /// batch-first, one row and one step at a time, in Double with libm's `exp` and `tanh`. It shares
    /// nothing with the fast path (no packing, no GEMM, no time-major buffers, no SIMD cell), so the
    /// tests can compare the two; the tests also check `backward` against finite differences of
    /// `forward`.
    public enum Reference {
        /// The layer's parameters and its DropConnect mask, each row-major.
        public struct Weights {
            public var inputSize: Int
            public var hiddenSize: Int
            /// `weight_ih_l0 [4H, nIn]`, gate blocks i, f, g, o.
            public var weightIH: [Double]
            /// `weight_hh_l0_raw [4H, H]`.
            public var weightHHRaw: [Double]
            /// `bias_ih_l0 [4H]`, `bias_hh_l0 [4H]`.
            public var biasIH: [Double], biasHH: [Double]
            /// `WeightDropout`'s mask on `weight_hh_l0_raw`, `[4H, H]` (0 or 1/(1−p)); nil in eval.
            public var weightHHMask: [Double]?

            public init(inputSize: Int, hiddenSize: Int, weightIH: [Double], weightHHRaw: [Double], biasIH: [Double],
                        biasHH: [Double], weightHHMask: [Double]? = nil) {
                self.inputSize = inputSize
                self.hiddenSize = hiddenSize
                self.weightIH = weightIH
                self.weightHHRaw = weightHHRaw
                self.biasIH = biasIH
                self.biasHH = biasHH
                self.weightHHMask = weightHHMask
            }

            /// `W_hh = raw ⊙ mask`, the matrix every step of the call uses.
            var weightHH: [Double] {
                guard let m = weightHHMask else { return weightHHRaw }
                return (0..<weightHHRaw.count).map { weightHHRaw[$0] * m[$0] }
            }
        }

        /// What a forward call gives.
        public struct Output {
            /// `[bs, T, H]`: `h_t` at every step.
            public var output: [Double]
            /// The state after the last step, `[bs, H]` each (the next call starts from it).
            public var h: [Double], c: [Double]
        }

        /// Gradients of a loss with respect to the input and every parameter.
        public struct Gradients {
            /// `[bs, T, nIn]`.
            public var input: [Double]
            /// Shaped as the parameters (`weightHHRaw` through the mask).
            public var weightIH: [Double], weightHHRaw: [Double], biasIH: [Double], biasHH: [Double]
        }

        /// Gates and states of every step, kept for `backward`.
        struct Trace {
            var output: Output
            /// `[bs, T, 4H]`: activated gates i, f, g, o.
            var gates: [Double]
            /// `[bs, T+1, H]`: the state before the first step at t = 0, then `c_t` at t + 1.
            var cells: [Double]
            /// `[bs, T+1, H]`: the same for `h`.
            var hiddens: [Double]
        }

        static func sigmoid(_ v: Double) -> Double { 1 / (1 + Foundation.exp(-v)) }

        /// Runs `T` steps from `(h0, c0)`:
        /// `z = W_ih x_t + b_ih + W_hh h_{t−1} + b_hh`; `i, f, o = σ(z_i, z_f, z_o)`, `g = tanh(z_g)`;
        /// `c_t = f c_{t−1} + i g`; `h_t = o tanh(c_t)`.
        /// - Parameters:
        ///   - x: `[bs, T, nIn]`.
        ///   - h0, c0: `[bs, H]`.
        public static func forward(_ x: [Double], batchSize bs: Int, steps T: Int, h0: [Double], c0: [Double],
                                   weights: Weights) -> Output {
            trace(x, batchSize: bs, steps: T, h0: h0, c0: c0, weights: weights).output
        }

        static func trace(_ x: [Double], batchSize bs: Int, steps T: Int, h0: [Double], c0: [Double],
                          weights w: Weights) -> Trace {
            let nIn = w.inputSize, H = w.hiddenSize, G = 4 * H
            let whh = w.weightHH
            var gates = [Double](repeating: 0, count: bs * T * G)
            var cells = [Double](repeating: 0, count: bs * (T + 1) * H)
            var hiddens = cells
            var output = [Double](repeating: 0, count: bs * T * H)
            for b in 0..<bs {
                for j in 0..<H {
                    hiddens[b * (T + 1) * H + j] = h0[b * H + j]
                    cells[b * (T + 1) * H + j] = c0[b * H + j]
                }
                for t in 0..<T {
                    let prev = (b * (T + 1) + t) * H, next = prev + H
                    var z = [Double](repeating: 0, count: G)
                    for r in 0..<G {
                        var s = w.biasIH[r] + w.biasHH[r]
                        for k in 0..<nIn { s += w.weightIH[r * nIn + k] * x[(b * T + t) * nIn + k] }
                        for k in 0..<H { s += whh[r * H + k] * hiddens[prev + k] }
                        z[r] = s
                    }
                    for j in 0..<H {
                        let i = sigmoid(z[j]), f = sigmoid(z[H + j]), g = Foundation.tanh(z[2 * H + j]), o = sigmoid(z[3 * H + j])
                        let at = (b * T + t) * G
                        gates[at + j] = i
                        gates[at + H + j] = f
                        gates[at + 2 * H + j] = g
                        gates[at + 3 * H + j] = o
                        cells[next + j] = f * cells[prev + j] + i * g
                        hiddens[next + j] = o * Foundation.tanh(cells[next + j])
                        output[(b * T + t) * H + j] = hiddens[next + j]
                    }
                }
            }
            var hT = [Double](repeating: 0, count: bs * H), cT = hT
            for b in 0..<bs {
                for j in 0..<H {
                    hT[b * H + j] = hiddens[(b * (T + 1) + T) * H + j]
                    cT[b * H + j] = cells[(b * (T + 1) + T) * H + j]
                }
            }
            return Trace(output: Output(output: output, h: hT, c: cT), gates: gates, cells: cells, hiddens: hiddens)
        }

        /// Backpropagation through time over the call, truncated at `(h0, c0)` (the carried state is
        /// detached). Runs `forward` again for the gates and states.
        /// - Parameters:
        ///   - dy: `dL/d output`, `[bs, T, H]`.
        ///   - the rest: as given to `forward`.
        public static func backward(outputGradient dy: [Double], _ x: [Double], batchSize bs: Int, steps T: Int,
                                    h0: [Double], c0: [Double], weights w: Weights) -> Gradients {
            let nIn = w.inputSize, H = w.hiddenSize, G = 4 * H
            let tr = trace(x, batchSize: bs, steps: T, h0: h0, c0: c0, weights: w)
            let whh = w.weightHH
            var dx = [Double](repeating: 0, count: bs * T * nIn)
            var dWih = [Double](repeating: 0, count: G * nIn), dWhh = [Double](repeating: 0, count: G * H)
            var db = [Double](repeating: 0, count: G)
            for b in 0..<bs {
                var dhNext = [Double](repeating: 0, count: H), dcNext = dhNext
                for t in stride(from: T - 1, through: 0, by: -1) {
                    let at = (b * T + t) * G, prev = (b * (T + 1) + t) * H, next = prev + H
                    var dz = [Double](repeating: 0, count: G)
                    for j in 0..<H {
                        let i = tr.gates[at + j], f = tr.gates[at + H + j]
                        let g = tr.gates[at + 2 * H + j], o = tr.gates[at + 3 * H + j]
                        let tanhC = Foundation.tanh(tr.cells[next + j])
                        let dh = dy[(b * T + t) * H + j] + dhNext[j]
                        let dc = dcNext[j] + dh * o * (1 - tanhC * tanhC)
                        dz[j] = dc * g * i * (1 - i)
                        dz[H + j] = dc * tr.cells[prev + j] * f * (1 - f)
                        dz[2 * H + j] = dc * i * (1 - g * g)
                        dz[3 * H + j] = dh * tanhC * o * (1 - o)
                        dcNext[j] = dc * f
                    }
                    dhNext = [Double](repeating: 0, count: H)
                    for r in 0..<G {
                        db[r] += dz[r]
                        for k in 0..<nIn {
                            dWih[r * nIn + k] += dz[r] * x[(b * T + t) * nIn + k]
                            dx[(b * T + t) * nIn + k] += w.weightIH[r * nIn + k] * dz[r]
                        }
                        for k in 0..<H {
                            dWhh[r * H + k] += dz[r] * tr.hiddens[prev + k]
                            dhNext[k] += whh[r * H + k] * dz[r]
                        }
                    }
                }
            }
            // W_hh = raw ⊙ mask, so dL/d raw = dL/d W_hh ⊙ mask.
            if let m = w.weightHHMask { for k in 0..<dWhh.count { dWhh[k] *= m[k] } }
            // The two biases are summed in z: each gets the whole gradient.
            return Gradients(input: dx, weightIH: dWih, weightHHRaw: dWhh, biasIH: db, biasHH: db)
        }
    }
}
