/// fastai's `Recorder`: what happened at every training batch and every epoch, for tables and
/// plots. Per-batch arrays grow across fit calls; `smoothLoss` restarts at every fit (as fastai).
public struct Recorder: Sendable {
    /// Raw training loss of every batch.
    public var losses: [Float] = []
    /// Smoothed training loss after every batch (what fastai's `recorder.losses` holds).
    public var smoothLosses: [Float] = []
    /// Learning rate of every group at every batch.
    public var lrs: [[Double]] = []
    /// Momentum at every batch.
    public var moms: [Double] = []
    /// Logged epochs.
    public var rows: [EpochRow] = []
    /// The running smoothed loss.
    public var smoothLoss = SmoothedLoss()

    public init() {}

    mutating func record(loss: Float, lrs: [Double], mom: Double) {
        smoothLoss.add(loss)
        losses.append(loss)
        smoothLosses.append(smoothLoss.value ?? .nan)
        self.lrs.append(lrs)
        moms.append(mom)
    }
}
