import Tensor

/// What the `Learner` needs from a model (the AWD-LSTM LM and classifier adapt to this).
///
/// Contract for gradients: `trainStep` runs forward and backward on one batch, **adds** the
/// gradient of the training objective (loss + AR + TAR for text models) into `grad` of every
/// parameter with `requiresGrad`, sets their `hasGrad`, and leaves frozen parameters' `grad`
/// untouched. It returns the plain loss (without AR/TAR), which is what the learner reports.
public protocol TrainableModel: AnyObject {
    /// One batch as the data source produces it.
    associatedtype Batch
    /// Every trainable tensor, in the model's `named_parameters` order (tied weights once).
    var parameters: [Parameter] { get }
    /// Training mode (dropout on) versus eval mode.
    var isTraining: Bool { get set }
    /// Resets the recurrent hidden state (fastai's `ModelResetter`).
    func reset()
    /// Forward + backward on a training batch; returns the mean loss without regularisation.
    func trainStep(_ batch: Batch) throws -> Float
    /// Forward only (eval mode, no gradients); loss and what metrics need.
    func evaluate(_ batch: Batch) throws -> BatchEvaluation
}

/// The result of evaluating one validation batch.
///
/// Models may give the batch accuracy directly (cheap for a large LM, whose `[bs, sl, V]` logits
/// need not be kept), or the logits and targets, from which the learner computes it.
public struct BatchEvaluation: Sendable {
    /// Mean loss over the batch's positions.
    public var loss: Float
    /// Number of rows (`bs`): the weight of this batch in epoch averages (fastai weighs by rows).
    public var rows: Int
    /// Fraction of positions where `argmax(logits) == target` (nil: compute from `logits`).
    public var accuracy: Float?
    /// Predictions, classes on the last axis (`[bs, sl, V]` or `[bs, C]`), if kept.
    public var logits: Tensor?
    /// One target class per prediction position, row-major, if kept.
    public var targets: [Int]?

    /// An evaluation whose accuracy the model already computed.
    public init(loss: Float, rows: Int, accuracy: Float) {
        self.loss = loss; self.rows = rows; self.accuracy = accuracy
    }

    /// An evaluation with the logits; accuracy is computed by the learner when a metric needs it.
    public init(loss: Float, rows: Int, logits: Tensor, targets: [Int]) {
        self.loss = loss; self.rows = rows; self.logits = logits; self.targets = targets
    }

    /// The batch accuracy, from the stored value or the logits.
    public func batchAccuracy() throws -> Float {
        if let accuracy { return accuracy }
        guard let logits, let targets else {
            throw LearnError.invalidArgument("evaluation has neither an accuracy nor logits and targets")
        }
        return try Learn.accuracy(logits: logits, targets: targets)
    }
}

/// Training and validation batches (the LM / classifier data loaders adapt to this).
public protocol LearnerData {
    associatedtype Batch
    associatedtype Batches: Sequence where Batches.Element == Batch
    /// Number of training batches per epoch.
    var trainBatchCount: Int { get }
    /// Number of validation batches.
    var validBatchCount: Int { get }
    /// The training batches of epoch `epoch` (shuffled per epoch as the loader decides).
    func trainBatches(epoch: Int) -> Batches
    /// The validation batches, in order.
    func validBatches() -> Batches
}

/// What a callback sees of the training loop.
public struct TrainingState: Sendable {
    /// Epoch within the current fit (0-based).
    public var epoch: Int = 0
    /// Epochs in the current fit.
    public var nEpochs: Int = 0
    /// Training batch index within the epoch (the batch about to run or just run).
    public var batch: Int = 0
    /// Training batches per epoch.
    public var batchesPerEpoch: Int = 0
    /// Training progress in [0, 1).
    public var pct: Double = 0
    /// Learning rate per group for the current batch.
    public var lrs: [Double] = []
    /// Momentum for the current batch.
    public var mom: Double = 0
    /// Loss of the last training batch.
    public var loss: Float = .nan
    /// Smoothed training loss after the last batch.
    public var smoothLoss: Float = .nan
    /// The row just logged (after an epoch).
    public var lastRow: EpochRow?
}

/// Hooks into the training loop; every method has an empty default.
public protocol LearnerCallback: AnyObject {
    func beforeFit(_ state: TrainingState)
    func beforeEpoch(_ state: TrainingState)
    func beforeBatch(_ state: TrainingState)
    func afterBatch(_ state: TrainingState)
    func afterEpoch(_ state: TrainingState)
    func afterFit(_ state: TrainingState)
}

extension LearnerCallback {
    public func beforeFit(_ state: TrainingState) {}
    public func beforeEpoch(_ state: TrainingState) {}
    public func beforeBatch(_ state: TrainingState) {}
    public func afterBatch(_ state: TrainingState) {}
    public func afterEpoch(_ state: TrainingState) {}
    public func afterFit(_ state: TrainingState) {}
}
