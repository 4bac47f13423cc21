import Testing
@testable import Models
import Tensor

/// The classifier's encoder backward through kept chunk activations gives exactly the gradients
/// of recomputing each chunk from its entry state, whether every chunk fits the activation
/// budget, some do, or none does; and later batches see the same state and dropout masks.
@Test func keptChunkActivationsGiveTheGradientsOfRecomputation() throws {
    func model(budget: Int) throws -> TextClassifierModel {
        let m = try TextClassifierModel(config: AWDLSTMConfig(embSize: 6, hiddenSize: 10, layers: 3), vocabSize: 20,
                                        classes: 2, bptt: 3, maxLen: 40, linFtrs: [5], seed: 5)
        m.encoder.activationBudget = budget
        return m
    }
    // Four chunks of 3 columns (the last one short); the second row is padded in front, so the
    // first chunk runs on one row only. Then a batch of another shape, then the first again.
    let x1 = try TokenBatch(rows: [[2, 5, 6, 7, 8, 9, 10, 11, 12, 13, 4], [1, 1, 1, 1, 2, 5, 9, 4, 3, 7, 6]])
    let x2 = try TokenBatch(rows: [[2, 9, 8, 7, 6, 5], [2, 4, 4, 3, 1, 1], [2, 3, 3, 3, 3, 3]])

    // The size of one chunk's activations, for a budget that holds some chunks but not all.
    let probe = try model(budget: 1 << 30)
    _ = try probe.encoder.forward(x1, keepsActivations: true)
    #expect(probe.encoder.keptActivationCount == 3)   // all but the last chunk's, which the module holds
    let setBytes = probe.encoder.module.exchangeActivations(AWDLSTM.Activations()).bytes
    let budgets = [0, setBytes + setBytes / 2, 1 << 30]
    let counts = try budgets.map { b -> Int in
        let m = try model(budget: b)
        _ = try m.encoder.forward(x1, keepsActivations: true)
        return m.encoder.keptActivationCount
    }
    #expect(counts[0] == 0 && counts[1] > 0 && counts[1] < 3 && counts[2] == 3, "\(counts)")

    // Run alone the three agree bit for bit. Tests running in parallel can change how many
    // workers a weight-gradient sum is split over (WorkSplit), which reorders float32 additions,
    // so the check allows 1e-5 relative (floor: 1e-6 of the largest entry).
    func close(_ a: [Float], _ b: [Float]) -> Bool {
        let scale = max(a.map(abs).max() ?? 0, 1e-30)
        return a.count == b.count && zip(a, b).allSatisfy { abs($0 - $1) <= 1e-5 * max(abs($0), 0.1 * scale) }
    }
    let models = try budgets.map { try model(budget: $0) }
    for (x, y) in [(x1, [1, 0]), (x2, [0, 1, 1]), (x1, [0, 1])] {
        let losses = try models.map { try $0.lossAndBackward(x: x, y: y, arAlpha: 2, tarBeta: 1) }
        #expect(close(losses, [losses[0], losses[0], losses[0]]), "\(losses)")
    }
    for (i, p) in models[0].parameters.enumerated() {
        #expect(p.hasGrad, "\(p.name)")
        for m in models.dropFirst() { #expect(close(m.parameters[i].grad.data, p.grad.data), "\(p.name)") }
    }
    // A plain forward (validation) keeps nothing.
    _ = try models[2].forward(x1)
    #expect(models[2].encoder.keptActivationCount == 0)
}
