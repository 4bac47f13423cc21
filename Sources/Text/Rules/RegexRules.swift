import Foundation

/// The fastai rules written as fastai writes them: regex substitutions (NSRegularExpression),
/// with Python's `\s` and `\w` spelled out as explicit classes because ICU's differ. Slow; kept
/// as the readable reference that the tests compare the hand-written scanners against.
enum RegexRules {
    /// Python `str.isspace()` code points as an ICU class body.
    static let space = "\\t\\n\\x{0B}\\f\\r\\x{1C}-\\x{20}\\x{85}\\x{A0}\\x{1680}\\x{2000}-\\x{200A}\\x{2028}\\x{2029}\\x{202F}\\x{205F}\\x{3000}"
    /// Python `\w` (isalnum or `_`) as an ICU class body.
    static let word = "\\p{L}\\p{N}_"

    private static func regex(_ p: String) -> NSRegularExpression {
        do { return try NSRegularExpression(pattern: p) } catch { fatalError("bad reference pattern \(p): \(error)") }
    }

    static let rep = regex("([^\(space)])(\\1{2,})")
    static let wrep = regex("(?:[\(space)]|^)([\(word)]+)[\(space)]+((?:\\1[\(space)]+)+)\\1([\(space)]|[^\(word)]|$)")
    static let specAdd = regex("([/#\\\\])")
    static let uselessSpaces = regex(" {2,}")
    static let allCaps = regex("([\(space)]|^)([A-Z]+[^a-z\(space)]*)(?=([\(space)]|$))")
    static let maj = regex("([\(space)]|^)([A-Z][^A-Z\(space)]*)(?=([\(space)]|$))")

    /// `re.sub` with a function-valued replacement.
    static func sub(_ re: NSRegularExpression, _ s: String, _ replace: ([String?]) -> String) -> String {
        let ns = s as NSString
        var out = ""
        var last = 0
        for m in re.matches(in: s, range: NSRange(location: 0, length: ns.length)) {
            out += ns.substring(with: NSRange(location: last, length: m.range.location - last))
            let groups = (0..<m.numberOfRanges).map { k -> String? in
                let r = m.range(at: k)
                return r.location == NSNotFound ? nil : ns.substring(with: r)
            }
            out += replace(groups)
            last = m.range.location + m.range.length
        }
        out += ns.substring(from: last)
        return out
    }

    private static func lower(_ s: String) -> String { String(scalars: PythonUnicode.lowercased(s.scalarArray)) }
    private static func count(_ s: String?) -> Int { s?.unicodeScalars.count ?? 0 }

    static func replaceRep(_ s: String) -> String {
        sub(rep, s) { g in " xxrep \(count(g[2]) + 1) \(g[1] ?? "") " }
    }

    static func replaceWrep(_ s: String) -> String {
        sub(wrep, s) { g in
            let middles = (g[2] ?? "").unicodeScalars.split(whereSeparator: { PythonUnicode.isSpace($0) }).count
            return " xxwrep \(middles + 2) \(g[1] ?? "") \(g[3] ?? "")"
        }
    }

    static func specAddSpaces(_ s: String) -> String { sub(specAdd, s) { g in " \(g[1] ?? "") " } }
    static func rmUselessSpaces(_ s: String) -> String { sub(uselessSpaces, s) { _ in " " } }

    static func replaceAllCaps(_ s: String) -> String {
        sub(allCaps, s) { g in (g[1] ?? "") + (count(g[2]) > 1 ? "xxup " : "") + lower(g[2] ?? "") }
    }

    static func replaceMaj(_ s: String) -> String {
        sub(maj, s) { g in (g[1] ?? "") + (count(g[2]) > 1 ? "xxmaj " : "") + lower(g[2] ?? "") }
    }

    /// The regex versions of rules 2–7, by fastai name (fix_html and lowercase are plain
    /// string operations and have no regex form).
    static let byName: [String: @Sendable (String) -> String] = [
        "replace_rep": replaceRep, "replace_wrep": replaceWrep, "spec_add_spaces": specAddSpaces,
        "rm_useless_spaces": rmUselessSpaces, "replace_all_caps": replaceAllCaps, "replace_maj": replaceMaj,
    ]
}
