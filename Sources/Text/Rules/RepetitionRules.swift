/// `replace_rep` and `replace_wrep`, as hand-written scanners equivalent to fastai's regexes
/// (the regex versions live in `RegexRules` and the tests compare the two).
enum RepetitionRules {
    private static let xxrep = Array(" xxrep ".unicodeScalars)
    private static let xxwrep = Array(" xxwrep ".unicodeScalars)

    /// `(\S)(\1{2,})` → ` xxrep {n} {c} `: every run of ≥ 3 identical non-space code points.
    static func replaceRep(_ s: [Unicode.Scalar]) -> [Unicode.Scalar] {
        let n = s.count
        // Most texts have no run: find the first one before copying anything.
        var first = 0
        while first + 2 < n && !(s[first] == s[first + 1] && s[first] == s[first + 2] && !PythonUnicode.isSpace(s[first])) {
            first += 1
        }
        if first + 2 >= n { return s }
        var out: [Unicode.Scalar] = []
        out.reserveCapacity(n + 16)
        out.append(contentsOf: s[0..<first])
        var i = first
        while i < n {
            let c = s[i]
            if PythonUnicode.isSpace(c) { out.append(c); i += 1; continue }
            var j = i + 1
            while j < n && s[j] == c { j += 1 }
            if j - i >= 3 {
                out.append(contentsOf: xxrep)
                out.append(contentsOf: String(j - i).unicodeScalars)
                out.append(" "); out.append(c); out.append(" ")
            } else {
                out.append(contentsOf: s[i..<j])
            }
            i = j
        }
        return out
    }

    /// `(?:\s|^)(\w+)\s+((?:\1\s+)+)\1(\s|\W|$)` → ` xxwrep {n} {w} {e}`.
    ///
    /// A word w (a whole `\w` run, after whitespace or at the start, followed by whitespace) and
    /// its following copies. Copies followed by whitespace are "middle" candidates; a copy
    /// followed by a non-word character or the end is a "terminal" one. The greedy regex
    /// takes every middle copy when a terminal copy follows (n = middles + 2, e = the character
    /// after it); otherwise it gives one middle copy back to serve as the last (n = middles + 1,
    /// e = the whitespace after it). The match consumes the leading whitespace and e, so a run
    /// right after a replaced one is not seen (as in Python).
    static func replaceWrep(_ s: [Unicode.Scalar]) -> [Unicode.Scalar] {
        let n = s.count
        var out: [Unicode.Scalar] = []
        var copied = 0
        var p = 0
        while p < n {
            let wordStart: Int
            if PythonUnicode.isSpace(s[p]) {
                wordStart = p + 1
            } else if p == 0 {
                wordStart = 0
            } else {
                p += 1
                continue
            }
            guard let m = matchWrep(s, wordStart) else { p += 1; continue }
            if out.isEmpty { out.reserveCapacity(n + 16) }
            out.append(contentsOf: s[copied..<p])
            out.append(contentsOf: xxwrep)
            out.append(contentsOf: String(m.count).unicodeScalars)
            out.append(" ")
            out.append(contentsOf: s[wordStart..<(wordStart + m.wordLength)])
            out.append(" ")
            if let e = m.terminator { out.append(e) }
            copied = m.end
            p = m.end
        }
        if copied == 0 { return s }
        out.append(contentsOf: s[copied..<n])
        return out
    }

    private struct WrepMatch {
        var count: Int
        var wordLength: Int
        var terminator: Unicode.Scalar?
        var end: Int
    }

    private static func matchWrep(_ s: [Unicode.Scalar], _ wordStart: Int) -> WrepMatch? {
        let n = s.count
        var e = wordStart
        while e < n && PythonUnicode.isWord(s[e]) { e += 1 }
        let len = e - wordStart
        guard len > 0, e < n, PythonUnicode.isSpace(s[e]) else { return nil }
        var j = e
        while j < n && PythonUnicode.isSpace(s[j]) { j += 1 }
        var middles = 0
        var lastMiddleEnd = 0
        while j + len <= n && s[j..<(j + len)].elementsEqual(s[wordStart..<e]) {
            let after = j + len
            if after < n && PythonUnicode.isSpace(s[after]) {
                middles += 1
                lastMiddleEnd = after
                j = after
                while j < n && PythonUnicode.isSpace(s[j]) { j += 1 }
                continue
            }
            if after == n {
                return middles >= 1 ? WrepMatch(count: middles + 2, wordLength: len, terminator: nil, end: n) : nil
            }
            if !PythonUnicode.isWord(s[after]) {
                return middles >= 1
                    ? WrepMatch(count: middles + 2, wordLength: len, terminator: s[after], end: after + 1) : nil
            }
            break
        }
        guard middles >= 2 else { return nil }
        return WrepMatch(count: middles + 1, wordLength: len, terminator: s[lastMiddleEnd], end: lastMiddleEnd + 1)
    }
}
