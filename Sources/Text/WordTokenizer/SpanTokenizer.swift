/// spaCy's tokenizer algorithm (../shared/spec/tokenization.md B.1–B.2) on code points, without a cache
/// and without the final matcher pass. `WordTokenizer` adds both.
struct SpanTokenizer: Sendable {
    let specialCases: [String: [String]]
    let maxSpecialLength: Int
    let affixes: AffixRules

    /// B.1: whitespace splitting. Calls `span` for each span and records, per token, whether
    /// one U+0020 separator followed it.
    func splitSpans(_ text: UnsafeBufferPointer<Unicode.Scalar>, texts: inout [String], spaceAfter: inout [Bool],
                    span: (Range<Int>, inout [String]) -> Void) {
        let n = text.count
        guard n > 0 else { return }
        var inSpace = PythonUnicode.isSpace(text[0])
        var start = 0
        func emit(_ r: Range<Int>) {
            let before = texts.count
            span(r, &texts)
            for _ in before..<texts.count { spaceAfter.append(false) }
        }
        for i in 0..<n {
            let c = text[i]
            guard PythonUnicode.isSpace(c) != inSpace else { continue }
            if start < i { emit(start..<i) }
            if c == " " {
                if !spaceAfter.isEmpty { spaceAfter[spaceAfter.count - 1] = true }
                start = i + 1
            } else {
                start = i
            }
            inSpace.toggle()
        }
        if start < n { emit(start..<n) }
    }

    /// B.1 + B.2 on a whole string (used for the matcher patterns and as a reference).
    func tokenizeDocument(_ scalars: [Unicode.Scalar]) -> (texts: [String], spaceAfter: [Bool]) {
        var texts: [String] = [], spaceAfter: [Bool] = []
        scalars.withUnsafeBufferPointer { buf in
            splitSpans(buf, texts: &texts, spaceAfter: &spaceAfter) { r, out in tokenizeSpan(buf, r, into: &out) }
        }
        return (texts, spaceAfter)
    }

    @inline(__always)
    func special(_ text: UnsafeBufferPointer<Unicode.Scalar>, _ r: Range<Int>) -> [String]? {
        guard r.count <= maxSpecialLength else { return nil }
        return specialCases[String(scalars: text[r])]
    }

    /// B.2: one span → tokens (special case, affix loop, URL, infixes).
    func tokenizeSpan(_ text: UnsafeBufferPointer<Unicode.Scalar>, _ r: Range<Int>, into out: inout [String]) {
        if let sub = special(text, r) { out.append(contentsOf: sub); return }
        var lo = r.lowerBound, hi = r.upperBound
        var prefixes: [Range<Int>] = [], suffixes: [Range<Int>] = []
        var lastSize = -1
        while lo < hi && hi - lo != lastSize {
            if special(text, lo..<hi) != nil { break }
            lastSize = hi - lo
            let p = affixes.prefixLength(UnsafeBufferPointer(rebasing: text[lo..<hi]))
            if p > 0 && lo + p < hi && special(text, (lo + p)..<hi) != nil {
                prefixes.append(lo..<(lo + p))
                lo += p
                break
            }
            let q = affixes.suffixLength(UnsafeBufferPointer(rebasing: text[(lo + p)..<hi]))
            if q > 0 && hi - q > lo && special(text, lo..<(hi - q)) != nil {
                suffixes.append((hi - q)..<hi)
                hi -= q
                break
            }
            if p > 0 && q > 0 && p + q <= hi - lo {
                prefixes.append(lo..<(lo + p)); suffixes.append((hi - q)..<hi)
                lo += p; hi -= q
            } else if p > 0 {
                prefixes.append(lo..<(lo + p)); lo += p
            } else if q > 0 {
                suffixes.append((hi - q)..<hi); hi -= q
            }
        }
        for p in prefixes { out.append(String(scalars: text[p])) }
        if lo < hi { attachCore(text, lo..<hi, into: &out) }
        for s in suffixes.reversed() { out.append(String(scalars: text[s])) }
    }

    private func attachCore(_ text: UnsafeBufferPointer<Unicode.Scalar>, _ r: Range<Int>, into out: inout [String]) {
        if let sub = special(text, r) { out.append(contentsOf: sub); return }
        let core = UnsafeBufferPointer(rebasing: text[r])
        if affixes.isURL(core) { out.append(String(scalars: core)); return }
        let matches = affixes.infixes(core)
        if matches.isEmpty { out.append(String(scalars: core)); return }
        var start = 0
        for m in matches {
            if m.lowerBound == 0 { continue }  // spaCy skips an infix at the very start
            if m.lowerBound != start { out.append(String(scalars: core[start..<m.lowerBound])) }
            if !m.isEmpty { out.append(String(scalars: core[m])) }
            start = m.upperBound
        }
        if start < core.count { out.append(String(scalars: core[start..<core.count])) }
    }
}
