/// One alternative of spaCy's prefix/suffix/infix regexes, parsed into the few shapes those
/// patterns use: an optional fixed-width lookbehind (a sequence of character sets), a body of
/// single-character sets, at most one trailing `X+` run and `(?:a|b|…)` literal choices, then an
/// optional (negative) lookahead of one set, with `^`/`$` anchors. Anything else is rejected
/// (`AffixPattern.Unsupported`), and the caller falls back to the regex implementation.
struct AffixPattern: Sendable {
    enum Piece: Sendable {
        case set(ScalarSet)
        case run(ScalarSet)  // one or more
        case choice([[ScalarSet]])  // literal alternatives, tried in order
    }

    struct Unsupported: Error, CustomStringConvertible {
        let description: String
    }

    var anchoredStart = false
    var anchoredEnd = false
    var lookbehind: [ScalarSet] = []
    var body: [Piece] = []
    var lookahead: ScalarSet?
    var lookaheadNegated = false
    /// Shortest and longest body length (Int.max with a run).
    var minLength = 0
    var maxLength = 0
    /// Characters the body can start with / end with (quick rejection).
    var firstSet = ScalarSet()
    var lastSet = ScalarSet()

    /// Splits a whole pattern into its top-level alternatives and parses each.
    static func parseAlternation(_ pattern: String) throws -> [AffixPattern] {
        let p = Array(pattern.unicodeScalars)
        var parser = Parser(p: p)
        var out: [AffixPattern] = []
        while true {
            out.append(try parser.alternative())
            if parser.i >= p.count { break }
            guard p[parser.i] == "|" else { throw Unsupported(description: "unexpected \(p[parser.i]) at \(parser.i)") }
            parser.i += 1
        }
        return out
    }

    private struct Parser {
        let p: [Unicode.Scalar]
        var i = 0

        func peek(_ k: Int = 0) -> Unicode.Scalar? { i + k < p.count ? p[i + k] : nil }

        mutating func alternative() throws -> AffixPattern {
            var a = AffixPattern()
            if peek() == "^" { a.anchoredStart = true; i += 1 }
            while let c = peek(), c != "|" {
                if c == "$" { a.anchoredEnd = true; i += 1; continue }
                if c == "(" {
                    guard peek(1) == "?" else { throw Unsupported(description: "capturing group") }
                    if peek(2) == "<" && peek(3) == "=" {
                        i += 4
                        guard a.body.isEmpty else { throw Unsupported(description: "lookbehind after body") }
                        while peek() != ")" { a.lookbehind.append(try atom()) }
                        i += 1
                    } else if peek(2) == "=" || peek(2) == "!" {
                        a.lookaheadNegated = peek(2) == "!"
                        i += 3
                        a.lookahead = try atom()
                        guard peek() == ")" else { throw Unsupported(description: "long lookahead") }
                        i += 1
                    } else if peek(2) == ":" {
                        i += 3
                        var options: [[ScalarSet]] = [[]]
                        while let d = peek(), d != ")" {
                            if d == "|" { options.append([]); i += 1; continue }
                            options[options.count - 1].append(try atom())
                        }
                        i += 1
                        a.body.append(.choice(options))
                    } else {
                        throw Unsupported(description: "group kind")
                    }
                    continue
                }
                if c == "+" {
                    guard case .set(let s)? = a.body.last else { throw Unsupported(description: "+ after non-set") }
                    a.body[a.body.count - 1] = .run(s)
                    i += 1
                    continue
                }
                if c == "*" || c == "?" || c == "{" || c == "." || c == ")" {
                    throw Unsupported(description: "operator \(c)")
                }
                a.body.append(.set(try atom()))
            }
            try a.computeSummary()
            return a
        }

        /// A literal, an escape or a character class.
        mutating func atom() throws -> ScalarSet {
            guard let c = peek() else { throw Unsupported(description: "unexpected end") }
            if c == "[" { return try characterClass() }
            if c == "(" || c == ")" || c == "|" || c == "*" || c == "+" || c == "?" || c == "." {
                throw Unsupported(description: "operator \(c) in atom")
            }
            return ScalarSet(try literal())
        }

        mutating func literal() throws -> Unicode.Scalar {
            guard let c = peek() else { throw Unsupported(description: "unexpected end") }
            i += 1
            guard c == "\\" else { return c }
            guard let e = peek() else { throw Unsupported(description: "trailing backslash") }
            i += 1
            if e == "u" || e == "U" {
                let digits = e == "u" ? 4 : 8
                guard i + digits <= p.count,
                      let v = UInt32(String(String.UnicodeScalarView(p[i..<(i + digits)])), radix: 16),
                      let s = Unicode.Scalar(v) else { throw Unsupported(description: "bad \\u escape") }
                i += digits
                return s
            }
            if e.properties.isAlphabetic || ("0"..."9").contains(e) {
                throw Unsupported(description: "escape \\\(e)")
            }
            return e
        }

        mutating func characterClass() throws -> ScalarSet {
            i += 1
            if peek() == "^" { throw Unsupported(description: "negated class") }
            var set = ScalarSet()
            var first = true
            while true {
                guard let c = peek() else { throw Unsupported(description: "unterminated class") }
                if c == "]" && !first { i += 1; break }
                first = false
                let lo = try literal()
                if peek() == "-", let next = peek(1), next != "]" {
                    i += 1
                    let hi = try literal()
                    guard lo.value <= hi.value else { throw Unsupported(description: "reversed range") }
                    set.insert(lo.value...hi.value)
                } else {
                    set.insert(lo.value...lo.value)
                }
            }
            set.finish()
            return set
        }
    }

    private mutating func computeSummary() throws {
        guard !body.isEmpty else { throw Unsupported(description: "empty alternative") }
        for (k, piece) in body.enumerated() {
            switch piece {
            case .set:
                minLength += 1; if maxLength != .max { maxLength += 1 }
            case .run:
                guard k == body.count - 1 else { throw Unsupported(description: "run not last") }
                minLength += 1; maxLength = .max
            case .choice(let options):
                guard let shortest = options.map(\.count).min(), shortest > 0 else {
                    throw Unsupported(description: "empty choice")
                }
                minLength += shortest
                if maxLength != .max { maxLength += options.map(\.count).max()! }
            }
        }
        // First and last sets (a choice contributes every option's first/last character).
        func ends(_ piece: Piece, first: Bool) -> ScalarSet {
            switch piece {
            case .set(let s), .run(let s): return s
            case .choice(let options):
                var u = ScalarSet()
                for o in options { u.formUnion(first ? o[0] : o[o.count - 1]) }
                return u
            }
        }
        firstSet = ends(body[0], first: true)
        lastSet = ends(body[body.count - 1], first: false)
        // A choice can only be first or last safely for these summaries when it is the whole
        // body or sits at that end; other shapes keep the full sets, which is still correct.
    }

    // MARK: Matching

    /// Does the lookbehind hold for a match starting at `start`?
    @inline(__always)
    func lookbehindHolds(_ s: UnsafeBufferPointer<Unicode.Scalar>, _ start: Int) -> Bool {
        let w = lookbehind.count
        if w == 0 { return true }
        guard start >= w else { return false }
        for k in 0..<w where !lookbehind[k].contains(s[start - w + k]) { return false }
        return true
    }

    @inline(__always)
    private func tailHolds(_ s: UnsafeBufferPointer<Unicode.Scalar>, _ end: Int) -> Bool {
        if anchoredEnd && end != s.count { return false }
        if let la = lookahead {
            let hit = end < s.count && la.contains(s[end])
            if hit == lookaheadNegated { return false }
        }
        return true
    }

    /// The end of the first match (in the regex engine's order) starting exactly at `start`.
    func match(_ s: UnsafeBufferPointer<Unicode.Scalar>, at start: Int) -> Int? {
        guard start < s.count, firstSet.contains(s[start]), lookbehindHolds(s, start) else { return nil }
        return matchPieces(s, 0, start)
    }

    private func matchPieces(_ s: UnsafeBufferPointer<Unicode.Scalar>, _ k: Int, _ pos: Int) -> Int? {
        if k == body.count { return tailHolds(s, pos) ? pos : nil }
        switch body[k] {
        case .set(let set):
            guard pos < s.count, set.contains(s[pos]) else { return nil }
            return matchPieces(s, k + 1, pos + 1)
        case .run(let set):
            var e = pos
            while e < s.count && set.contains(s[e]) { e += 1 }
            var end = e
            while end > pos {  // greedy, then give back
                if let r = matchPieces(s, k + 1, end) { return r }
                end -= 1
            }
            return nil
        case .choice(let options):
            for option in options where pos + option.count <= s.count {
                var ok = true
                for (j, set) in option.enumerated() where !set.contains(s[pos + j]) { ok = false; break }
                if ok, let r = matchPieces(s, k + 1, pos + option.count) { return r }
            }
            return nil
        }
    }
}
