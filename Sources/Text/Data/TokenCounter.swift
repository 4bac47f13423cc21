/// A token counter that remembers the order in which each token was first seen, like
/// Python's `collections.Counter` (a dict). That order breaks ties in `make_vocab`.
///
/// ```swift
/// var counter = TokenCounter()
/// counter.add(["xxbos", "b", "a", "b"])
/// counter.entries   // [("xxbos", 1), ("b", 2), ("a", 1)]
/// ```
public struct TokenCounter: Sendable, Equatable {
    /// Tokens in first-occurrence order.
    public private(set) var tokens: [String] = []
    /// Count of each token, parallel to `tokens`.
    public private(set) var counts: [Int] = []
    private var index: [String: Int] = [:]

    public init() {}

    /// A counter over `documents`, counted in order (documents in order, tokens in reading order).
    public init<S: Sequence>(documents: S) where S.Element == [String] {
        for doc in documents { add(doc) }
    }

    /// A counter from explicit `(token, count)` pairs, kept in the given order
    /// (repeated tokens add up).
    public init(entries: [(String, Int)]) {
        for (token, n) in entries { add(token, count: n) }
    }

    /// Counts every token of one document.
    public mutating func add(_ document: [String]) {
        for token in document { add(token, count: 1) }
    }

    /// Adds `count` occurrences of `token`.
    public mutating func add(_ token: String, count: Int) {
        if let i = index[token] {
            counts[i] += count
        } else {
            index[token] = tokens.count
            tokens.append(token)
            counts.append(count)
        }
    }

    /// How many times `token` was counted (0 if never).
    public subscript(token: String) -> Int { index[token].map { counts[$0] } ?? 0 }

    /// Number of distinct tokens.
    public var count: Int { tokens.count }

    /// `(token, count)` pairs in first-occurrence order.
    public var entries: [(token: String, count: Int)] {
        zip(tokens, counts).map { (token: $0, count: $1) }
    }

    /// The `n` most frequent tokens, by count descending; equal counts keep first-occurrence
    /// order (Python's `Counter.most_common`, a stable sort).
    public func mostCommon(_ n: Int? = nil) -> [(token: String, count: Int)] {
        let order = counts.indices.sorted { a, b in
            counts[a] != counts[b] ? counts[a] > counts[b] : a < b
        }
        let k = n.map { max(0, min($0, order.count)) } ?? order.count
        return order.prefix(k).map { (token: tokens[$0], count: counts[$0]) }
    }

    public static func == (a: TokenCounter, b: TokenCounter) -> Bool {
        a.tokens == b.tokens && a.counts == b.counts
    }
}
