/// fastai's `fix_html`: thirteen literal substring replacements, in order, then Python's
/// `html.unescape`.
///
/// The replacements match entity bodies without their `&` (fastai's behaviour, kept on purpose):
/// `&amp;` → `&&`, `&#39;` → `&'`, `&quot;` → `&'`, `camp;` → `c&`, `...` → ` …`.
enum FixHTML {
    private static let replacements: [([Unicode.Scalar], [Unicode.Scalar])] = [
        ("#39;", "'"), ("amp;", "&"), ("#146;", "'"), ("nbsp;", " "), ("#36;", "$"), ("\\n", "\n"),
        ("quot;", "'"), ("<br />", "\n"), ("\\\"", "\""), ("<unk>", "xxunk"), (" @.@ ", "."),
        (" @-@ ", "-"), ("...", " \u{2026}"),
    ].map { (Array($0.0.unicodeScalars), Array($0.1.unicodeScalars)) }

    /// For each replacement, a character it needs (its rarest), so most passes are skipped
    /// after one scan of the text.
    private static let guards: [Unicode.Scalar] = [";", ";", ";", ";", ";", "\\", ";", "<", "\\", "<", "@", "@", "."]

    static func apply(_ s: [Unicode.Scalar]) -> [Unicode.Scalar] {
        var text = s
        var present = Set<Unicode.Scalar>()
        for c in text where c == ";" || c == "\\" || c == "<" || c == "@" || c == "." { present.insert(c) }
        for (k, (pattern, replacement)) in replacements.enumerated() where present.contains(guards[k]) {
            replaceAll(&text, pattern, replacement)
            // ` @.@ ` → `.` can create a `...`.
            if k == 10 { present.insert(".") }
        }
        return HTMLUnescape.unescape(text)
    }

    /// Python's `str.replace`: non-overlapping occurrences, left to right.
    static func replaceAll(_ s: inout [Unicode.Scalar], _ pattern: [Unicode.Scalar], _ replacement: [Unicode.Scalar]) {
        let first = pattern[0], m = pattern.count, n = s.count
        guard let firstHit = s.firstIndex(of: first) else { return }
        var out: [Unicode.Scalar] = []
        var copied = 0
        var i = firstHit
        while i + m <= n {
            if s[i] == first && s[i..<(i + m)].elementsEqual(pattern) {
                if out.isEmpty { out.reserveCapacity(n + 16) }
                out.append(contentsOf: s[copied..<i])
                out.append(contentsOf: replacement)
                i += m
                copied = i
            } else {
                i += 1
            }
        }
        guard copied > 0 else { return }
        out.append(contentsOf: s[copied..<n])
        s = out
    }
}
