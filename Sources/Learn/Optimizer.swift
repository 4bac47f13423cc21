import Foundation
import Tensor

/// Per-group hyper-parameters of fastai's optimizers (names as in fastai's `hypers`).
public struct GroupHypers: Sendable, Equatable, Codable {
    /// Learning rate.
    public var lr: Double
    /// Momentum; Adam's β1 (scheduled by one-cycle).
    public var mom: Double
    /// Adam's β2.
    public var sqrMom: Double
    /// Added after the square root in Adam's denominator.
    public var eps: Double
    /// Weight decay (decoupled unless the optimizer says otherwise).
    public var wd: Double

    public init(lr: Double = 1e-3, mom: Double = 0.9, sqrMom: Double = 0.99, eps: Double = 1e-5, wd: Double = 0.01) {
        self.lr = lr; self.mom = mom; self.sqrMom = sqrMom; self.eps = eps; self.wd = wd
    }
}

/// Which update rule an `Optimizer` applies.
public enum OptimizerKind: String, Sendable, Codable {
    /// fastai `Adam(decouple_wd=True)`: true weight decay `p ← p·(1 − lr·wd)` before the update.
    case adam
    /// fastai `Adam(decouple_wd=False)`: L2 penalty `g ← g + wd·p` added to the gradient.
    case adamL2
    /// fastai `SGD(mom)`: decoupled decay, `grad_avg ← mom·grad_avg + g`, `p ← p − lr·grad_avg`
    /// (plain `p ← p − lr·g` when mom is 0).
    case sgd
}

/// The optimizer state of one parameter (fastai's per-parameter `state` dict).
public struct ParameterState: Sendable {
    /// First moment (Adam) or momentum buffer (SGD); nil until the first step.
    public var gradAvg: Tensor?
    /// Second moment (Adam); nil until the first step.
    public var sqrAvg: Tensor?
    /// Number of steps taken since the last `clearState`.
    public var step: Int = 0
    /// fastai's `do_wd`: false for biases and norm layers.
    public var doWD: Bool
    /// fastai's `force_train`: stays trainable in frozen groups (norm layers).
    public var forceTrain: Bool
}

/// fastai's `Optimizer` with the Adam / SGD steppers, over parameter groups.
///
/// A parameter is updated only if `hasGrad` is true — as fastai skips parameters whose `.grad`
/// is `None`. Models must leave `hasGrad` false for parameters that never received a gradient;
/// a parameter that trained and was frozen later keeps `hasGrad` (its gradient is zeroed, not
/// removed), so it still gets decoupled weight decay, exactly like fastai.
///
///     let opt = Optimizer(groups: groups, hypers: [GroupHypers(lr: 1e-3)])
///     opt.step(); opt.zeroGrad()
public final class Optimizer {
    /// The parameter groups, first group first.
    public let groups: [[Parameter]]
    /// One set of hyper-parameters per group.
    public var hypers: [GroupHypers]
    /// The update rule.
    public let kind: OptimizerKind
    /// State per parameter, in group order then parameter order (fastai's `state` list order).
    public var states: [ParameterState]

    /// All parameters in state order.
    public var parameters: [Parameter] { groups.flatMap { $0 } }

    /// Creates an optimizer; `hypers` has one entry per group, or one entry used for all groups.
    /// `doWD`/`forceTrain` default to true/false for every parameter (see `ParameterSplit`).
    public init(groups: [[Parameter]], hypers: [GroupHypers], kind: OptimizerKind = .adam,
                doWD: (Parameter) -> Bool = { _ in true }, forceTrain: (Parameter) -> Bool = { _ in false }) {
        self.groups = groups
        self.hypers = hypers.count == 1 ? [GroupHypers](repeating: hypers[0], count: groups.count) : hypers
        precondition(self.hypers.count == groups.count, "one GroupHypers per group (programmer error)")
        self.kind = kind
        self.states = groups.flatMap { $0 }.map {
            ParameterState(gradAvg: nil, sqrAvg: nil, step: 0, doWD: doWD($0), forceTrain: forceTrain($0))
        }
    }

    /// Creates an optimizer over `parameters` grouped by `split` (flags from its patterns).
    public convenience init(parameters: [Parameter], split: ParameterSplit, hypers: GroupHypers = GroupHypers(),
                            kind: OptimizerKind = .adam) throws {
        let groups = try split.groups(of: parameters)
        self.init(groups: groups, hypers: [hypers], kind: kind,
                  doWD: { split.decays($0.name) }, forceTrain: { split.forcesTraining($0.name) })
    }

    /// Sets the learning rate of every group: one value per group, or one value for all.
    public func setLR(_ lrs: [Double]) {
        precondition(lrs.count == 1 || lrs.count == hypers.count, "setLR: \(lrs.count) values for \(hypers.count) groups")
        for g in 0..<hypers.count { hypers[g].lr = lrs.count == 1 ? lrs[0] : lrs[g] }
    }
    /// Sets the momentum of every group: one value per group, or one value for all.
    public func setMom(_ moms: [Double]) {
        precondition(moms.count == 1 || moms.count == hypers.count, "setMom: \(moms.count) values for \(hypers.count) groups")
        for g in 0..<hypers.count { hypers[g].mom = moms.count == 1 ? moms[0] : moms[g] }
    }

    /// One optimizer step over every parameter that has a gradient.
    public func step() {
        var k = 0
        for (g, group) in groups.enumerated() {
            let h = hypers[g]
            for p in group {
                defer { k += 1 }
                guard p.hasGrad else { continue }
                update(p, &states[k], h)
            }
        }
    }

    /// Zeroes every gradient (keeping `hasGrad`, as fastai's `zero_grad` keeps `.grad`).
    public func zeroGrad() { for group in groups { for p in group where p.hasGrad { p.zeroGrad() } } }

    /// Forgets moments and step counts (fastai's `clear_state`; `do_wd`/`force_train` survive).
    public func clearState() {
        for k in states.indices { states[k].gradAvg = nil; states[k].sqrAvg = nil; states[k].step = 0 }
    }

    /// fastai's `freeze_to(n)`: groups before `n` (negative counts from the end) stop requiring
    /// gradients except `forceTrain` parameters; the rest train. Clears the optimizer state.
    public func freezeTo(_ n: Int) {
        let cut = n >= 0 ? n : groups.count + n
        var k = 0
        for (g, group) in groups.enumerated() {
            for p in group {
                p.requiresGrad = g >= cut || states[k].forceTrain
                k += 1
            }
        }
        clearState()
    }
    /// `freeze_to(-1)`: only the last group trains.
    public func freeze() { freezeTo(-1) }
    /// `freeze_to(0)`: every group trains.
    public func unfreeze() { freezeTo(0) }

    /// The index of the first unfrozen group as fastai reports it (`frozen_idx`).
    public var frozenIndex: Int {
        var k = 0
        for (g, group) in groups.enumerated() {
            for p in group {
                if p.requiresGrad && !states[k].forceTrain { return g }
                k += 1
            }
        }
        return groups.count
    }

    /// Adam's element-wise update. `l2` ≠ 0 adds `l2·w` into the gradient first (fastai's
    /// `l2_reg` writes into `.grad`), `decay` ≠ 1 is decoupled weight decay.
    @inline(never)
    static func adamKernel(w: UnsafeMutablePointer<Float>, g: UnsafeMutablePointer<Float>,
                           m: UnsafeMutablePointer<Float>, v: UnsafeMutablePointer<Float>, n: Int,
                           decay: Float, l2: Float, mom: Float, damp1: Float, sqrMom: Float, damp2: Float,
                           d2: Float, eps: Float, stepSize: Float) {
        if l2 != 0 { for i in 0..<n { g[i] = g[i] + l2 * w[i] } }
        for i in 0..<n {
            let gi = g[i]
            let mi = m[i] * mom + damp1 * gi
            let vi = v[i] * sqrMom + damp2 * (gi * gi)
            m[i] = mi
            v[i] = vi
            // `vi / d2` is never negative; `.magnitude` says so to the compiler. Without it Linux's
            // square root must keep libm's errno path for negative inputs, a call and a branch per
            // element that stop the loop from vectorising (`lmlab bench adam` on 280k floats: 0.8
            // against 0.3 ms). The value is the same.
            // w·1 is exact, so one expression serves both with and without decay.
            w[i] = w[i] * decay + stepSize * (mi / ((vi / d2).magnitude.squareRoot() + eps))
        }
    }

    // The arithmetic follows PyTorch: scalars are computed in double, then applied to the float32
    // tensors (one rounding per operation), so results agree to float32 rounding.
    private func update(_ p: Parameter, _ s: inout ParameterState, _ h: GroupHypers) {
        let n = p.value.count
        if s.gradAvg == nil { s.gradAvg = Tensor(shape: p.shape) }
        if kind != .sgd, s.sqrAvg == nil { s.sqrAvg = Tensor(shape: p.shape) }
        let applyWD = s.doWD && h.wd != 0
        let decay = Float(1 - h.lr * h.wd)
        let l2 = Float(h.wd)
        switch kind {
        case .adam, .adamL2:
            s.step += 1
            let mom = Float(h.mom), damp1 = Float(1 - h.mom)
            let sqrMom = Float(h.sqrMom), damp2 = Float(1 - h.sqrMom)
            // fastai's debias(mom, damp, step) = damp·(1 − mom^step)/(1 − mom).
            let debias1 = (1 - h.mom) * (1 - pow(h.mom, Double(s.step))) / (1 - h.mom)
            let debias2 = (1 - h.sqrMom) * (1 - pow(h.sqrMom, Double(s.step))) / (1 - h.sqrMom)
            let stepSize = Float(-h.lr / debias1), d2 = Float(debias2), eps = Float(h.eps)
            let decoupled = kind == .adam
            let decayW: Float = applyWD && decoupled ? decay : 1
            let l2W: Float = applyWD && !decoupled ? l2 : 0
            // One pass over raw pointers obtained once; elements are independent, so doing
            // decay, averages and step per element equals fastai's tensor-by-tensor order.
            p.value.data.withUnsafeMutableBufferPointer { w in
                p.grad.data.withUnsafeMutableBufferPointer { gr in
                    s.gradAvg!.data.withUnsafeMutableBufferPointer { m in
                        s.sqrAvg!.data.withUnsafeMutableBufferPointer { v in
                            Self.adamKernel(w: w.baseAddress!, g: gr.baseAddress!, m: m.baseAddress!, v: v.baseAddress!,
                                            n: n, decay: decayW, l2: l2W, mom: mom, damp1: damp1, sqrMom: sqrMom,
                                            damp2: damp2, d2: d2, eps: eps, stepSize: stepSize)
                        }
                    }
                }
            }
        case .sgd:
            let mom = Float(h.mom), lr = Float(h.lr)
            p.value.data.withUnsafeMutableBufferPointer { w in
                p.grad.data.withUnsafeBufferPointer { gr in
                    s.gradAvg!.data.withUnsafeMutableBufferPointer { m in
                        for i in 0..<n {
                            if applyWD { w[i] = w[i] * decay }
                            if h.mom != 0 {
                                m[i] = m[i] * mom + gr[i]
                                w[i] = w[i] + (-lr) * m[i]
                            } else {
                                w[i] = w[i] + (-lr) * gr[i]
                            }
                        }
                    }
                }
            }
        }
    }
}
