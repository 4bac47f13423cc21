import Foundation
import Interop
import Models
import Tensor
import Text

/// fastai's `language_model_learner` result: the AWD-LSTM LM over LM loaders.
public typealias LanguageModelLearner = Learner<AWDLSTMLanguageModel, LMLearnerData>
/// fastai's `text_classifier_learner` result.
public typealias TextClassifierLearner = Learner<TextClassifierModel, ClassifierLearnerData>

/// Pretrained fastai weights to start a language model from (fastai's WT103 files:
/// `lstm_fwd.pth` + `itos_wt103.pkl`, or any `.pth` state dict with its vocabulary pickle).
public struct PretrainedWeights: Sendable {
    public var weights: URL
    public var vocab: URL
    public init(weights: URL, vocab: URL) { self.weights = weights; self.vocab = vocab }
}

/// The AWD-LSTM config as it is stored in checkpoints and bundles.
public struct ModelConfigRecord: Codable, Sendable, Equatable {
    public var embSize, hiddenSize, layers, padToken: Int
    public var outputP, hiddenP, inputP, embedP, weightP: Float
    public var tieWeights, outBias: Bool

    public init(_ c: AWDLSTMConfig) {
        embSize = c.embSize; hiddenSize = c.hiddenSize; layers = c.layers; padToken = c.padToken
        outputP = c.outputP; hiddenP = c.hiddenP; inputP = c.inputP; embedP = c.embedP; weightP = c.weightP
        tieWeights = c.tieWeights; outBias = c.outBias
    }

    public var config: AWDLSTMConfig {
        AWDLSTMConfig(embSize: embSize, hiddenSize: hiddenSize, layers: layers, padToken: padToken, outputP: outputP,
                      hiddenP: hiddenP, inputP: inputP, embedP: embedP, weightP: weightP,
                      tieWeights: tieWeights, outBias: outBias)
    }

    /// Same sizes (dropouts may differ: they do not change the weights' layout).
    public func sameArchitecture(_ o: ModelConfigRecord) -> Bool {
        embSize == o.embSize && hiddenSize == o.hiddenSize && layers == o.layers && tieWeights == o.tieWeights
            && outBias == o.outBias
    }
    public var summary: String { "AWD-LSTM emb \(embSize), hidden \(hiddenSize), \(layers) layers" }
}

/// fastai's `match_embeds`: rows of the new vocabulary copied from the old one by token (the
/// last occurrence wins, as a Python dict built from the list); unknown tokens get the mean row
/// (and the mean decoder bias). `0.encoder_dp.emb.weight` and `1.decoder.weight` follow.
public func matchEmbeds(_ weights: [String: Tensor], oldVocab: [String], newVocab: [String]) throws -> [String: Tensor] {
    guard let w = weights["0.encoder.weight"], w.rank == 2 else {
        throw LearnError.invalidArgument("match_embeds: weights have no 2-d '0.encoder.weight'")
    }
    let (oldV, E) = (w.shape[0], w.shape[1])
    var o2i: [String: Int] = [:]
    for (i, t) in oldVocab.enumerated() { o2i[t] = i }
    var mean = [Double](repeating: 0, count: E)
    for r in 0..<oldV { for k in 0..<E { mean[k] += Double(w.data[r * E + k]) } }
    let meanRow = mean.map { Float($0 / Double(max(oldV, 1))) }
    var out = [Float](repeating: 0, count: newVocab.count * E)
    let bias = weights["1.decoder.bias"]
    var newBias = [Float](repeating: 0, count: newVocab.count)
    let biasMean = bias.map { Float($0.data.reduce(0.0) { $0 + Double($1) } / Double(max($0.count, 1))) } ?? 0
    for (i, t) in newVocab.enumerated() {
        if let j = o2i[t] {
            // fastai indexes the old rows directly; a vocabulary longer than the matrix only fails
            // for a token that is actually needed (PyTorch raises an IndexError there).
            guard j < oldV else {
                throw LearnError.invalidArgument("match_embeds: '\(t)' has index \(j) in the old vocabulary but the embedding has \(oldV) rows")
            }
            for k in 0..<E { out[i * E + k] = w.data[j * E + k] }
            if let bias { newBias[i] = bias.data[j] }
        } else {
            for k in 0..<E { out[i * E + k] = meanRow[k] }
            newBias[i] = biasMean
        }
    }
    var res = weights
    let nw = Tensor(shape: [newVocab.count, E], data: out)
    res["0.encoder.weight"] = nw
    if res["0.encoder_dp.emb.weight"] != nil { res["0.encoder_dp.emb.weight"] = nw }
    res["1.decoder.weight"] = nw
    if bias != nil { res["1.decoder.bias"] = Tensor(shape: [newVocab.count], data: newBias) }
    return res
}

/// fastai's `language_model_learner(dls, AWD_LSTM, drop_mult, pretrained, metrics)`: AWD-LSTM LM
/// with `config` scaled by `dropMult`, split `awd_lstm_lm_split`, Adam (wd 0.01), moms
/// (0.8, 0.7, 0.8), AR/TAR (2, 1). With `pretrained` weights, they are matched onto the data's
/// vocabulary (`match_embeds`) and the learner is frozen, as fastai does; without, it starts
/// unfrozen.
public func languageModelLearner(dls: LMLearnerData, config: AWDLSTMConfig = .languageModel, dropMult: Float = 1,
                                 pretrained: PretrainedWeights? = nil, metrics: [Metric] = [.accuracy, .perplexity],
                                 seed: UInt64 = 0) throws -> LanguageModelLearner {
    try MemoryEstimate.ensureFits(.languageModel(config: config, vocabSize: dls.vocab.count, bs: dls.train.bs, bptt: dls.train.seqLen),
                                  what: "language_model_learner")
    let model = try AWDLSTMLanguageModel(config: config.scaled(dropMult: dropMult), vocabSize: dls.vocab.count, seed: seed)
    let learn = try Learner(model: model, data: dls, split: .awdLSTMLanguageModel(layers: config.layers),
                            metrics: metrics, hypers: GroupHypers(wd: 0.01))
    learn.moms = OneCycle.textMoms
    if let pretrained {
        let cp = try FastaiCheckpoint.load(pretrained.weights)
        let oldVocab = try FastaiVocab.load(pretrained.vocab)
        // fastai would index past the end only for the tokens it meets; a vocabulary that does
        // not list exactly one token per embedding row is the wrong file, so say so now.
        let rows = cp.model["0.encoder.weight"]?.shape.first ?? 0
        guard oldVocab.count == rows else {
            throw LearnError.checkpointMismatch("pretrained vocabulary \(pretrained.vocab.lastPathComponent) lists \(oldVocab.count) tokens but \(pretrained.weights.lastPathComponent) has \(rows) embedding rows")
        }
        var sd = try matchEmbeds(cp.model, oldVocab: oldVocab, newVocab: dls.vocab.items)
        if !config.tieWeights { sd.removeValue(forKey: "1.decoder.weight") }
        do { try model.load(stateDict: sd) } catch {
            throw LearnError.checkpointMismatch("pretrained weights \(pretrained.weights.lastPathComponent) do not fit \(ModelConfigRecord(config).summary): \(error)")
        }
        learn.freeze()
    }
    return learn
}

/// fastai's `text_classifier_learner(dls, AWD_LSTM, drop_mult, metrics)`: SentenceEncoder +
/// PoolingLinearClassifier, split `awd_lstm_clas_split`, Adam (wd 0.01), moms (0.8, 0.7, 0.8),
/// AR/TAR (2, 1). Starts unfrozen; `loadEncoder` freezes it as fastai does.
public func textClassifierLearner(dls: ClassifierLearnerData, config: AWDLSTMConfig = .classifier, dropMult: Float = 0.5,
                                  linFtrs: [Int] = [50], maxLen: Int? = nil, metrics: [Metric] = [.accuracy],
                                  seed: UInt64 = 0) throws -> TextClassifierLearner {
    try MemoryEstimate.ensureFits(.classifier(config: config, vocabSize: dls.vocab.count, classes: dls.labels.count,
                                              bs: dls.train.bs, bptt: dls.train.seqLen, linFtrs: linFtrs),
                                  what: "text_classifier_learner")
    let model = try TextClassifierModel(config: config.scaled(dropMult: dropMult), vocabSize: dls.vocab.count,
                                        classes: dls.labels.count, bptt: dls.train.seqLen, maxLen: maxLen,
                                        linFtrs: linFtrs, seed: seed)
    let learn = try Learner(model: model, data: dls, split: .awdLSTMClassifier(layers: config.layers),
                            metrics: metrics, hypers: GroupHypers(wd: 0.01))
    learn.moms = OneCycle.textMoms
    return learn
}
