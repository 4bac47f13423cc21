import Foundation
import Text

/// What a language model scores if it learned nothing but word frequencies: every validation
/// target predicted with its share of the training targets (add-one smoothed over the vocabulary,
/// so a word never seen in training costs a finite amount), and the most frequent training word
/// guessed every time. A model that learned anything from context scores a lower loss and a
/// higher accuracy; the lessons check that their models do.
///
///     let base = UnigramBaseline(data)    // e.g. loss 5.2 nats (perplexity ≈ 180), accuracy 0.11
public struct UnigramBaseline: Sendable, Equatable {
    /// Mean cross-entropy, in nats, over every validation target.
    public let loss: Double
    /// Share of validation targets equal to the most frequent training target.
    public let accuracy: Double

    public init(_ data: LMLearnerData) {
        var counts = [Int](repeating: 0, count: data.vocab.count)
        var trained = 0
        for (_, y) in data.train.epoch(0) {
            for id in y.ids { counts[Int(id)] += 1 }
            trained += y.ids.count
        }
        let top = counts.indices.max { counts[$0] < counts[$1] } ?? 0
        let denominator = Double(trained + counts.count)
        var total = 0.0, hits = 0, n = 0
        for (_, y) in data.valid.epoch(0) {
            for id in y.ids {
                total -= Foundation.log(Double(counts[Int(id)] + 1) / denominator)
                if Int(id) == top { hits += 1 }
            }
            n += y.ids.count
        }
        loss = n == 0 ? .nan : total / Double(n)
        accuracy = n == 0 ? .nan : Double(hits) / Double(n)
    }
}
