import Foundation
import Tensor

/// A validation metric, as shown in the epoch table.
public enum Metric: String, Sendable, CaseIterable, Codable {
    /// Mean of `argmax(logits) == target` over all positions, epoch value weighted by batch rows.
    case accuracy
    /// `1 − accuracy` (fastai's `error_rate`).
    case errorRate = "error_rate"
    /// `exp(valid_loss)` (fastai's `Perplexity()`).
    case perplexity

    /// The column name in the epoch table.
    public var name: String { rawValue }
}

/// Accuracy of one batch: `logits` has the classes on its last axis (`[bs, sl, V]` or `[bs, C]`),
/// `targets` one class per position in row-major order.
public func accuracy(logits: Tensor, targets: [Int]) throws -> Float {
    guard let classes = logits.shape.last, classes > 0, logits.count == targets.count * classes else {
        throw LearnError.invalidArgument("accuracy: logits \(logits.shape) do not fit \(targets.count) targets")
    }
    guard !targets.isEmpty else { throw LearnError.invalidArgument("accuracy: empty batch") }
    var correct = 0
    logits.data.withUnsafeBufferPointer { x in
        for (r, t) in targets.enumerated() where Softmax.argmax(x.baseAddress! + r * classes, count: classes) == t {
            correct += 1
        }
    }
    return Float(correct) / Float(targets.count)
}

/// Mean cross-entropy of one batch (`CrossEntropyLossFlat`), classes on the last axis.
/// Used for metrics and tests; models compute their own loss with gradients.
public func crossEntropy(logits: Tensor, targets: [Int]) throws -> Float {
    guard let classes = logits.shape.last, classes > 0, logits.count == targets.count * classes, !targets.isEmpty else {
        throw LearnError.invalidArgument("cross_entropy: logits \(logits.shape) do not fit \(targets.count) targets")
    }
    var total = 0.0
    try logits.data.withUnsafeBufferPointer { x in
        for (r, t) in targets.enumerated() {
            guard t >= 0 && t < classes else {
                throw LearnError.invalidArgument("cross_entropy: target \(t) out of range 0..<\(classes)")
            }
            total += Softmax.crossEntropy(x.baseAddress! + r * classes, count: classes, target: t)
        }
    }
    return Float(total / Double(targets.count))
}

/// fastai's `AvgMetric` / `AvgLoss`: batch values weighted by the batch's number of rows.
public struct WeightedAverage: Sendable, Equatable, Codable {
    public private(set) var total: Double = 0
    public private(set) var count: Int = 0
    public init() {}
    /// Adds one batch value that covers `rows` rows.
    public mutating func add(_ value: Float, rows: Int) { total += Double(value) * Double(rows); count += rows }
    /// The weighted mean, nil when nothing was added.
    public var value: Double? { count == 0 ? nil : total / Double(count) }
}

/// fastai's `AvgSmoothLoss` (beta 0.98): an exponential moving average of the training loss with
/// debiasing, `v ← lerp(loss, v, β)`, shown as `v / (1 − β^count)`. Float32 like fastai's tensor.
public struct SmoothedLoss: Sendable, Equatable, Codable {
    public var beta: Double
    public private(set) var average: Float = 0
    public private(set) var count: Int = 0
    public init(beta: Double = 0.98) { self.beta = beta }
    /// Folds in one batch loss.
    public mutating func add(_ loss: Float) {
        count += 1
        // torch.lerp(loss, v, w) with w ≥ 0.5 evaluates v − (v − loss)·(1 − w) in float32.
        let w = Float(beta)
        if w >= 0.5 { average = average - (average - loss) * (1 - w) }
        else { average = loss + w * (average - loss) }
    }
    /// The debiased value (nil before the first batch); the bias correction is computed in double
    /// and applied to the float32 average, as fastai does.
    public var value: Float? {
        count == 0 ? nil : average / Float(1 - pow(beta, Double(count)))
    }
    /// Restores a saved state (checkpoint resume).
    public init(beta: Double, average: Float, count: Int) { self.beta = beta; self.average = average; self.count = count }
}
