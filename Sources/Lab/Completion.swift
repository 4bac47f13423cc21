import Foundation

/// Tab completion for the REPL, independent of the line editor so it can be tested:
/// names (builtins, variables, keywords), attributes after `.`, and file paths inside strings.
public enum Completion {
    /// Characters that end the word being completed (the line editor's word breaks).
    public static let wordBreaks = " \t\n\"'`@$><=;|&{([,+-*/%:."

    /// Completions of the word ending at the end of `line` (the text before the cursor).
    /// Every candidate replaces the text after the last word-break character.
    public static func candidates(for line: String, in session: Session) -> [String] {
        if let quote = openStringStart(line) {
            return paths(String(line[line.index(after: quote)...]))
        }
        let chars = Array(line)
        var start = chars.count
        while start > 0, chars[start - 1] == "_" || chars[start - 1].isLetter || chars[start - 1].isNumber { start -= 1 }
        let word = String(chars[start...])
        if start > 0, chars[start - 1] == "." {
            // `base.word`: complete members of the value `base` names (names and attributes only;
            // completion never calls functions).
            guard let value = value(endingAt: start - 1, in: chars, session) else { return [] }
            return filter(session.members(of: value).map(\.name), word)
        }
        let names = Array(session.variables.keys) + Array(session.builtins.keys) + ["None", "True", "False", "and", "or", "not"]
        return (filter(names, word) + keywords(before: start, in: chars, session).filter { $0.hasPrefix(word) }).sorted()
    }

    /// `name=` for the declared parameters of the function whose call is open at `end`, when an
    /// argument starts there (`randn(2, se` offers `seed=`).
    private static func keywords(before end: Int, in chars: [Character], _ session: Session) -> [String] {
        var i = end
        while i > 0, chars[i - 1] == " " { i -= 1 }
        guard i > 0, chars[i - 1] == "(" || chars[i - 1] == "," else { return [] }
        guard let paren = innermostOpen(chars, end), chars[paren] == "(",
              var f = value(endingAt: paren, in: chars, session) else { return [] }
        if case .object(let o) = f, let call = try? o.attribute("__call__") { f = call }
        guard case .function(let b) = f else { return [] }
        return b.keywordNames.filter { !$0.hasPrefix("__") }.map { $0 + "=" }
    }

    /// The index of the innermost bracket still open before `end` (strings skipped).
    private static func innermostOpen(_ chars: [Character], _ end: Int) -> Int? {
        var stack: [Int] = [], quote: Character?
        for j in 0..<end {
            let c = chars[j]
            if let q = quote { if c == q { quote = nil }; continue }
            switch c {
            case "'", "\"": quote = c
            case "(", "[", "{": stack.append(j)
            case ")", "]", "}": _ = stack.popLast()
            default: break
            }
        }
        return stack.last
    }

    /// The value named by the dotted path (`learn.model`) that ends just before `end`; names and
    /// attributes only, never calls.
    private static func value(endingAt end: Int, in chars: [Character], _ session: Session) -> Value? {
        var b = end
        while b > 0, chars[b - 1] == "_" || chars[b - 1] == "." || chars[b - 1].isLetter || chars[b - 1].isNumber { b -= 1 }
        let path = String(chars[b..<end]).split(separator: ".", omittingEmptySubsequences: false)
        guard let head = path.first, !head.isEmpty, !(head.first!.isNumber),
              var value = try? session.lookup(String(head)) else { return nil }
        for part in path.dropFirst() {
            guard let next = try? session.attribute(of: value, String(part)) else { return nil }
            value = next
        }
        return value
    }

    private static func filter(_ names: [String], _ prefix: String) -> [String] {
        Array(Set(names.filter { $0.hasPrefix(prefix) && !$0.hasPrefix("__") })).sorted()
    }

    /// The index of the quote opening a string that is still open at the end of `line`.
    static func openStringStart(_ line: String) -> String.Index? {
        var open: (String.Index, Character)?
        var i = line.startIndex
        while i < line.endIndex {
            let c = line[i]
            if let (_, q) = open {
                if c == "\\" { i = line.index(after: i); if i == line.endIndex { break } }
                else if c == q { open = nil }
            } else if c == "'" || c == "\"" {
                open = (i, c)
            } else if c == "#" {
                break
            }
            i = line.index(after: i)
        }
        return open?.0
    }

    /// Entries of the directory part of `text` starting with its last component; directories end in `/`.
    static func paths(_ text: String) -> [String] {
        let slash = text.lastIndex(of: "/")
        let dir = slash.map { String(text[...$0]) } ?? ""
        let partial = slash.map { String(text[text.index(after: $0)...]) } ?? text
        let expanded = dir.hasPrefix("~") ? NSString(string: dir).expandingTildeInPath + "/" : dir
        let listed = (try? FileManager.default.contentsOfDirectory(atPath: expanded.isEmpty ? "." : expanded)) ?? []
        return listed.filter { $0.hasPrefix(partial) && (partial.hasPrefix(".") || !$0.hasPrefix(".")) }.sorted().map { name in
            var isDir: ObjCBool = false
            _ = FileManager.default.fileExists(atPath: expanded + name, isDirectory: &isDir)
            return isDir.boolValue ? name + "/" : name
        }
    }
}
