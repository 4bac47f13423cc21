import Foundation
import Tensor

/// How a fit ended.
public struct FitResult: Sendable, Equatable {
    /// Epoch rows logged during this call.
    public var rows: [EpochRow]
    /// True when the cancellation flag stopped training at a batch boundary.
    public var cancelled: Bool
    /// Where training stopped (or ended): resume a cancelled one-cycle run from here.
    public var position: SchedulePosition
}

/// fastai's `Learner` for the chapter: a model, its data, an optimizer over parameter groups,
/// metrics, and the training loop (`fit`, `fitOneCycle`, `lrFind`, `validate`).
///
///     let learn = try Learner(model: lm, data: dls, split: .awdLSTMLanguageModel(layers: 3),
///                             metrics: [.accuracy, .perplexity])
///     learn.freeze()
///     let result = try learn.fitOneCycle(1, lrMax: .value(2e-2))
///
/// Safety: before each optimizer step the learner keeps a copy of the weights that just gave a
/// finite loss (one extra copy of the parameters in memory, one memcpy per batch). If a training
/// loss is NaN/±inf, those weights are put back, gradients are zeroed and `fit` throws
/// `LearnError.nonFiniteLoss`; optimizer moments are not rolled back. The cancellation flag is
/// checked before every batch and before validation; a cancelled fit returns normally with
/// `cancelled == true` and its `position`, from which `resumeOneCycle()` continues.
public final class Learner<Model: TrainableModel, Data: LearnerData> where Data.Batch == Model.Batch {
    public let model: Model
    public let data: Data
    public let optimizer: Optimizer
    /// Metrics shown after `valid_loss`.
    public var metrics: [Metric]
    /// Momentum triple used by `fitOneCycle` when none is given (text learners: 0.8, 0.7, 0.8).
    public var moms: (Double, Double, Double) = OneCycle.textMoms
    /// Default learning rate (fastai `lr=1e-3`).
    public var lr: Double = 1e-3
    /// Gradient-norm clipping (fastai `GradientClip`); nil = off, the text learners' default.
    public var gradientClip: Float?
    /// Extra callbacks, run in insertion order after the built-in bookkeeping.
    public var callbacks: [LearnerCallback] = []
    /// Checked before every batch; when raised, training stops cleanly at that boundary.
    public var cancellation = Cancellation()
    /// Live progress; nil for none. Defaults to standard error.
    public var progress: ProgressBar? = ProgressBar()
    /// Where the epoch table goes (nil for nowhere).
    public var tableOutput: TextOutput? = StandardStream.standardOutput
    /// Wall clock in seconds (injectable for reproducible output).
    public var clock: () -> Double = { Date().timeIntervalSinceReferenceDate }
    /// Everything recorded so far.
    public var recorder = Recorder()
    /// The one-cycle run in progress or last run (kept in checkpoints for resuming).
    public private(set) var oneCycle: OneCycle?
    /// Position of the last fit (where a cancelled run stopped).
    public private(set) var position: SchedulePosition?

    private var lastGood: [[Float]] = []

    /// Builds a learner; parameters are grouped by `split`, Adam by default with wd 0.01.
    public init(model: Model, data: Data, split: ParameterSplit = .single, metrics: [Metric] = [],
                hypers: GroupHypers = GroupHypers(), optimizer kind: OptimizerKind = .adam) throws {
        self.model = model
        self.data = data
        self.metrics = metrics
        self.optimizer = try Optimizer(parameters: model.parameters, split: split, hypers: hypers, kind: kind)
    }

    // MARK: freezing

    /// fastai `freeze_to(n)`; clears the optimizer state.
    public func freezeTo(_ n: Int) { optimizer.freezeTo(n) }
    /// Only the last parameter group trains.
    public func freeze() { optimizer.freeze() }
    /// Every group trains.
    public func unfreeze() { optimizer.unfreeze() }

    // MARK: fitting

    /// fastai `fit_one_cycle(n_epoch, lr_max, div, div_final, pct_start, wd, moms, start_epoch)`.
    /// `lrMax` nil uses `lr`; `wd` nil keeps the optimizer's weight decay. `startEpoch` skips
    /// the first epochs of the `nEpochs`-epoch schedule (fastai's `SkipToEpoch`), so a run
    /// reloaded from a checkpoint saved after epoch k continues with `startEpoch: k + 1` at
    /// exactly the learning rates and momentums the uninterrupted run would have used.
    @discardableResult
    public func fitOneCycle(_ nEpochs: Int, lrMax: LearningRate? = nil, div: Double = 25, divFinal: Double = 1e5,
                            pctStart: Double = 0.25, wd: Double? = nil,
                            moms: (Double, Double, Double)? = nil, startEpoch: Int = 0) throws -> FitResult {
        let lrs = try (lrMax ?? .value(lr)).perGroup(optimizer.groups.count)
        let sched = try OneCycle(lrMax: lrs, div: div, divFinal: divFinal, pctStart: pctStart, moms: moms ?? self.moms)
        try checkEpochs(nEpochs)
        guard startEpoch >= 0, startEpoch < nEpochs else {
            throw LearnError.invalidHyperParameter("start_epoch", "\(startEpoch) must be between 0 and n_epoch - 1 = \(nEpochs - 1)")
        }
        oneCycle = sched
        return try run(nEpochs: nEpochs, from: SchedulePosition(nEpochs: nEpochs, batchesPerEpoch: data.trainBatchCount,
                                                                epoch: startEpoch),
                       wd: wd, hypers: { pct in (sched.lr(at: pct), sched.mom(at: pct)) }, resetSmoothing: true)
    }

    /// Continues the one-cycle run stopped at `position` (after a cancel or a checkpoint restore):
    /// the schedule picks up exactly where it stopped; the first `position.batch` batches of that
    /// epoch are skipped.
    @discardableResult
    public func resumeOneCycle(wd: Double? = nil) throws -> FitResult {
        guard let sched = oneCycle, let pos = position else {
            throw LearnError.invalidArgument("resume: no one-cycle run to resume")
        }
        guard pos.batchesPerEpoch == data.trainBatchCount else {
            throw LearnError.invalidArgument("resume: the run had \(pos.batchesPerEpoch) batches per epoch, the data now has \(data.trainBatchCount)")
        }
        return try run(nEpochs: pos.nEpochs, from: pos, wd: wd,
                       hypers: { pct in (sched.lr(at: pct), sched.mom(at: pct)) }, resetSmoothing: false)
    }

    /// fastai `fine_tune(epochs, base_lr, freeze_epochs, lr_mult, pct_start, div)`: one frozen
    /// one-cycle epoch (pct_start 0.99), then unfreeze and train with discriminative rates.
    /// (Not used by the chapter; here for completeness.)
    @discardableResult
    public func fineTune(_ epochs: Int, baseLR: Double = 2e-3, freezeEpochs: Int = 1, lrMult: Double = 100,
                         pctStart: Double = 0.3, div: Double = 5) throws -> [FitResult] {
        freeze()
        let first = try fitOneCycle(freezeEpochs, lrMax: .slice(baseLR), pctStart: 0.99)
        if first.cancelled { return [first] }
        let base = baseLR / 2
        unfreeze()
        return [first, try fitOneCycle(epochs, lrMax: .slice(base / lrMult, base), div: div, pctStart: pctStart)]
    }

    /// fastai `fit(n_epoch, lr)`: constant learning rate (momentum unchanged).
    @discardableResult
    public func fit(_ nEpochs: Int, lr: LearningRate? = nil, wd: Double? = nil) throws -> FitResult {
        let lrs = try (lr ?? .value(self.lr)).perGroup(optimizer.groups.count)
        try checkEpochs(nEpochs)
        let mom = optimizer.hypers.first?.mom ?? 0.9
        oneCycle = nil
        return try run(nEpochs: nEpochs, from: SchedulePosition(nEpochs: nEpochs, batchesPerEpoch: data.trainBatchCount),
                       wd: wd, hypers: { _ in (lrs, mom) }, resetSmoothing: true)
    }

    /// Validation loss and metrics over the whole validation set (eval mode, state reset first).
    public func validate() throws -> (loss: Double, metrics: [Double]) {
        guard data.validBatchCount > 0 else { throw LearnError.emptyValidationSet }
        model.isTraining = false
        model.reset()
        var loss = WeightedAverage(), acc = WeightedAverage()
        progress?.begin("valid", total: data.validBatchCount)
        var done = 0
        for batch in data.validBatches() {
            let ev = try model.evaluate(batch)
            loss.add(ev.loss, rows: ev.rows)
            if metrics.contains(where: { $0 != .perplexity }) {
                acc.add(try ev.batchAccuracy(), rows: ev.rows)
            }
            done += 1
            progress?.update(done: done, loss: nil)
        }
        progress?.end()
        guard let l = loss.value else { throw LearnError.emptyValidationSet }
        let values = metrics.map { m -> Double in
            switch m {
            case .accuracy: return acc.value ?? .nan
            case .errorRate: return 1 - (acc.value ?? .nan)
            case .perplexity: return Foundation.exp(l)
            }
        }
        return (l, values)
    }

    private func checkEpochs(_ n: Int) throws {
        guard n > 0 else { throw LearnError.invalidHyperParameter("n_epoch", "\(n) must be at least 1") }
    }

    /// The training loop shared by `fit`, `fitOneCycle` and its resume (../shared/spec/training.md 1).
    private func run(nEpochs: Int, from start: SchedulePosition, wd: Double?,
                     hypers: (Double) -> ([Double], Double), resetSmoothing: Bool) throws -> FitResult {
        let nb = data.trainBatchCount
        guard nb > 0 else { throw LearnError.emptyTrainingSet }
        guard data.validBatchCount > 0 else { throw LearnError.emptyValidationSet }
        if let wd {
            guard wd >= 0, wd.isFinite else { throw LearnError.invalidHyperParameter("wd", "\(wd) must be >= 0") }
            for g in optimizer.hypers.indices { optimizer.hypers[g].wd = wd }
        }
        if resetSmoothing { recorder.smoothLoss = SmoothedLoss() }
        let table = EpochTable(metrics: metrics)
        tableOutput?.write(table.header)
        var state = TrainingState()
        state.nEpochs = nEpochs; state.batchesPerEpoch = nb
        var rows: [EpochRow] = []
        var pos = start
        snapshotWeights()
        model.reset()
        for cb in callbacks { cb.beforeFit(state) }
        defer {
            model.reset()
            for cb in callbacks { cb.afterFit(state) }
        }
        for epoch in start.epoch..<nEpochs {
            let t0 = clock()
            var tracker = ProgressTracker(nEpochs: nEpochs, batchesPerEpoch: nb)
            tracker.startEpoch(epoch)
            let skip = epoch == start.epoch ? start.batch : 0
            for _ in 0..<skip { tracker.advance() }
            state.epoch = epoch
            pos.epoch = epoch; pos.batch = skip
            model.isTraining = true
            model.reset()
            for cb in callbacks { cb.beforeEpoch(state) }
            progress?.begin("train", total: nb)
            var index = 0
            for batch in data.trainBatches(epoch: epoch) {
                defer { index += 1 }
                if index < skip { continue }
                if index >= nb { break }
                if cancellation.consume() {
                    progress?.end()
                    position = pos
                    return FitResult(rows: rows, cancelled: true, position: pos)
                }
                let (lrs, mom) = hypers(tracker.pct)
                optimizer.setLR(lrs)
                optimizer.setMom([mom])
                state.batch = index; state.pct = tracker.pct; state.lrs = lrs; state.mom = mom
                for cb in callbacks { cb.beforeBatch(state) }
                let loss = try model.trainStep(batch)
                guard loss.isFinite else {
                    restoreWeights()
                    optimizer.zeroGrad()
                    progress?.end()
                    position = pos
                    throw LearnError.nonFiniteLoss(epoch: epoch, batch: index, loss: loss)
                }
                snapshotWeights()
                if let clip = gradientClip { clipGradients(maxNorm: clip) }
                optimizer.step()
                optimizer.zeroGrad()
                recorder.record(loss: loss, lrs: lrs, mom: mom)
                tracker.advance()
                pos.batch = index + 1
                state.loss = loss; state.smoothLoss = recorder.smoothLoss.value ?? .nan
                progress?.update(done: index + 1, loss: state.smoothLoss)
                for cb in callbacks { cb.afterBatch(state) }
            }
            progress?.end()
            if cancellation.consume() {
                position = pos
                return FitResult(rows: rows, cancelled: true, position: pos)
            }
            let (validLoss, values) = try validate()
            let row = EpochRow(epoch: epoch, trainLoss: recorder.smoothLoss.value ?? .nan, validLoss: validLoss,
                               metrics: values, seconds: clock() - t0)
            rows.append(row)
            recorder.rows.append(row)
            tableOutput?.write(table.row(row))
            pos = SchedulePosition(nEpochs: nEpochs, batchesPerEpoch: nb, epoch: epoch + 1, batch: 0)
            state.lastRow = row
            for cb in callbacks { cb.afterEpoch(state) }
        }
        position = pos
        return FitResult(rows: rows, cancelled: false, position: pos)
    }

    // MARK: gradient clipping and weight snapshots

    /// PyTorch's `clip_grad_norm_`: scales all gradients so their global L2 norm is ≤ maxNorm.
    func clipGradients(maxNorm: Float) {
        let ps = optimizer.parameters.filter(\.hasGrad)
        var sq = 0.0
        for p in ps { for g in p.grad.data { sq += Double(g) * Double(g) } }
        let coef = Double(maxNorm) / (sq.squareRoot() + 1e-6)
        guard coef < 1 else { return }
        for p in ps {
            p.grad.data.withUnsafeMutableBufferPointer { g in for i in 0..<g.count { g[i] *= Float(coef) } }
        }
    }

    /// Copies the weights that just produced a finite loss (reusing the buffers).
    private func snapshotWeights() {
        let ps = optimizer.parameters
        if lastGood.count != ps.count { lastGood = ps.map { $0.value.data }; return }
        for (k, p) in ps.enumerated() {
            if lastGood[k].count != p.value.count || p.value.count == 0 { lastGood[k] = p.value.data; continue }
            lastGood[k].withUnsafeMutableBufferPointer { dst in
                p.value.data.withUnsafeBufferPointer { src in
                    dst.baseAddress!.update(from: src.baseAddress!, count: src.count)
                }
            }
        }
    }

    private func restoreWeights() {
        for (k, p) in optimizer.parameters.enumerated() where k < lastGood.count && lastGood[k].count == p.value.count {
            p.value.data = lastGood[k]
        }
    }

    // MARK: used by checkpoints and lr_find

    func setRunState(oneCycle: OneCycle?, position: SchedulePosition?) {
        self.oneCycle = oneCycle
        self.position = position
    }
}
