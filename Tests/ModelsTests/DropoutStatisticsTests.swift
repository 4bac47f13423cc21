import Foundation
import Testing
import Tensor
import Models

/// fastai's dropout semantics (fixture README section 2, "Dropout semantics"), checked by
/// statistics over many masks of real training-mode forward calls, with different p for every
/// dropout so a mask cannot pass for another:
/// - every mask entry is 0 or exactly `1/(1−p)` (kept entries rescaled), and the kept share is
///   `1−p` within 4.5 binomial standard deviations (a false failure about once in 300,000 runs);
/// - the embedding mask has one entry per vocabulary word per call (every occurrence of a word in
///   the batch gets the same factor), the RNN masks one per row and feature for all time steps;
/// - a new mask every call, independent of the last: the share dropped in two consecutive calls
///   is p² within the same bound;
/// - weight dropout masks `weight_hh` only, `[4H, H]`; the input weights and biases are used as
///   they are (InspectionTests recomputes every gate from the raw `weight_ih` and the masked
///   `weight_hh`).
@Suite struct DropoutStatisticsTests {
    static let config = AWDLSTMConfig(embSize: 8, hiddenSize: 16, layers: 2, outputP: 0.1, hiddenP: 0.15,
                                      inputP: 0.25, embedP: 0.3, weightP: 0.2)
    static let vocab = 50
    static let calls = 300

    /// Kept share of `values` (each 0 or 1/(1−p)) is 1−p within 4.5σ; every value is one of the two.
    func expectMaskStatistics(_ values: [Float], p: Float, _ what: String) {
        let scale = 1 / (1 - p)
        #expect(values.allSatisfy { $0 == 0 || $0 == scale }, "\(what): entries other than 0 and \(scale)")
        let n = Double(values.count), kept = Double(values.filter { $0 != 0 }.count)
        let q = 1 - Double(p), sigma = (q * (1 - q) / n).squareRoot()
        #expect(abs(kept / n - q) <= 4.5 * sigma, "\(what): kept share \(kept / n), want \(q) ± \(4.5 * sigma)")
    }

    /// Share of positions dropped in both of two consecutive masks: p² for independent draws.
    func expectIndependent(_ masks: [[Float]], p: Float, _ what: String) {
        var both = 0.0, n = 0.0
        for (a, b) in zip(masks, masks.dropFirst()) {
            for (x, y) in zip(a, b) { if x == 0 && y == 0 { both += 1 }; n += 1 }
        }
        let q = Double(p) * Double(p), sigma = (q * (1 - q) / n).squareRoot()
        #expect(abs(both / n - q) <= 4.5 * sigma, "\(what): dropped twice \(both / n), want \(q) ± \(4.5 * sigma)")
    }

    @Test func masksFollowFastaiStatistics() throws {
        let c = Self.config
        let lm = try AWDLSTMLanguageModel(config: c, vocabSize: Self.vocab, seed: 11)
        lm.isTraining = true
        // Every word occurs several times, in several rows.
        var rng = SeededGenerator(seed: 5)
        let (bs, T) = (4, 12)
        var emb: [[Float]] = [], inp: [[Float]] = [], hid: [[Float]] = [], out: [[Float]] = []
        var weight: [[[Float]]] = [[], []]
        for _ in 0..<Self.calls {
            let x = try TokenBatch(rows: (0..<bs).map { _ in (0..<T).map { _ in Int(rng.next() % UInt64(Self.vocab)) } })
            lm.reset()
            _ = try lm.forward(x)
            let m = lm.lastDropoutMasks
            let e = try #require(m.embedding)
            #expect(e.shape == [Self.vocab])
            // One factor per word: every occurrence of a word is scaled by its row's mask entry.
            let w = lm.encoder.embedding.value, embedded = lm.encoder.embeddingOutput
            for b in 0..<bs { for t in 0..<T { for k in 0..<c.embSize where embedded[b, t, k] != w[x[b, t], k] * e[x[b, t]] {
                Issue.record("embedding output [\(b), \(t), \(k)] is not its word's row times the word's mask")
            } } }
            emb.append(e.data)
            let i = try #require(m.input), o = try #require(m.output), h = try #require(m.hidden[0])
            #expect(i.shape == [bs, c.embSize] && o.shape == [bs, c.embSize] && h.shape == [bs, c.hiddenSize])
            inp.append(i.data); out.append(o.data); hid.append(h.data)
            for l in 0..<2 {
                let wm = try #require(m.weight[l])
                let H = lm.encoder.layers[l].hiddenSize
                #expect(wm.shape == [4 * H, H], "weight_hh mask of layer \(l)")
                weight[l].append(wm.data)
            }
        }
        for (name, masks, p) in [("embedding", emb, c.embedP), ("input", inp, c.inputP), ("hidden", hid, c.hiddenP),
                                 ("output", out, c.outputP), ("weight[0]", weight[0], c.weightP),
                                 ("weight[1]", weight[1], c.weightP)] {
            expectMaskStatistics(masks.flatMap { $0 }, p: p, name)
            expectIndependent(masks, p: p, name)
        }
        // The weights themselves are untouched by dropout: raw weight_hh, weight_ih and biases
        // are the parameters, and the masked copy exists only inside the call.
        let fresh = try AWDLSTMLanguageModel(config: c, vocabSize: Self.vocab, seed: 11)
        for (a, b) in zip(lm.parameters, fresh.parameters) { #expect(a.value == b.value, "\(a.name) changed by forward calls") }
    }

    /// drop_mult scales every `_p` entry (fastai: each config key ending in `_p`).
    @Test func dropMultScalesEveryProbability() {
        let s = AWDLSTMConfig.classifier.scaled(dropMult: 0.5)
        #expect([s.outputP, s.hiddenP, s.inputP, s.embedP, s.weightP] == [0.2, 0.15, 0.2, 0.025, 0.25])
    }
}
