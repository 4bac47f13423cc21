import Tensor

/// The Learn module: fastai's training machinery for the ULMFiT chapter.
///
/// Low level (each usable alone): `Optimizer` (fastai Adam/SGD over parameter groups, freezing),
/// `ParameterSplit` (groups and weight-decay/force-train rules as name patterns), `LearningRate`
/// (`slice` → per-group values), `OneCycle` / `ProgressTracker` (fit_one_cycle schedule),
/// metrics (`accuracy`, `crossEntropy`, `WeightedAverage`, `SmoothedLoss`), `decodeSpecTokens`
/// and `generate` (LMLearner.predict), `valleySuggestion` & co (lr_find).
///
/// High level: `Learner` drives a `TrainableModel` over `LearnerData` with callbacks, a
/// `Recorder`, an `EpochTable`, a `ProgressBar`, a `Cancellation` flag and `TrainingCheckpoint`s.
public enum LearnModule {}
