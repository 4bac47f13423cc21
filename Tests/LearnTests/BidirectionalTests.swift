import Foundation
import Testing
@testable import Learn
import Models
import Tensor
import Text

/// A predictor that records what it is fed and always makes the next id one more than the last
/// one fed (so the order of the output shows the order the model saw).
private final class CountingPredictor: NextTokenPredictor {
    let vocabSize: Int
    var fed: [Int] = []
    init(vocabSize: Int) { self.vocabSize = vocabSize }
    func reset() { fed = [] }
    func nextLogits(feeding ids: [Int]) throws -> [Float] {
        fed += ids
        var logits = [Float](repeating: 0, count: vocabSize)
        logits[(fed.last! + 1) % vocabSize] = 50
        return logits
    }
}

/// A backward model is fed the prompt last token first and the result comes back in reading
/// order: what it generated (the text *before* the prompt) first, then the prompt.
@Test func backwardGenerationReadsThePromptReversedAndShowsReadingOrder() throws {
    let vocab = ["xxunk", "xxpad", "xxbos"] + (3..<12).map { "w\($0)" }
    let prompt = [2, 3, 4, 5]   // xxbos w3 w4 w5, in reading order
    let model = CountingPredictor(vocabSize: vocab.count)
    var rng = SeededGenerator(seed: 1)
    let back = try generate(model, prompt: prompt, vocab: vocab, unkIndex: 0,
                            options: GenerationOptions(nWords: 3, temperature: 0, backwards: true), using: &rng)
    // Fed reversed (xxbos last), then each generated id: 5 4 3 2 → 3 → 4 → (5 is generated, not fed).
    #expect(model.fed == [5, 4, 3, 2, 3, 4])
    // Generated 3, 4, 5 in the model's order; in reading order they come first, last one first.
    #expect(back.ids == [5, 4, 3, 2, 3, 4, 5])
    #expect(back.text == "w5 w4 w3 w3 w4 w5")
    let fwd = try generate(model, prompt: prompt, vocab: vocab, unkIndex: 0,
                           options: GenerationOptions(nWords: 2, temperature: 0), using: &rng)
    #expect(model.fed == [2, 3, 4, 5, 6])
    #expect(fwd.ids == [2, 3, 4, 5, 6, 7] && fwd.text == "w3 w4 w5 w6 w7")
}

/// Rule tokens are decoded after the text is back in reading order (`xxmaj` before its word).
@Test func backwardGenerationDecodesRuleTokensInReadingOrder() throws {
    let vocab = ["xxunk", "xxpad", "xxbos", "xxmaj", "movie", "good"]
    final class Fixed: NextTokenPredictor {
        var queue: [Int]
        init(_ q: [Int]) { queue = q }
        func reset() {}
        func nextLogits(feeding ids: [Int]) throws -> [Float] {
            var l = [Float](repeating: 0, count: 6); l[queue.removeFirst()] = 50; return l
        }
    }
    // The model writes "good", then "xxmaj" (which precedes "good" in reading order).
    var rng = SeededGenerator(seed: 1)
    let g = try generate(Fixed([5, 3]), prompt: [2, 4], vocab: vocab, unkIndex: 0,
                         options: GenerationOptions(nWords: 2, temperature: 0, backwards: true), using: &rng)
    #expect(g.ids == [3, 5, 2, 4])
    #expect(g.text == "Good movie")
}

private let small = AWDLSTMConfig(embSize: 6, hiddenSize: 10, layers: 2)
private let wsTokenizer = ClosureTokenizer(id: "ws") { $0.map { ["xxbos"] + $0.lowercased().split(separator: " ").map(String.init) } }

/// A forward and a backward classifier on the tiny dataset (one vocabulary), quiet.
private func twoClassifiers(_ root: URL) throws -> (TextClassifierLearner, TextClassifierLearner, LMDataLoaders) {
    let lmDls = try LMDataLoaders.fromFolder(root, tokenizer: wsTokenizer, bs: 2, seqLen: 5, minFreq: 1,
                                             options: TokenizeOptions(cacheDirectory: nil))
    func learner(_ backwards: Bool, seed: UInt64) throws -> TextClassifierLearner {
        var d = ClassifierLearnerData(try ClassifierDataLoaders(corpus: lmDls.corpus, vocab: lmDls.vocab, bs: 4, seqLen: 5,
                                                                backwards: backwards))
        d.path = root
        let l = try textClassifierLearner(dls: d, config: small, seed: seed)
        l.progress = nil; l.tableOutput = nil
        return l
    }
    return (try learner(false, seed: 1), try learner(true, seed: 2), lmDls)
}

/// A backward LM's encoder goes into a backward classifier, not into a forward one; the
/// direction survives save/load and export, and a backward classifier reads texts reversed.
@Test func backwardEncoderClassifierAndExport() throws {
    let root = try makeTinyDataset(docsPerClass: 4)
    defer { try? FileManager.default.removeItem(at: root) }
    let lmDls = try LMDataLoaders.fromFolder(root, tokenizer: wsTokenizer, bs: 2, seqLen: 5, minFreq: 1, backwards: true,
                                             options: TokenizeOptions(cacheDirectory: nil))
    var lmData = LMLearnerData(lmDls)
    lmData.path = root
    #expect(lmData.backwards)
    let lm = try languageModelLearner(dls: lmData, config: small)
    try lm.saveEncoder("enc-bwd")
    let (fwd, bwd, _) = try twoClassifiers(root)
    #expect { try fwd.loadEncoder("enc-bwd") } throws: { "\($0)".contains("reads backwards, this learner reads forwards") }
    try bwd.loadEncoder("enc-bwd")
    #expect(bwd.model.encoder.module.embedding.value == lm.model.encoder.embedding.value)
    try bwd.save("clas-bwd")
    #expect { try fwd.load("clas-bwd") } throws: { "\($0)".contains("reads backwards") }

    let text = "This movie was great"
    let ids = try promptIDs(text, vocab: bwd.data.vocab, tokenizer: TextTokenizerSettings())
    bwd.model.isTraining = false
    let logits = try bwd.model.forward(TokenBatch(batchSize: 1, seqLen: ids.count, ids: reverseText(ids)))
    let expected = Softmax.softmax(logits).data
    let direct = try classify(model: bwd.model, vocab: bwd.data.vocab, tokenizer: TextTokenizerSettings(),
                              labels: bwd.data.labels, text: text, backwards: true)
    #expect(direct.probabilities == expected)
    let bundle = root.appendingPathComponent("bundle")
    try bwd.export(to: bundle)
    let loaded = try loadLearner(from: bundle)
    #expect(try loaded.predict(text: text).probabilities == expected)
}

/// The ensemble averages each classifier's probabilities, every text read in each
/// classifier's own direction, whichever direction's data is given.
@Test func ensembleAveragesForwardAndBackwardProbabilities() throws {
    let root = try makeTinyDataset(docsPerClass: 6)
    defer { try? FileManager.default.removeItem(at: root) }
    let (fwd, bwd, _) = try twoClassifiers(root)
    try fwd.fitOneCycle(1, lrMax: .value(1e-2))
    try bwd.fitOneCycle(1, lrMax: .value(1e-2))
    let ens = try ClassifierEnsemble([fwd, bwd])
    let p = try ens.predictions()
    let n = fwd.data.valid.documents.count
    #expect(p.mean.shape == [n, 2] && p.members.count == 2 && p.targets == fwd.data.valid.labels)
    for i in 0..<(2 * n) {
        #expect(abs(p.mean.data[i] - (p.members[0].data[i] + p.members[1].data[i]) / 2) <= 1e-6)
    }
    // Each member alone agrees with its learner's own validation accuracy.
    #expect(abs(p.memberAccuracies[0] - (try fwd.validate().metrics[0])) < 1e-6)
    #expect(abs(p.memberAccuracies[1] - (try bwd.validate().metrics[0])) < 1e-6)
    // Data of the other direction gives the same numbers (the texts are reversed per classifier).
    let q = try ens.predictions(on: bwd.data)
    #expect(maxRelDiff(q.mean.data, p.mean.data) < 1e-5 && q.accuracy == p.accuracy)
    #expect(try ens.accuracy() == p.accuracy)
    // predict: the mean of the two learners' probabilities for one text.
    let text = "The actors were wonderful"
    let (label, probs) = try ens.predict(text: text)
    let a = try fwd.predict(text: text).probabilities, b = try bwd.predict(text: text).probabilities
    #expect(maxRelDiff(probs, zip(a, b).map { ($0 + $1) / 2 }) < 1e-6)
    #expect(label == fwd.data.labels[probs[1] > probs[0] ? 1 : 0])
}

/// Bad input: one classifier, another vocabulary, other classes, data of another vocabulary.
@Test func ensembleRejectsMismatchedClassifiers() throws {
    let root = try makeTinyDataset(docsPerClass: 4)
    defer { try? FileManager.default.removeItem(at: root) }
    let (fwd, bwd, lmDls) = try twoClassifiers(root)
    #expect { try ClassifierEnsemble([fwd]) } throws: { "\($0)" == "ensemble: needs at least two classifiers, got 1" }
    let fewer = Vocab(items: Array(lmDls.vocab.items.dropLast(8)))
    var d = ClassifierLearnerData(try ClassifierDataLoaders(corpus: lmDls.corpus, vocab: fewer, bs: 4, seqLen: 5))
    d.path = root
    let other = try textClassifierLearner(dls: d, config: small)
    #expect { try ClassifierEnsemble([fwd, other]) } throws: {
        "\($0)" == "ensemble: classifier 1 has another vocabulary (\(fewer.count) tokens) than classifier 0 (\(lmDls.vocab.count) tokens)"
    }
    let relabelled = ClassifierLearnerData(train: bwd.data.train, valid: bwd.data.valid, vocab: bwd.data.vocab,
                                           labels: ["bad", "good"], path: root, backwards: true)
    let relabelledLearner = try textClassifierLearner(dls: relabelled, config: small)
    #expect { try ClassifierEnsemble([fwd, relabelledLearner]) } throws: {
        "\($0)" == "ensemble: classifier 1 has the classes bad, good but classifier 0 has neg, pos"
    }
    let ens = try ClassifierEnsemble([fwd, bwd])
    #expect { try ens.predictions(on: d) } throws: { "\($0)".hasPrefix("ensemble: the data has another vocabulary") }
}
