import Foundation
import Tensor
@testable import Learn

/// One batch for the tiny model: features `[rows, F]` and a class per row.
struct TinyBatch {
    var x: [[Float]]
    var y: [Int]
}

/// Softmax regression on Parameters (`0.linear.weight [C, F]`, `0.linear.bias [C]`,
/// `1.head.weight [C, C]`): small enough to check by hand, with two groups for the splits.
final class TinyModel: TrainableModel {
    let weight: Parameter, bias: Parameter, head: Parameter
    var isTraining = false
    var resets = 0
    var trainCalls = 0
    /// Returns NaN from the training call with this index (0-based), for NaN-handling tests.
    var nanAtCall: Int?

    init(features: Int, classes: Int, seed: UInt64) {
        var rng = SeededGenerator(seed: seed)
        weight = Parameter("0.linear.weight", .uniform([classes, features], low: -0.1, high: 0.1, using: &rng))
        bias = Parameter("0.linear.bias", Tensor(shape: [classes]))
        var eye = Tensor(shape: [classes, classes])
        for c in 0..<classes { eye[c, c] = 1 }
        head = Parameter("1.head.weight", eye)
    }

    var parameters: [Parameter] { [weight, bias, head] }
    func reset() { resets += 1 }

    /// logits = head · (W x + b), per row.
    func forward(_ x: [Float]) -> (hidden: [Float], logits: [Float]) {
        let c = bias.shape[0], f = x.count
        var h = [Float](repeating: 0, count: c)
        for i in 0..<c {
            var s = bias.value.data[i]
            for j in 0..<f { s += weight.value.data[i * f + j] * x[j] }
            h[i] = s
        }
        var z = [Float](repeating: 0, count: c)
        for i in 0..<c { for j in 0..<c { z[i] += head.value.data[i * c + j] * h[j] } }
        return (h, z)
    }

    func trainStep(_ batch: TinyBatch) throws -> Float {
        defer { trainCalls += 1 }
        let c = bias.shape[0], f = weight.shape[1]
        var loss = 0.0
        let n = Float(batch.x.count)
        for (x, y) in zip(batch.x, batch.y) {
            let (h, z) = forward(x)
            let m = z.max()!
            let e = z.map { exp($0 - m) }
            let s = e.reduce(0, +)
            loss += Double(log(s) + m - z[y])
            var dz = e.map { $0 / s / n }
            dz[y] -= 1 / n
            var dh = [Float](repeating: 0, count: c)
            for i in 0..<c { for j in 0..<c { dh[j] += head.value.data[i * c + j] * dz[i] } }
            for p in parameters where p.requiresGrad { p.hasGrad = true }
            if head.requiresGrad { for i in 0..<c { for j in 0..<c { head.grad.data[i * c + j] += dz[i] * h[j] } } }
            if weight.requiresGrad { for i in 0..<c { for j in 0..<f { weight.grad.data[i * f + j] += dh[i] * x[j] } } }
            if bias.requiresGrad { for i in 0..<c { bias.grad.data[i] += dh[i] } }
        }
        if let k = nanAtCall, k == trainCalls { return .nan }
        return Float(loss / Double(batch.x.count))
    }

    func evaluate(_ batch: TinyBatch) throws -> BatchEvaluation {
        var logits: [Float] = []
        for x in batch.x { logits += forward(x).logits }
        let t = Tensor(shape: [batch.x.count, bias.shape[0]], data: logits)
        return BatchEvaluation(loss: try crossEntropy(logits: t, targets: batch.y), rows: batch.x.count,
                               logits: t, targets: batch.y)
    }
}

/// Two Gaussian-ish blobs per class on a line, deterministic; fixed batches.
struct TinyData: LearnerData {
    var train: [TinyBatch]
    var valid: [TinyBatch]
    var trainBatchCount: Int { train.count }
    var validBatchCount: Int { valid.count }
    func trainBatches(epoch: Int) -> [TinyBatch] { train }
    func validBatches() -> [TinyBatch] { valid }

    static func make(classes: Int = 3, features: Int = 4, trainBatches: Int = 6, validBatches: Int = 2,
                     bs: Int = 8, seed: UInt64 = 1) -> TinyData {
        var rng = SeededGenerator(seed: seed)
        func batch() -> TinyBatch {
            var b = TinyBatch(x: [], y: [])
            for _ in 0..<bs {
                let y = Int(rng.next() % UInt64(classes))
                var x = [Float](repeating: 0, count: features)
                for j in 0..<features { x[j] = 0.5 * rng.nextNormal() + (j % classes == y ? 2 : 0) }
                b.x.append(x); b.y.append(y)
            }
            return b
        }
        return TinyData(train: (0..<trainBatches).map { _ in batch() }, valid: (0..<validBatches).map { _ in batch() })
    }
}

/// A learner on the tiny model with quiet output and a fake clock (+1 s per reading).
func tinyLearner(seed: UInt64 = 3, data: TinyData = .make()) throws -> Learner<TinyModel, TinyData> {
    let model = TinyModel(features: data.train[0].x[0].count, classes: 3, seed: seed)
    let learn = try Learner(model: model, data: data,
                            split: ParameterSplit(groupPatterns: [["0.*"], ["1.*"]]),
                            metrics: [.accuracy, .perplexity])
    learn.progress = nil
    learn.tableOutput = nil
    var t = 0.0
    learn.clock = { t += 1; return t }
    return learn
}
