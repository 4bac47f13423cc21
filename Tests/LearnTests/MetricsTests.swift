import Foundation
import Testing
import Tensor
import TestSupport
@testable import Learn

@Suite struct MetricsTests {
    /// metrics.json/.safetensors: per-batch loss and accuracy, row-weighted epoch values,
    /// perplexity = exp(valid_loss), smoothed train loss, classifier accuracy / error rate.
    @Test func metricsMatchFixture() throws {
        let meta = try Fixtures.json("model/metrics.json") as! [String: Any]
        let st = try TestSafeTensors("model/metrics.safetensors")
        let batches = meta["batches"] as! [[String: Any]]
        var loss = WeightedAverage(), acc = WeightedAverage(), smooth = SmoothedLoss()
        for (b, info) in batches.enumerated() {
            let logits = try st.tensor("batch\(b).logits")
            let targets = try st.ints("batch\(b).targets")
            let l = try crossEntropy(logits: logits, targets: targets.values)
            let a = try accuracy(logits: logits, targets: targets.values)
            // rel 1e-6: mean of ≤ 20 float32 log-sum-exps, accumulated in double here.
            #expect(abs(l - Float(info["loss"] as! Double)) / l < 1e-6)
            #expect(a == Float(info["accuracy"] as! Double))
            let rows = targets.shape[0]
            #expect(rows == info["bs"] as! Int)
            loss.add(l, rows: rows); acc.add(a, rows: rows); smooth.add(l)
        }
        let epoch = meta["epoch"] as! [String: Double]
        #expect(abs(loss.value! - epoch["valid_loss"]!) / epoch["valid_loss"]! < 1e-6)
        #expect(abs(acc.value! - epoch["accuracy"]!) < 1e-7)   // float32 fixture value
        #expect(abs(exp(loss.value!) - epoch["perplexity"]!) / epoch["perplexity"]! < 1e-6)
        #expect(abs(Double(smooth.value!) - epoch["smooth_train_loss"]!) / epoch["smooth_train_loss"]! < 1e-6)

        let clasLogits = try st.tensor("clas.logits"), clasT = try st.ints("clas.targets").values
        let ca = try accuracy(logits: clasLogits, targets: clasT)
        #expect(abs(Double(ca) - (meta["clas_accuracy"] as! Double)) < 1e-7)
        #expect(abs(Double(1 - ca) - (meta["clas_error_rate"] as! Double)) < 1e-7)
    }

    @Test func badShapesAreErrors() {
        #expect(throws: LearnError.self) { try accuracy(logits: Tensor(shape: [2, 3]), targets: [0]) }
        #expect(throws: LearnError.self) { try crossEntropy(logits: Tensor(shape: [1, 3]), targets: [5]) }
    }
}

@Suite struct EvaluationTests {
    @Test func accuracyFromValueOrLogits() throws {
        #expect(try BatchEvaluation(loss: 1, rows: 2, accuracy: 0.5).batchAccuracy() == 0.5)
        let ev = BatchEvaluation(loss: 1, rows: 2, logits: Tensor(shape: [2, 2], data: [0, 1, 1, 0]), targets: [1, 1])
        #expect(try ev.batchAccuracy() == 0.5)
    }
}
