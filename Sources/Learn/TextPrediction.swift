import Foundation
import Files
import Interop
import Models
import Tensor
import Text

/// Word tokenizers are costly to build (spaCy tables): one per rule list, shared.
enum TokenizerCache {
    nonisolated(unsafe) private static var cache: [String: WordDocumentTokenizer] = [:]
    private static let lock = NSLock()
    static func tokenizer(for s: TextTokenizerSettings) throws -> WordDocumentTokenizer {
        lock.lock(); defer { lock.unlock() }
        let key = s.kind + ":" + s.rules.joined(separator: ",")
        if let t = cache[key] { return t }
        let t = try s.makeTokenizer()
        cache[key] = t
        return t
    }
}

/// Prompt text → ids as fastai's predict: the training tokenizer (which starts with `xxbos`),
/// numericalized with `vocab`.
func promptIDs(_ text: String, vocab: Vocab, tokenizer: TextTokenizerSettings) throws -> [Int] {
    var toks = try TokenizerCache.tokenizer(for: tokenizer).tokens(text)
    if toks.first != "xxbos" { toks.insert("xxbos", at: 0) }
    return vocab.encode(toks)
}

/// fastai's `LMLearner.predict` on a language model: tokenize, then `generate` with the carried
/// eval-mode state (each step feeds only the new token). A `backwards` model is fed the prompt
/// reversed (`xxbos` last, as fastai's `reverse_text` leaves it) and the text comes back in
/// reading order, the generated words before the prompt.
public func predictText(model: AWDLSTMLanguageModel, vocab: Vocab, tokenizer: TextTokenizerSettings, text: String,
                        nWords: Int, temperature: Double, noUnk: Bool = true, minP: Float? = nil,
                        decoding: SpecTokenDecoding = .corrected, seed: UInt64,
                        rerunPrefix: Bool = false, backwards: Bool = false) throws -> Generation {
    guard vocab.count == model.vocabSize else {
        throw LearnError.invalidArgument("predict: vocabulary of \(vocab.count) tokens for a model of \(model.vocabSize)")
    }
    let ids = try promptIDs(text, vocab: vocab, tokenizer: tokenizer)
    let was = model.isTraining
    model.isTraining = false
    defer { model.isTraining = was; model.reset() }
    var rng = SeededGenerator(seed: seed)
    let predictor: NextTokenPredictor = rerunPrefix ? RerunPrefixPredictor(model) : model
    return try generate(predictor, prompt: ids, vocab: vocab.items, unkIndex: SpecialTokens.unkID,
                        options: GenerationOptions(nWords: nWords, noUnk: noUnk, temperature: temperature, minP: minP,
                                                   decoding: decoding, backwards: backwards),
                        using: &rng)
}

/// fastai's literal predict loop: reset and re-run the whole sequence for every new token
/// (O(n²); kept to measure and check the carried-state path against).
public final class RerunPrefixPredictor: NextTokenPredictor {
    let model: AWDLSTMLanguageModel
    private var sequence: [Int] = []
    public init(_ model: AWDLSTMLanguageModel) { self.model = model }
    public func reset() { sequence = []; model.reset() }
    public func nextLogits(feeding ids: [Int]) throws -> [Float] {
        sequence += ids
        model.reset()
        return try model.nextTokenLogits(for: sequence)
    }
}

/// Class probabilities for one text (softmax of the classifier's logits, eval mode); a
/// `backwards` classifier reads the text's ids reversed, as it was trained.
public func classify(model: TextClassifierModel, vocab: Vocab, tokenizer: TextTokenizerSettings, labels: [String],
                     text: String, backwards: Bool = false) throws -> (label: String, probabilities: [Float]) {
    guard labels.count == model.classes else {
        throw LearnError.invalidArgument("predict: \(labels.count) labels for a model of \(model.classes) classes")
    }
    let forward = try promptIDs(text, vocab: vocab, tokenizer: tokenizer)
    let ids = backwards ? reverseText(forward) : forward
    let was = model.isTraining
    model.isTraining = false
    defer { model.isTraining = was }
    let logits = try model.forward(TokenBatch(batchSize: 1, seqLen: ids.count, ids: ids))
    let probs = Softmax.softmax(logits.data)
    return (labels[probs.withUnsafeBufferPointer { Softmax.argmax($0.baseAddress!, count: $0.count) }], probs)
}

extension Learner where Model == AWDLSTMLanguageModel, Data == LMLearnerData {
    /// fastai `learn.predict(text, n_words, temperature=…)`: the prompt tokenized with the
    /// training rules (xxbos first), `xxunk` never sampled, spec tokens decoded, tokens joined by
    /// spaces. Deterministic for a given `seed`.
    public func predict(text: String, nWords: Int = 1, temperature: Double = 1, seed: UInt64 = 42,
                        noUnk: Bool = true, minP: Float? = nil) throws -> Generation {
        try predictText(model: model, vocab: data.vocab, tokenizer: data.tokenizer, text: text, nWords: nWords,
                        temperature: temperature, noUnk: noUnk, minP: minP, seed: seed, backwards: data.backwards)
    }
}

extension Learner where Model == TextClassifierModel, Data == ClassifierLearnerData {
    /// fastai `learn.predict(text)` for a classifier: the label and the class probabilities.
    public func predict(text: String) throws -> (label: String, probabilities: [Float]) {
        try classify(model: model, vocab: data.vocab, tokenizer: data.tokenizer, labels: data.labels, text: text,
                     backwards: data.backwards)
    }
}

// MARK: export / load_learner

/// The JSON of an exported learner bundle (`learner.json` beside `weights.safetensors`).
public struct LearnerBundleInfo: Codable, Sendable {
    public var format = "lmlab-learner-bundle"
    public var version = 1
    public var model: SavedModelDescription
    public var vocab: [String]
    public var tokenizer: TextTokenizerSettings
    /// Category names (classifiers).
    public var labels: [String]?
    public var bptt: Int?
    public var maxLen: Int?
    public var linFtrs: [Int]?
    public var crc32: UInt32
}

/// A learner loaded from an exported bundle, for predictions (fastai's `load_learner`).
public enum LoadedLearner {
    case languageModel(AWDLSTMLanguageModel, vocab: Vocab, tokenizer: TextTokenizerSettings, backwards: Bool)
    case classifier(TextClassifierModel, vocab: Vocab, tokenizer: TextTokenizerSettings, labels: [String], backwards: Bool)

    /// Text generation (language models only).
    public func predict(text: String, nWords: Int, temperature: Double = 1, seed: UInt64 = 42) throws -> Generation {
        guard case let .languageModel(m, vocab, tok, backwards) = self else {
            throw LearnError.invalidArgument("predict(text:nWords:): this bundle is a classifier")
        }
        return try predictText(model: m, vocab: vocab, tokenizer: tok, text: text, nWords: nWords,
                               temperature: temperature, seed: seed, backwards: backwards)
    }

    /// Classification (classifiers only).
    public func predict(text: String) throws -> (label: String, probabilities: [Float]) {
        guard case let .classifier(m, vocab, tok, labels, backwards) = self else {
            throw LearnError.invalidArgument("predict(text:): this bundle is a language model")
        }
        return try classify(model: m, vocab: vocab, tokenizer: tok, labels: labels, text: text, backwards: backwards)
    }
}

extension Learner where Model: SavableModel, Data: TextLearnerDataProtocol {
    /// fastai `learn.export()`: one directory with `weights.safetensors` (state dict, BatchNorm
    /// buffers included) and `learner.json` (vocabulary, tokenizer settings, model config,
    /// labels). No optimizer state. Refuses a filesystem root, and files in the folder that an
    /// export did not write, unless `overwrite` (see `WritePaths.checkExportFolder`).
    public func export(to directory: URL, overwrite: Bool = false) throws {
        try WritePaths.checkExportFolder(directory, files: ["learner.json", "weights.safetensors"], overwrite: overwrite) { json in
            (try? JSONDecoder().decode(LearnerBundleInfo.self, from: json))?.format == "lmlab-learner-bundle"
        }
        try WritePaths.createFolder(directory)
        var info = LearnerBundleInfo(model: describeModel(), vocab: data.vocab.items, tokenizer: data.tokenizer, crc32: 0)
        info.labels = data.exportLabels
        model.addBundleFields(to: &info)
        let sd = model.stateDict()
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .prettyPrinted]
        try AtomicFilePair.write(data: SafeTensors(floats: sd).serialized(), to: directory.appendingPathComponent("weights.safetensors"),
                                 header: { crc in info.crc32 = crc; return try e.encode(info) },
                                 to: directory.appendingPathComponent("learner.json"))
    }
}

/// fastai `load_learner`: rebuilds the model of an exported bundle, in eval mode.
public func loadLearner(from directory: URL) throws -> LoadedLearner {
    let json = directory.appendingPathComponent("learner.json"), st = directory.appendingPathComponent("weights.safetensors")
    let info: LearnerBundleInfo
    do { info = try JSONDecoder().decode(LearnerBundleInfo.self, from: Data(contentsOf: json)) } catch {
        throw LearnError.invalidArgument("\(json.path): not an LMLab learner bundle")
    }
    guard info.format == "lmlab-learner-bundle" else { throw LearnError.invalidArgument("\(json.path): unknown format \(info.format)") }
    let verified: URL
    do { verified = try AtomicFilePair.verifiedDataFile(st, crc32: info.crc32) } catch {
        throw LearnError.checkpointMismatch("\(st.lastPathComponent) is damaged or truncated (\(error))")
    }
    guard info.vocab.count == info.model.vocabSize else {
        throw LearnError.checkpointMismatch("\(json.lastPathComponent): \(info.vocab.count) vocabulary tokens for a model of \(info.model.vocabSize)")
    }
    let sd = try SafeTensors(contentsOf: verified).floats
    let vocab = Vocab(items: info.vocab)
    switch info.model.kind {
    case "language_model":
        let m = try AWDLSTMLanguageModel(config: info.model.config.config, vocabSize: info.model.vocabSize)
        try m.load(stateDict: sd, source: st.lastPathComponent)
        m.isTraining = false
        return .languageModel(m, vocab: vocab, tokenizer: info.tokenizer, backwards: info.model.backwards ?? false)
    case "classifier":
        guard let labels = info.labels else { throw LearnError.checkpointMismatch("\(json.lastPathComponent): classifier without labels") }
        let m = try TextClassifierModel(config: info.model.config.config, vocabSize: info.model.vocabSize,
                                        classes: labels.count, bptt: info.bptt ?? 72, maxLen: info.maxLen,
                                        linFtrs: info.linFtrs ?? [50])
        try m.load(stateDict: sd, source: st.lastPathComponent)
        m.isTraining = false
        return .classifier(m, vocab: vocab, tokenizer: info.tokenizer, labels: labels, backwards: info.model.backwards ?? false)
    default:
        throw LearnError.checkpointMismatch("\(json.lastPathComponent): unknown model kind '\(info.model.kind)'")
    }
}
