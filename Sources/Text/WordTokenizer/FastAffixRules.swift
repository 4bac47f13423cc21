/// Hand-written scanners for spaCy's prefix, suffix and infix searches, built by parsing the
/// exported regex strings (`AffixPattern`) rather than hard-coding them, so a re-exported table
/// still works. Semantics follow Python `re` on these patterns:
/// - prefix: alternatives tried in list order at position 0; the first that matches wins;
/// - suffix: the match with the leftmost start that ends at the end (its length);
/// - infix: `finditer`, left to right, non-overlapping, alternatives in list order.
/// Cost is linear in the span for each search (the only unbounded piece, `\.\.+`, is handled by
/// scanning its run once). URL matching keeps the regex, behind the cheap test "contains a
/// `.`" that every URL-pattern match requires.
final class FastAffixRules: AffixRules, @unchecked Sendable {
    private let prefixes: [AffixPattern]
    private let suffixes: [AffixPattern]
    private let infixPatterns: [AffixPattern]
    private let prefixFirst: ScalarSet
    private let infixFirst: ScalarSet
    private let suffixLast: ScalarSet
    private let regex: RegexAffixRules

    init(prefix: String, suffix: String, infix: String, url: String) throws {
        prefixes = try AffixPattern.parseAlternation(prefix)
        suffixes = try AffixPattern.parseAlternation(suffix)
        infixPatterns = try AffixPattern.parseAlternation(infix)
        guard prefixes.allSatisfy({ $0.anchoredStart && !$0.anchoredEnd }),
              suffixes.allSatisfy({ $0.anchoredEnd && !$0.anchoredStart }),
              infixPatterns.allSatisfy({ !$0.anchoredStart && !$0.anchoredEnd }) else {
            throw AffixPattern.Unsupported(description: "unexpected anchors")
        }
        // A run in a suffix must follow single-character sets only (see suffixLength).
        for p in suffixes where p.maxLength == .max {
            for piece in p.body.dropLast() {
                guard case .set = piece else { throw AffixPattern.Unsupported(description: "choice before run") }
            }
        }
        var u = ScalarSet()
        for p in prefixes { u.formUnion(p.firstSet) }
        prefixFirst = u
        u = ScalarSet()
        for p in infixPatterns { u.formUnion(p.firstSet) }
        infixFirst = u
        u = ScalarSet()
        for p in suffixes { u.formUnion(p.lastSet) }
        suffixLast = u
        regex = try RegexAffixRules(prefix: prefix, suffix: suffix, infix: infix, url: url)
    }

    func prefixLength(_ s: UnsafeBufferPointer<Unicode.Scalar>) -> Int {
        guard let c = s.first, prefixFirst.contains(c) else { return 0 }
        // Index through a buffer: iterating the array would copy each pattern (and retain
        // its arrays) on every call.
        return prefixes.withUnsafeBufferPointer { ps in
            for k in ps.indices where ps[k].firstSet.contains(c) {
                if let end = ps[k].match(s, at: 0) { return end }
            }
            return 0
        }
    }

    func suffixLength(_ s: UnsafeBufferPointer<Unicode.Scalar>) -> Int {
        let n = s.count
        guard n > 0, suffixLast.contains(s[n - 1]) else { return 0 }
        var best = n  // leftmost start found so far
        suffixes.withUnsafeBufferPointer { ps in
            for k in ps.indices where ps[k].lastSet.contains(s[n - 1]) {
                let lowest: Int, highest = n - ps[k].minLength
                if ps[k].maxLength == .max {
                    // The run covers [start + fixed, n): find where the trailing run begins.
                    guard case .run(let runSet) = ps[k].body[ps[k].body.count - 1] else { continue }
                    var t = n
                    while t > 0 && runSet.contains(s[t - 1]) { t -= 1 }
                    lowest = max(0, t - (ps[k].body.count - 1))
                } else {
                    lowest = max(0, n - ps[k].maxLength)
                }
                guard highest >= lowest, lowest < best else { continue }
                var start = lowest
                while start <= highest && start < best {
                    if ps[k].match(s, at: start) != nil { best = start; break }
                    start += 1
                }
            }
        }
        return n - best
    }

    func infixes(_ s: UnsafeBufferPointer<Unicode.Scalar>) -> [Range<Int>] {
        var out: [Range<Int>] = []
        var pos = 0
        let n = s.count
        scan: while pos < n {
            if infixFirst.contains(s[pos]) {
                let end: Int? = infixPatterns.withUnsafeBufferPointer { ps in
                    for k in ps.indices {
                        if let end = ps[k].match(s, at: pos) { return end }
                    }
                    return nil
                }
                if let end {
                    out.append(pos..<end)
                    pos = max(end, pos + 1)
                    continue scan
                }
            }
            pos += 1
        }
        return out
    }

    func isURL(_ s: UnsafeBufferPointer<Unicode.Scalar>) -> Bool {
        guard s.contains(".") else { return false }
        return regex.isURL(s)
    }
}
