/// spaCy's English tokenizer (`spacy.blank('en')`, fastai's `WordTokenizer`) reproduced from
/// spaCy's exported tables: whitespace splitting, special cases, prefix/suffix/infix splitting,
/// URL matching and the final special-case matcher pass.
///
///     let words = try WordTokenizer()
///     words.tokenize("Don't panic :)")   // ["Do", "n't", "panic", ":)"]
///
/// Like spaCy it caches the tokens of each distinct span (most words repeat), so an instance is
/// **not** thread-safe: use one per thread (`WordTokenizer(rules:)` shares the loaded tables).
public final class WordTokenizer {
    /// The shared, immutable tables.
    public let rules: SpacyRules
    private let spans: SpanTokenizer
    /// Span text → its tokens (and where matcher patterns may start among them).
    private var cache: SpanCache
    /// Spans longer than this are not cached (they rarely repeat) and the cache is cleared when
    /// it reaches its limit, so memory stays bounded on any input.
    private let cacheableLength = 48

    /// A tokenizer over the bundled English tables.
    public convenience init() throws { self.init(rules: try SpacyRules.english()) }

    /// A tokenizer sharing already loaded tables (cheap: use one per thread).
    public init(rules: SpacyRules) {
        self.rules = rules
        cache = SpanCache(limit: 500_000)
        spans = SpanTokenizer(specialCases: rules.specialCases, maxSpecialLength: rules.maxSpecialLength,
                              affixes: rules.affixes)
    }

    /// spaCy's tokens of `text` (`[t.text for t in nlp(text)]`).
    public func tokenize(_ text: String) -> [String] { tokenize(scalars: text.scalarsFast) }

    /// The same on code points.
    public func tokenize(scalars: [Unicode.Scalar]) -> [String] {
        var texts: [String] = []
        var spaceAfter: [Bool] = []
        texts.reserveCapacity(scalars.count / 4 + 4)
        spaceAfter.reserveCapacity(scalars.count / 4 + 4)
        // Work on local copies (moved out of self, so no copy-on-write and no exclusivity
        // checks per span), put back at the end.
        var cache = self.cache
        self.cache = SpanCache(limit: 0)
        var patternStarts: [Int] = []
        let patterns = rules.matcherPatterns
        scalars.withUnsafeBufferPointer { buf in
            spans.splitSpans(buf, texts: &texts, spaceAfter: &spaceAfter) { r, out in
                let before = out.count
                guard r.count <= cacheableLength else {
                    spans.tokenizeSpan(buf, r, into: &out)
                    for k in before..<out.count where patterns[out[k]] != nil { patternStarts.append(k) }
                    return
                }
                let key = UnsafeBufferPointer(rebasing: buf[r])
                let h = SpanCache.hash(key)
                if let hit = cache.find(key, hash: h) {
                    // Element by element: appending the slice goes through a generic copy.
                    for j in hit.start..<(hit.start + hit.count) { out.append(cache.tokens[j]) }
                    var mask = hit.patternMask
                    while mask != 0 {
                        patternStarts.append(before + mask.trailingZeroBitCount)
                        mask &= mask - 1
                    }
                    return
                }
                if isPlainWord(buf, r) {
                    // Only ASCII letters: no affix rule can match (they all need punctuation, a
                    // digit or a dot), so the span is a special case or one token.
                    let word = String(scalars: key)
                    out.append(contentsOf: rules.specialCases[word] ?? [word])
                } else {
                    spans.tokenizeSpan(buf, r, into: &out)
                }
                var starts: [Int] = []
                for k in before..<out.count where patterns[out[k]] != nil {
                    starts.append(k - before)
                    patternStarts.append(k)
                }
                cache.insert(key, hash: h, SpanCache.Entry(tokens: Array(out[before...]), patternStarts: starts))
            }
        }
        self.cache = cache
        return applySpecialMatcher(texts, spaceAfter, patternStarts)
    }

    @inline(__always)
    private func isPlainWord(_ text: UnsafeBufferPointer<Unicode.Scalar>, _ r: Range<Int>) -> Bool {
        for i in r {
            let v = text[i].value | 0x20
            if v < 0x61 || v > 0x7A { return false }
        }
        return true
    }

    /// B.3: spaCy's final pass for special cases that contain affix characters or spaces
    /// (`smile:)` → `smile`, `:)`). Candidates are occurrences of each key's plain
    /// tokenization; longest first, then earliest; a candidate whose first or last token was
    /// covered by an earlier-considered one is dropped; an accepted span whose surface text is
    /// a special-case key is replaced by that key's sub-tokens.
    private func applySpecialMatcher(_ texts: [String], _ spaceAfter: [Bool], _ patternStarts: [Int]) -> [String] {
        let patterns = rules.matcherPatterns
        var candidates: [(start: Int, count: Int)] = []
        for i in patternStarts {
            guard let list = patterns[texts[i]] else { continue }
            for p in list where i + p.count <= texts.count {
                var ok = true
                for k in 1..<p.count where texts[i + k] != p[k] { ok = false; break }
                if ok { candidates.append((i, p.count)) }
            }
        }
        guard !candidates.isEmpty else { return texts }
        candidates.sort { $0.count != $1.count ? $0.count > $1.count : $0.start < $1.start }
        var seen = [Bool](repeating: false, count: texts.count)
        var replacements: [(start: Int, count: Int, tokens: [String])] = []
        for c in candidates {
            let end = c.start + c.count
            let accepted = !seen[c.start] && !seen[end - 1]
            for k in c.start..<end { seen[k] = true }
            guard accepted else { continue }
            var surface = ""
            for k in c.start..<end {
                surface += texts[k]
                if k < end - 1 && spaceAfter[k] { surface += " " }
            }
            if let sub = rules.specialCases[surface], sub != Array(texts[c.start..<end]) {
                replacements.append((c.start, c.count, sub))
            }
        }
        guard !replacements.isEmpty else { return texts }
        replacements.sort { $0.start < $1.start }
        var out: [String] = []
        out.reserveCapacity(texts.count)
        var i = 0
        for r in replacements {
            out.append(contentsOf: texts[i..<r.start])
            out.append(contentsOf: r.tokens)
            i = r.start + r.count
        }
        out.append(contentsOf: texts[i...])
        return out
    }
}
