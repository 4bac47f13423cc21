import Foundation

/// fastai's cosine schedule piece `SchedCos(start, end)`: goes start → end as t goes 0 → 1.
public func cosineRamp(_ start: Double, _ end: Double, _ t: Double) -> Double {
    start + (1 + cos(Double.pi * (1 - t))) * (end - start) / 2
}

/// fastai's `fit_one_cycle` schedule: per-group learning rate and momentum as functions of the
/// training progress `pct` ∈ [0, 1).
///
///     let sched = try OneCycle(lrMax: [2e-3], moms: (0.8, 0.7, 0.8))
///     sched.lr(at: 0)     // [8e-5]
///     sched.mom(at: 0.25) // 0.7
public struct OneCycle: Sendable, Equatable, Codable {
    /// Peak learning rate per group.
    public var lrMax: [Double]
    /// lr starts at lrMax/div.
    public var div: Double
    /// lr ends at lrMax/divFinal.
    public var divFinal: Double
    /// Fraction of the steps spent warming up.
    public var pctStart: Double
    /// Momentum at the start, at the peak, and at the end.
    public var moms: [Double]

    /// Text learners' momentum default `(0.8, 0.7, 0.8)`.
    public static let textMoms = (0.8, 0.7, 0.8)

    public init(lrMax: [Double], div: Double = 25, divFinal: Double = 1e5, pctStart: Double = 0.25,
                moms: (Double, Double, Double) = OneCycle.textMoms) throws {
        guard !lrMax.isEmpty else { throw LearnError.invalidHyperParameter("lr_max", "no parameter group") }
        for v in lrMax where !(v > 0 && v.isFinite) {
            throw LearnError.invalidHyperParameter("lr_max", "\(v) is not a positive finite number")
        }
        guard div > 0, divFinal > 0 else { throw LearnError.invalidHyperParameter("div", "must be positive") }
        guard pctStart > 0, pctStart < 1 else {
            throw LearnError.invalidHyperParameter("pct_start", "\(pctStart) is not in (0, 1)")
        }
        self.lrMax = lrMax; self.div = div; self.divFinal = divFinal; self.pctStart = pctStart
        self.moms = [moms.0, moms.1, moms.2]
    }

    /// Phase index and position inside the phase, as fastai's `combine_scheds` computes them:
    /// the phase boundaries live in a float32 tensor, so pct is rounded to float32 and the
    /// position is computed in float32 (../shared/spec/training.md 3).
    func phase(_ pct: Double) -> (Int, Double) {
        let b1 = Float(pctStart)
        let b2 = b1 + Float(1 - pctStart)   // cumsum in float32
        let x = Float(pct)
        if Int(pct) >= 1 { return (1, 1) }
        if x >= b1 { return (1, Double((x - b1) / (b2 - b1))) }
        return (0, Double((x - 0) / (b1 - 0)))
    }

    /// Learning rate of every group at progress `pct`.
    public func lr(at pct: Double) -> [Double] {
        let (ph, t) = phase(pct)
        return lrMax.map { m in
            ph == 0 ? cosineRamp(m / div, m, t) : cosineRamp(m, m / divFinal, t)
        }
    }

    /// Momentum (Adam's β1) at progress `pct` (the same for every group).
    public func mom(at pct: Double) -> Double {
        let (ph, t) = phase(pct)
        return ph == 0 ? cosineRamp(moms[0], moms[1], t) : cosineRamp(moms[1], moms[2], t)
    }
}

/// The position in a multi-epoch training run, advanced as fastai's `TrainEvalCallback` does it:
/// `pct = epoch/nEpochs` at each epoch start, plus `1/(nEpochs·nBatches)` after each batch, in
/// double precision (so a resumed run reproduces the same values bit for bit).
public struct SchedulePosition: Sendable, Equatable, Codable {
    /// Epochs in the whole run.
    public var nEpochs: Int
    /// Training batches per epoch.
    public var batchesPerEpoch: Int
    /// Current epoch (0-based).
    public var epoch: Int = 0
    /// Training batches already done in the current epoch.
    public var batch: Int = 0

    public init(nEpochs: Int, batchesPerEpoch: Int, epoch: Int = 0, batch: Int = 0) {
        self.nEpochs = nEpochs; self.batchesPerEpoch = batchesPerEpoch; self.epoch = epoch; self.batch = batch
    }

    /// Progress for the batch about to run.
    public var pct: Double {
        var t = ProgressTracker(nEpochs: nEpochs, batchesPerEpoch: batchesPerEpoch)
        t.startEpoch(epoch)
        for _ in 0..<batch { t.advance() }
        return t.pct
    }
}

/// The running training progress of fastai's `TrainEvalCallback`: set to `epoch/nEpochs` at each
/// epoch start, then increased by `1/(nEpochs·batchesPerEpoch)` after each training batch.
public struct ProgressTracker: Sendable, Equatable {
    public let nEpochs: Int
    public let batchesPerEpoch: Int
    /// Progress for the batch about to run.
    public private(set) var pct: Double = 0

    public init(nEpochs: Int, batchesPerEpoch: Int) {
        self.nEpochs = nEpochs; self.batchesPerEpoch = batchesPerEpoch
    }
    /// Called at the start of each training epoch.
    public mutating func startEpoch(_ epoch: Int) { pct = Double(epoch) / Double(nEpochs) }
    /// Called after each training batch.
    public mutating func advance() { pct += 1 / Double(batchesPerEpoch * nEpochs) }
}
