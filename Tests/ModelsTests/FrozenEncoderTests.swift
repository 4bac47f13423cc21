import Testing
@testable import Models
import Tensor

/// With every encoder parameter frozen (the head-only stage of gradual unfreezing),
/// `lossAndBackward` skips the encoder's backward: the same loss and head gradients as with a
/// trainable encoder, no encoder gradient, and the next batch sees the same state and masks.
@Test func frozenEncoderSkipsItsBackwardWithTheSameResult() throws {
    func model() throws -> TextClassifierModel {
        try TextClassifierModel(config: AWDLSTMConfig(embSize: 6, hiddenSize: 10, layers: 2), vocabSize: 20, classes: 2,
                                bptt: 4, maxLen: 40, linFtrs: [5], seed: 3)
    }
    // Three chunks of 4 columns; the second row is padded in front (pad_first), so the first
    // chunk runs on one row only.
    let x1 = try TokenBatch(rows: [[2, 5, 6, 7, 8, 9, 10, 11, 12, 13], [1, 1, 1, 1, 2, 5, 9, 4, 3, 7]])
    let x2 = try TokenBatch(rows: [[2, 9, 8, 7, 6, 5], [2, 4, 4, 3, 1, 1]])
    let trainable = try model(), frozen = try model()
    for p in frozen.encoder.module.parameters { p.requiresGrad = false }
    for (x, y) in [(x1, [1, 0]), (x2, [0, 1])] {
        let a = try trainable.lossAndBackward(x: x, y: y, arAlpha: 2, tarBeta: 1)
        let b = try frozen.lossAndBackward(x: x, y: y, arAlpha: 2, tarBeta: 1)
        #expect(a == b)
    }
    for (p, q) in zip(trainable.head.parameters, frozen.head.parameters) {
        #expect(p.grad == q.grad, "\(p.name)")
    }
    #expect(trainable.encoder.module.parameters.allSatisfy { $0.hasGrad })
    #expect(frozen.encoder.module.parameters.allSatisfy { !$0.hasGrad })
}
