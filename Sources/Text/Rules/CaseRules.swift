/// `replace_all_caps`, `replace_maj` and `lowercase`.
///
/// fastai's patterns `(\s|^)([A-Z]+[^a-z\s]*)(?=(\s|$))` and `(\s|^)([A-Z][^A-Z\s]*)(?=(\s|$))`
/// can only match a whole whitespace-delimited word (a maximal run of non-`\s` code points),
/// so the scanners test each such word. Only ASCII A–Z / a–z count as upper/lower case.
enum CaseRules {
    private static let xxup = Array("xxup ".unicodeScalars)
    private static let xxmaj = Array("xxmaj ".unicodeScalars)
    private static let xxbos = Array("xxbos ".unicodeScalars)
    private static let xxeos = Array(" xxeos".unicodeScalars)

    /// A word starting with A–Z and containing no a–z → `xxup ` (if longer than 1) + lower(word).
    static func replaceAllCaps(_ s: [Unicode.Scalar]) -> [Unicode.Scalar] {
        rewriteWords(s, marker: xxup) { word in
            guard PythonUnicode.isASCIIUpper(word[word.startIndex]) else { return false }
            return !word.contains(where: PythonUnicode.isASCIILower)
        }
    }

    /// A word starting with A–Z and containing no other A–Z → `xxmaj ` (if longer than 1) + lower(word).
    static func replaceMaj(_ s: [Unicode.Scalar]) -> [Unicode.Scalar] {
        rewriteWords(s, marker: xxmaj) { word in
            guard PythonUnicode.isASCIIUpper(word[word.startIndex]) else { return false }
            return !word.dropFirst().contains(where: PythonUnicode.isASCIIUpper)
        }
    }

    private static func rewriteWords(_ s: [Unicode.Scalar], marker: [Unicode.Scalar],
                                     _ qualifies: (ArraySlice<Unicode.Scalar>) -> Bool) -> [Unicode.Scalar] {
        let n = s.count
        var out: [Unicode.Scalar] = []
        out.reserveCapacity(n + 64)
        s.withUnsafeBufferPointer { buf in
            var i = 0
            while i < n {
                if PythonUnicode.isSpace(buf[i]) { out.append(buf[i]); i += 1; continue }
                var j = i + 1
                while j < n && !PythonUnicode.isSpace(buf[j]) { j += 1 }
                if qualifies(s[i..<j]) {
                    if j - i > 1 { out.append(contentsOf: marker) }
                    PythonUnicode.appendLowercased(buf, i..<j, to: &out)
                } else {
                    out.append(contentsOf: buf[i..<j])
                }
                i = j
            }
        }
        return out
    }

    /// `'xxbos ' + t.lower().strip()` (+ `' xxeos'` when `addEOS`). `strip()` uses Python's
    /// whitespace (NBSP, NEL, U+2028 … included).
    static func lowercase(_ s: [Unicode.Scalar], addEOS: Bool) -> [Unicode.Scalar] {
        var lo = 0, hi = s.count
        while lo < hi && PythonUnicode.isSpace(s[lo]) { lo += 1 }
        while hi > lo && PythonUnicode.isSpace(s[hi - 1]) { hi -= 1 }
        var out = xxbos
        out.reserveCapacity(s.count + 16)
        s.withUnsafeBufferPointer { PythonUnicode.appendLowercased($0, lo..<hi, to: &out) }
        if addEOS { out.append(contentsOf: xxeos) }
        return out
    }
}
