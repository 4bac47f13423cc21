/// fastai's `Numericalize` transform: `setup` builds the vocabulary from tokenized documents,
/// then calling it turns tokens into ids.
///
/// ```swift
/// var num = Numericalize(minFreq: 3, maxVocab: 60000)
/// num.setup(toks200)          // counts every document, builds the vocab
/// let ids = num(toks200[0])   // [2, 19, 1930, …]
/// num.decode(ids)             // tokens again
/// ```
public struct Numericalize: Sendable {
    public var minFreq: Int
    public var maxVocab: Int
    /// The vocabulary (empty until `setup` or when given).
    public private(set) var vocab: Vocab
    /// The counter `setup` used (nil when the vocab was given).
    public private(set) var counter: TokenCounter?

    public init(minFreq: Int = 3, maxVocab: Int = 60000) {
        self.minFreq = minFreq
        self.maxVocab = maxVocab
        self.vocab = Vocab(items: [])
    }

    /// Uses an existing vocabulary (the classifier reuses the language model's).
    public init(vocab: Vocab) {
        self.minFreq = 3
        self.maxVocab = 60000
        self.vocab = Vocab(items: vocab.items)
    }

    /// Counts `documents` (in order) and builds the vocabulary from the counts.
    public mutating func setup(_ documents: [[String]]) {
        let c = TokenCounter(documents: documents)
        counter = c
        vocab = Vocab(counter: c, minFreq: minFreq, maxVocab: maxVocab)
    }

    /// Tokens → ids.
    public func callAsFunction(_ tokens: [String]) -> [Int] { vocab.encode(tokens) }

    /// Ids → tokens.
    public func decode<S: Sequence>(_ ids: S) -> [String] where S.Element: BinaryInteger {
        vocab.decode(ids)
    }
}
