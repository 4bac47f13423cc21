/// Something that turns raw texts into token lists: the word tokenizer (rules + spaCy-style
/// splitting) or the subword one. The data pipeline only needs this much of it.
public protocol DocumentTokenizer: Sendable {
    /// Names the tokenizer, its version and settings. It is part of the tokenization cache
    /// key: change it whenever the output for the same text could change.
    var cacheIdentifier: String { get }

    /// Tokens of each text, in order (one list per text).
    func tokenize(_ texts: [String]) -> [[String]]
}

/// A `DocumentTokenizer` made from a closure.
///
/// ```swift
/// let tok = ClosureTokenizer(id: "whitespace-v1") { texts in texts.map { $0.split(separator: " ").map(String.init) } }
/// ```
public struct ClosureTokenizer: DocumentTokenizer {
    public let cacheIdentifier: String
    private let body: @Sendable ([String]) -> [[String]]

    public init(id: String, _ body: @escaping @Sendable ([String]) -> [[String]]) {
        cacheIdentifier = id
        self.body = body
    }

    public func tokenize(_ texts: [String]) -> [[String]] { body(texts) }
}

/// Progress of a (possibly cached) tokenization, reported after every chunk of documents.
public struct TokenizeProgress: Sendable, Equatable {
    /// Documents tokenized (or read from the cache) so far.
    public let done: Int
    public let total: Int
    /// True when the tokens came from the on-disk cache.
    public let fromCache: Bool
}
