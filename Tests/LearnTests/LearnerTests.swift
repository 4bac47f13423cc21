import Foundation
import Testing
import Tensor
import TestSupport
@testable import Learn

/// Records what the loop did, and can raise the cancellation flag after a given batch.
final class Probe: LearnerCallback {
    var events: [String] = []
    var weightsBeforeBatch: [[Float]] = []
    var cancelAfter: Int?
    var seen = 0
    let flag: Cancellation
    let params: [Parameter]
    init(flag: Cancellation, params: [Parameter]) { self.flag = flag; self.params = params }
    func beforeFit(_ s: TrainingState) { events.append("before_fit") }
    func beforeEpoch(_ s: TrainingState) { events.append("before_epoch \(s.epoch)") }
    func beforeBatch(_ s: TrainingState) { weightsBeforeBatch.append(params.flatMap(\.value.data)) }
    func afterBatch(_ s: TrainingState) {
        seen += 1
        if let c = cancelAfter, seen == c { flag.request() }
    }
    func afterEpoch(_ s: TrainingState) { events.append("after_epoch \(s.epoch)") }
    func afterFit(_ s: TrainingState) { events.append("after_fit") }
}

@Suite struct LearnerTests {
    @Test func lossDecreasesAndScheduleIsFollowed() throws {
        let learn = try tinyLearner()
        let before = try learn.validate().loss
        let r = try learn.fitOneCycle(3, lrMax: .value(0.05))
        #expect(r.rows.count == 3 && !r.cancelled)
        #expect(r.rows.last!.validLoss! < before * 0.8)
        let nb = learn.data.trainBatchCount
        #expect(learn.recorder.losses.count == 3 * nb)
        // The recorder's lrs are the one-cycle values at each batch's pct.
        let sched = try OneCycle(lrMax: [0.05, 0.05])
        var tracker = ProgressTracker(nEpochs: 3, batchesPerEpoch: nb)
        for k in 0..<(3 * nb) {
            if k % nb == 0 { tracker.startEpoch(k / nb) }
            #expect(learn.recorder.lrs[k] == sched.lr(at: tracker.pct))
            #expect(learn.recorder.moms[k] == sched.mom(at: tracker.pct))
            tracker.advance()
        }
        // Perplexity column = exp(valid_loss); train_loss = smoothed loss at the epoch end.
        for row in r.rows { #expect(row.metrics[1] == exp(row.validLoss!)) }
        #expect(r.rows.last!.trainLoss == learn.recorder.smoothLosses.last!)
    }

    @Test func resetsAndCallbackOrder() throws {
        let learn = try tinyLearner()
        let probe = Probe(flag: learn.cancellation, params: learn.model.parameters)
        learn.callbacks = [probe]
        try learn.fit(2, lr: .value(0.01))
        #expect(probe.events == ["before_fit", "before_epoch 0", "after_epoch 0", "before_epoch 1", "after_epoch 1", "after_fit"])
        // fit start + (train + valid) per epoch + after fit.
        #expect(learn.model.resets == 1 + 2 * 2 + 1)
        #expect(learn.model.isTraining == false)
    }

    /// Cancelling at a batch boundary, checkpointing, restoring into a fresh learner and resuming
    /// gives exactly the weights and schedule of an uninterrupted run.
    @Test func cancelCheckpointResumeEqualsUninterrupted() throws {
        let full = try tinyLearner()
        try full.fitOneCycle(2, lrMax: .slice(0.01, 0.05))

        let a = try tinyLearner()
        let probe = Probe(flag: a.cancellation, params: a.model.parameters)
        probe.cancelAfter = 8
        a.callbacks = [probe]
        let r = try a.fitOneCycle(2, lrMax: .slice(0.01, 0.05))
        #expect(r.cancelled)
        #expect(a.recorder.losses.count == 8)
        #expect(r.position == SchedulePosition(nEpochs: 2, batchesPerEpoch: 6, epoch: 1, batch: 2))
        #expect(!a.cancellation.requested)   // consumed

        let cp = a.checkpoint()
        let json = try cp.metadata.jsonData()
        let b = try tinyLearner(seed: 99)     // different initial weights: all must come from the checkpoint
        try b.restore(TrainingCheckpoint(tensors: cp.tensors, metadata: try CheckpointMetadata(json: json)))
        let rest = try b.resumeOneCycle()
        #expect(!rest.cancelled && rest.rows.map(\.epoch) == [1])
        #expect(b.recorder.lrs == Array(full.recorder.lrs.suffix(4)))
        for (p, q) in zip(b.model.parameters, full.model.parameters) { #expect(p.value == q.value, "\(p.name)") }
        #expect(rest.rows.last!.trainLoss == full.recorder.rows.last!.trainLoss)
    }

    @Test func nonFiniteLossRestoresLastGoodWeights() throws {
        let learn = try tinyLearner()
        learn.model.nanAtCall = 4
        let probe = Probe(flag: learn.cancellation, params: learn.model.parameters)
        learn.callbacks = [probe]
        var caught: LearnError?
        do { try learn.fit(1, lr: .value(0.05)) } catch let e as LearnError { caught = e }
        #expect(caught?.description == "training loss became nan at epoch 0, batch 4; weights restored to the last finite-loss values (try a lower learning rate)")
        // Batch 3 was the last finite loss: its starting weights are back.
        #expect(learn.model.parameters.flatMap(\.value.data) == probe.weightsBeforeBatch[3])
        #expect(learn.model.parameters.allSatisfy { $0.grad.data.allSatisfy { $0 == 0 } })
    }

    @Test func badSettingsAreClearErrors() throws {
        let learn = try tinyLearner()
        #expect(throws: LearnError.self) { try learn.fitOneCycle(1, lrMax: .value(0)) }
        #expect(throws: LearnError.self) { try learn.fit(1, lr: .value(-1)) }
        #expect(throws: LearnError.self) { try learn.fitOneCycle(0) }
        var empty = TinyData.make()
        empty.valid = []
        let noValid = try tinyLearner(data: empty)
        #expect(throws: LearnError.emptyValidationSet) { try noValid.fitOneCycle(1) }
        #expect(LearnError.emptyValidationSet.description.contains("validation set is empty"))
    }

    @Test func freezingSkipsNeverTrainedGroup() throws {
        let learn = try tinyLearner()
        learn.freeze()
        let w0 = learn.model.weight.value
        try learn.fit(1, lr: .value(0.05))
        #expect(learn.model.weight.value == w0)          // never had a gradient: untouched, not even decayed
        #expect(learn.model.head.value != Tensor(shape: [3, 3]))
        learn.unfreeze()
        try learn.fit(1, lr: .value(0.05))
        #expect(learn.model.weight.value != w0)
    }

    @Test func gradientClippingBoundsTheNorm() throws {
        let learn = try tinyLearner()
        for p in learn.model.parameters { p.grad = Tensor(shape: p.shape, repeating: 3); p.hasGrad = true }
        learn.clipGradients(maxNorm: 1)
        let norm = learn.model.parameters.flatMap(\.grad.data).reduce(0.0) { $0 + Double($1 * $1) }.squareRoot()
        #expect(abs(norm - 1) < 1e-5)   // clip coefficient uses norm + 1e-6, as PyTorch
    }

    @Test func checkpointMismatchesAreReported() throws {
        let learn = try tinyLearner()
        try learn.fit(1, lr: .value(0.01))
        var cp = learn.checkpoint()
        cp.tensors["model.0.linear.bias"] = Tensor(shape: [5])
        #expect(throws: LearnError.checkpointMismatch("tensor 'model.0.linear.bias' has shape [5], the model has [3]")) {
            try learn.restore(cp)
        }
        cp = learn.checkpoint()
        cp.tensors["model.extra"] = Tensor(shape: [1])
        #expect(throws: LearnError.checkpointMismatch("unexpected tensor 'model.extra'")) { try learn.restore(cp) }
        cp = learn.checkpoint()
        cp.tensors["model.1.head.weight"] = nil
        #expect(throws: LearnError.checkpointMismatch("missing tensor 'model.1.head.weight'")) { try learn.restore(cp) }
        // Optimizer state is in the checkpoint: moments for every stepped parameter, step counts.
        let good = learn.checkpoint()
        #expect(good.tensors.keys.contains("opt.0.linear.weight.sqr_avg"))
        #expect(good.metadata.parameters.allSatisfy { $0.step == learn.data.trainBatchCount })
    }
}

@Suite struct FineTuneTests {
    @Test func fineTuneRunsFrozenThenDiscriminative() throws {
        let learn = try tinyLearner()
        let w0 = learn.model.weight.value
        let results = try learn.fineTune(1, baseLR: 0.02)
        #expect(results.count == 2 && results.allSatisfy { $0.rows.count == 1 })
        let nb = learn.data.trainBatchCount
        // Second phase: slice(0.01/100, 0.01) over 2 groups, div 5 → first batch lrs = lr_max/5.
        let first2 = learn.recorder.lrs[nb]
        #expect(abs(first2[0] - 1e-4 / 5) < 1e-12 && abs(first2[1] - 1e-2 / 5) < 1e-12)
        #expect(learn.model.weight.value != w0)    // unfrozen in phase two
    }
}
