/// `spec_add_spaces` and `rm_useless_spaces`.
enum SpacingRules {
    /// `([/#\\])` → ` \1 `: a space on both sides of every `/`, `#` and `\`.
    static func specAddSpaces(_ s: [Unicode.Scalar]) -> [Unicode.Scalar] {
        guard s.contains(where: { $0 == "/" || $0 == "#" || $0 == "\\" }) else { return s }
        var out: [Unicode.Scalar] = []
        out.reserveCapacity(s.count + 32)
        for c in s {
            if c == "/" || c == "#" || c == "\\" {
                out.append(" "); out.append(c); out.append(" ")
            } else {
                out.append(c)
            }
        }
        return out
    }

    /// ` {2,}` → one space. Only U+0020 runs; tabs, newlines and NBSP stay.
    static func rmUselessSpaces(_ s: [Unicode.Scalar]) -> [Unicode.Scalar] {
        var out: [Unicode.Scalar] = []
        out.reserveCapacity(s.count)
        var previousSpace = false
        for c in s {
            let isSpace = c == " "
            if !(isSpace && previousSpace) { out.append(c) }
            previousSpace = isSpace
        }
        return out
    }
}
