/// A vocabulary: the list of tokens whose positions are the ids the model sees, built as
/// fastai's `make_vocab` builds it (see `init(counter:minFreq:maxVocab:specials:)`).
///
/// ```swift
/// let vocab = Vocab(counter: TokenCounter(documents: docs), minFreq: 3)
/// vocab.encode(["xxbos", "the", "zyzzyva"])   // [2, 9, 0]
/// vocab.decode([2, 9, 0])                      // ["xxbos", "the", "xxunk"]
/// ```
public struct Vocab: Sendable, Equatable {
    /// Every entry in id order, `xxfake` fillers included (the embedding has `count` rows).
    public let items: [String]
    private let o2i: [String: Int]

    /// fastai's `make_vocab`:
    /// 1. the `maxVocab` most common tokens (count descending, ties in first-seen order),
    /// 2. keep those counted at least `minFreq` times,
    /// 3. the specials first in their fixed order, removed from wherever else they were,
    /// 4. cut to `maxVocab`,
    /// 5. append `8 − count % 8` copies of `xxfake` (always 1…8, so 60,000 → 60,008).
    /// Lookups map every entry except `xxfake` to its index; anything else encodes to 0.
    public init(counter: TokenCounter, minFreq: Int = 3, maxVocab: Int = 60000,
                specials: [String] = SpecialTokens.all) {
        let cand = counter.mostCommon(maxVocab).filter { $0.count >= minFreq }.map(\.token)
        let specialSet = Set(specials)
        var list = specials + cand.filter { !specialSet.contains($0) }
        if list.count > max(0, maxVocab) { list.removeLast(list.count - max(0, maxVocab)) }
        let k = 8 - list.count % 8
        list += Array(repeating: SpecialTokens.fake, count: k)
        items = list
        var map: [String: Int] = [:]
        for (i, t) in list.enumerated() where t != SpecialTokens.fake { map[t] = i }
        o2i = map
    }

    /// A vocabulary given as a list (fastai's `Numericalize(vocab=…)`): every entry maps to its
    /// index, duplicates to the last one (only `xxfake` is ever duplicated); unknown → 0.
    public init(items: [String]) {
        self.items = items
        var map: [String: Int] = [:]
        for (i, t) in items.enumerated() { map[t] = i }
        o2i = map
    }

    /// Number of entries, fillers included.
    public var count: Int { items.count }

    /// The token with id `id` (`"xxunk"` for an id outside the vocabulary).
    public subscript(id: Int) -> String {
        items.indices.contains(id) ? items[id] : SpecialTokens.unk
    }

    /// The id of `token`; 0 (`xxunk`) when it is not in the vocabulary.
    public func id(of token: String) -> Int { o2i[token] ?? SpecialTokens.unkID }

    /// Whether `token` has an id of its own.
    public func contains(_ token: String) -> Bool { o2i[token] != nil }

    /// Tokens → ids (unknown → 0).
    public func encode(_ tokens: [String]) -> [Int] { tokens.map { id(of: $0) } }

    /// Tokens → compact ids for the loaders (unknown → 0).
    public func encodeInt32(_ tokens: [String]) -> [Int32] { tokens.map { Int32(truncatingIfNeeded: id(of: $0)) } }

    /// Ids → tokens, `vocab[id]` with no special handling (`xxfake` decodes as itself).
    public func decode<S: Sequence>(_ ids: S) -> [String] where S.Element: BinaryInteger {
        ids.map { self[Int($0)] }
    }

    public static func == (a: Vocab, b: Vocab) -> Bool { a.items == b.items }
}
