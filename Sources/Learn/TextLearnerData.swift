import Foundation
import Models
import Tensor
import Text

/// How a text learner turns raw text into tokens; stored in exported bundles so predictions use
/// the training pipeline. `kind` is `word` (fastai rules + spaCy-style words) or `custom`
/// (tokens supplied by the caller's `DocumentTokenizer`; not reconstructible from a bundle).
public struct TextTokenizerSettings: Codable, Sendable, Equatable {
    public var kind: String
    /// Rule names in order (fastai's `defaults.text_proc_rules` by default).
    public var rules: [String]

    public init(kind: String = "word", rules: [String] = TextRule.defaults.map(\.name)) {
        self.kind = kind; self.rules = rules
    }

    /// The word tokenizer these settings describe (throws for unknown rules or kinds).
    public func makeTokenizer() throws -> WordDocumentTokenizer {
        guard kind == "word" else {
            throw LearnError.invalidArgument("tokenizer kind '\(kind)' cannot be rebuilt here (only 'word' can)")
        }
        return try WordDocumentTokenizer(ruleNames: rules)
    }
}

/// fastai's `Tokenizer(WordTokenizer())` as a `DocumentTokenizer` for the data pipeline: rules,
/// spaCy-style words, `replace_space` (the dataset path), two threads.
public final class WordDocumentTokenizer: DocumentTokenizer, @unchecked Sendable {
    // The FastaiTokenizer is not thread-safe; `tokenize` serialises callers (the dataset path
    // itself fans out to per-thread tokenizers).
    private let inner: FastaiTokenizer
    private let lock = NSLock()
    public let settings: TextTokenizerSettings

    /// The default fastai pipeline, or the rules named (in order).
    public init(ruleNames: [String] = TextRule.defaults.map(\.name)) throws {
        let known = Dictionary((TextRule.defaults + [TextRule.lowercase]).map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        let rules = try ruleNames.map { n -> TextRule in
            guard let r = known[n] else { throw LearnError.invalidArgument("unknown text rule '\(n)'") }
            return r
        }
        inner = FastaiTokenizer(rules: rules, words: try WordTokenizer())
        settings = TextTokenizerSettings(kind: "word", rules: ruleNames)
    }

    public var cacheIdentifier: String { "fastai-word-v1:" + settings.rules.joined(separator: ",") }

    public func tokenize(_ texts: [String]) -> [[String]] {
        lock.lock(); defer { lock.unlock() }
        return inner.tokenizeDataset(texts, threads: 2)
    }

    /// Tokens of one text as the dataset path produces them (used for prompts).
    public func tokens(_ text: String) -> [String] {
        lock.lock(); defer { lock.unlock() }
        return inner.tokenizeForDataset(text)
    }
}

/// One language-model batch for the learner.
public struct LMBatch: Sendable {
    public var x: TokenBatch
    public var y: TokenBatch
}

/// One classifier batch for the learner.
public struct ClassifierBatch: Sendable {
    public var x: TokenBatch
    public var y: [Int]
}

/// `LearnerData` over Text's language-model loaders, with what the learner needs besides batches:
/// the vocabulary, the tokenizer settings and the folder `models/` goes under.
public struct LMLearnerData: LearnerData {
    public let train: LMDataLoader
    public let valid: LMDataLoader
    public let vocab: Vocab
    public var tokenizer: TextTokenizerSettings
    /// Checkpoints go to `path/models/` (fastai's `learn.path`).
    public var path: URL
    /// The documents are reversed (fastai's `backwards=True`): prompts are read the same way.
    public var backwards: Bool

    public init(train: LMDataLoader, valid: LMDataLoader, vocab: Vocab,
                tokenizer: TextTokenizerSettings = TextTokenizerSettings(), path: URL, backwards: Bool = false) {
        self.train = train; self.valid = valid; self.vocab = vocab; self.tokenizer = tokenizer; self.path = path
        self.backwards = backwards
    }

    /// From `LMDataLoaders.fromFolder` (path = the dataset folder).
    public init(_ dls: LMDataLoaders, tokenizer: TextTokenizerSettings = TextTokenizerSettings()) {
        self.init(train: dls.train, valid: dls.valid, vocab: dls.vocab, tokenizer: tokenizer,
                  path: dls.corpus.dataset.path, backwards: dls.backwards)
    }

    public var trainBatchCount: Int { train.count }
    public var validBatchCount: Int { valid.count }
    public func trainBatches(epoch: Int) -> LazyMapSequence<LMEpoch, LMBatch> { Self.batches(train.epoch(epoch)) }
    public func validBatches() -> LazyMapSequence<LMEpoch, LMBatch> { Self.batches(valid.epoch(0)) }

    static func batches(_ e: LMEpoch) -> LazyMapSequence<LMEpoch, LMBatch> {
        e.lazy.map { LMBatch(x: $0.x, y: $0.y) }
    }
}

/// `LearnerData` over Text's classifier loaders (SortedDL), with vocabulary, labels and tokenizer.
public struct ClassifierLearnerData: LearnerData {
    public let train: SortedDataLoader
    public let valid: SortedDataLoader
    public let vocab: Vocab
    /// Class names; label id = position.
    public let labels: [String]
    public var tokenizer: TextTokenizerSettings
    public var path: URL
    /// The documents are reversed (fastai's `backwards=True`): texts to classify are read the same way.
    public var backwards: Bool

    public init(train: SortedDataLoader, valid: SortedDataLoader, vocab: Vocab, labels: [String],
                tokenizer: TextTokenizerSettings = TextTokenizerSettings(), path: URL, backwards: Bool = false) {
        self.train = train; self.valid = valid; self.vocab = vocab; self.labels = labels
        self.tokenizer = tokenizer; self.path = path; self.backwards = backwards
    }

    public init(_ dls: ClassifierDataLoaders, tokenizer: TextTokenizerSettings = TextTokenizerSettings()) {
        self.init(train: dls.train, valid: dls.valid, vocab: dls.vocab, labels: dls.labelVocab,
                  tokenizer: tokenizer, path: dls.corpus.dataset.path, backwards: dls.backwards)
    }

    public var trainBatchCount: Int { train.count }
    public var validBatchCount: Int { valid.count }
    public func trainBatches(epoch: Int) -> LazyMapSequence<ClassifierEpoch, ClassifierBatch> { Self.batches(train.epoch(epoch)) }
    public func validBatches() -> LazyMapSequence<ClassifierEpoch, ClassifierBatch> { Self.batches(valid.epoch(0)) }

    static func batches(_ e: ClassifierEpoch) -> LazyMapSequence<ClassifierEpoch, ClassifierBatch> {
        e.lazy.map { ClassifierBatch(x: $0.x, y: $0.y) }
    }
}

// MARK: models as TrainableModel

/// fastai TextLearner's AR/TAR coefficients.
public enum TextRegularization {
    public static let alpha: Float = 2
    public static let beta: Float = 1
}

extension AWDLSTMLanguageModel: TrainableModel {
    public typealias Batch = LMBatch

    /// CE + AR(α=2) + TAR(β=1) gradient, CE returned (fastai's RNNRegularizer on the LM).
    public func trainStep(_ batch: LMBatch) throws -> Float {
        try lossAndBackward(x: batch.x, y: batch.y, arAlpha: TextRegularization.alpha, tarBeta: TextRegularization.beta)
    }

    /// Loss and accuracy over all positions through the model's blocked loss (the one
    /// `lmlab bench lm` times), which never materialises the `[bs, sl, V]` logits.
    public func evaluate(_ batch: LMBatch) throws -> BatchEvaluation {
        let (loss, accuracy) = try lossAndAccuracy(x: batch.x, y: batch.y)
        return BatchEvaluation(loss: loss, rows: batch.x.batchSize, accuracy: accuracy)
    }
}

extension AWDLSTMLanguageModel: NextTokenPredictor {
    /// Feeds only the new ids on top of the carried eval-mode state.
    public func nextLogits(feeding ids: [Int]) throws -> [Float] { try nextTokenLogits(for: ids) }
}

extension TextClassifierModel: TrainableModel {
    public typealias Batch = ClassifierBatch

    public func trainStep(_ batch: ClassifierBatch) throws -> Float {
        try lossAndBackward(x: batch.x, y: batch.y, arAlpha: TextRegularization.alpha, tarBeta: TextRegularization.beta)
    }

    public func evaluate(_ batch: ClassifierBatch) throws -> BatchEvaluation {
        let logits = try forward(batch.x)
        let (loss, _) = try TextClassifierModel.crossEntropy(logits: logits, targets: batch.y)
        return BatchEvaluation(loss: loss, rows: batch.x.batchSize, logits: logits, targets: batch.y)
    }
}
