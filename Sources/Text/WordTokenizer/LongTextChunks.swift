import Foundation

/// Very long texts (a whole book on one line) tokenized piece by piece, so memory follows the
/// piece size instead of the text size, with exactly the tokens of the whole text.
///
/// The rules and spaCy look at a text through whitespace-delimited words, and only three
/// things look across a space: `replace_wrep` (a word repeated three or more times),
/// `rm_useless_spaces` (runs of spaces) and fastai's `fix_html` patterns with spaces
/// (` @.@ `, `<br />`). A cut is made only at a single ASCII space between two words of
/// lowercase ASCII letters that differ from each other and from the words beyond them, with no
/// letter three times in a row and a visible ASCII character on the far side of each: there none
/// of those rules can match across the cut, the case rules and `replace_rep` leave both words
/// alone, and spaCy splits at a single space without a token for it. Every piece after the first
/// drops the `xxbos` the `lowercase` rule puts in front of it.
///
///     let tkn = try FastaiTokenizer()
///     try tkn.tokenizeForDataset(hugeText, chunkBytes: 1 << 18) { tokens in write(tokens) }
public enum LongTextChunks {
    /// Byte offsets (into `text.utf8`) of the spaces where `text` is cut, about every
    /// `chunkBytes` bytes (later when no safe space is near; never, for a text without one).
    public static func cutPoints(_ text: String, chunkBytes: Int) -> [Int] {
        var copy = text
        copy.makeContiguousUTF8()
        return copy.utf8.withContiguousStorageIfAvailable { cutPoints($0, chunkBytes: chunkBytes) } ?? []
    }

    static func cutPoints(_ b: UnsafeBufferPointer<UInt8>, chunkBytes: Int) -> [Int] {
        var cuts: [Int] = []
        var start = 0
        let step = max(chunkBytes, 64)
        while b.count - start > step {
            var i = start + step
            while i < b.count - 1 && !isSafeCut(b, i) { i += 1 }
            guard i < b.count - 1 else { break }
            cuts.append(i)
            start = i + 1
        }
        return cuts
    }

    private static func isLower(_ c: UInt8) -> Bool { c >= 0x61 && c <= 0x7A }
    private static func isVisibleASCII(_ c: UInt8) -> Bool { c >= 0x21 && c <= 0x7E }

    /// Whether the space at `i` is a cut where no rule can see across (see the type's comment).
    static func isSafeCut(_ b: UnsafeBufferPointer<UInt8>, _ i: Int) -> Bool {
        guard b[i] == 0x20 else { return false }
        // w1 = b[j+1..<i], preceded by the space at j; w2 = b[i+1..<k], followed by the space at k.
        var j = i - 1
        while j >= 0 && isLower(b[j]) { j -= 1 }
        let len1 = i - 1 - j
        guard len1 >= 1, len1 <= 40, j >= 1, b[j] == 0x20, isVisibleASCII(b[j - 1]) else { return false }
        var k = i + 1
        while k < b.count && isLower(b[k]) { k += 1 }
        let len2 = k - i - 1
        guard len2 >= 1, len2 <= 40, k + 1 < b.count, b[k] == 0x20, isVisibleASCII(b[k + 1]) else { return false }
        func same(_ p: Int, _ q: Int, _ n: Int) -> Bool {
            guard p >= 0, q >= 0, p + n <= b.count, q + n <= b.count else { return false }
            for t in 0..<n where b[p + t] != b[q + t] { return false }
            return true
        }
        func tripled(_ from: Int, _ n: Int) -> Bool {
            guard n >= 3 else { return false }
            for t in from..<(from + n - 2) where b[t] == b[t + 1] && b[t] == b[t + 2] { return true }
            return false
        }
        let w1 = j + 1, w2 = i + 1
        if len1 == len2 && same(w1, w2, len1) { return false }                  // "the the": a repetition may run across
        if j - len1 >= 0 && same(j - len1, w1, len1) { return false }          // the word before ends like w1
        if same(k + 1, w2, len2) { return false }                               // the word after starts like w2
        if tripled(w1, len1) || tripled(w2, len2) { return false }             // replace_rep would rewrite it
        return true
    }
}

extension FastaiTokenizer {
    /// The dataset-path tokens of `text` (`tokenizeForDataset`), computed in pieces of about
    /// `chunkBytes` UTF-8 bytes and passed to `emit` in order; the concatenation equals
    /// `tokenizeForDataset(text)`.
    public func tokenizeForDataset(_ text: String, chunkBytes: Int, emit: ([String]) throws -> Void) rethrows {
        var whole = text
        whole.makeContiguousUTF8()
        let cuts = LongTextChunks.cutPoints(whole, chunkBytes: chunkBytes)
        guard !cuts.isEmpty else { try emit(tokenizeForDataset(whole)); return }
        let utf8 = whole.utf8
        var start = utf8.startIndex
        for (n, cut) in (cuts + [utf8.count]).enumerated() {
            let end = utf8.index(utf8.startIndex, offsetBy: cut)
            let piece = String(Substring(utf8[start..<end]))
            var tokens = tokenizeForDataset(piece)
            // Each piece gets its own xxbos from the lowercase rule; only the first keeps it.
            if n > 0, tokens.first == "xxbos" { tokens.removeFirst() }
            try emit(tokens)
            if end < utf8.endIndex { start = utf8.index(after: end) }
        }
    }
}
