/// A token of the command language.
struct Token: Equatable {
    enum Kind: Equatable {
        case int(Int)
        case float(Double)
        case string(String)
        case name(String)
        /// Operators and punctuation: `+ - * / // % ** @ ( ) [ ] , : . = == != < <= > >=`.
        case op(String)
        /// A statement separator: `;` or a newline outside brackets.
        case separator
        case end
    }
    var kind: Kind
    var location: SourceLocation
}

/// Splits source text into tokens. Newlines inside brackets do not end a statement,
/// so a call may span lines; `#` starts a comment.
struct Lexer {
    /// Why input stopped early, for the REPL's continuation prompt.
    enum Incomplete: Error { case openBracket, openString }

    private let chars: [Character]
    private var i = 0
    private var line = 1
    private var column = 1

    init(_ source: String) { chars = Array(source) }

    static let operators2: Set<String> = ["**", "//", "==", "!=", "<=", ">=", "+=", "-=", "*=", "/="]
    static let operators1: Set<Character> = ["+", "-", "*", "/", "%", "@", "(", ")", "[", "]", "{", "}",
                                             ",", ":", ".", "=", "<", ">"]

    /// All tokens, or the first lexical error. Unclosed brackets and strings are
    /// reported as `LabError`s whose message starts with "unexpected end".
    static func tokenize(_ source: String) throws -> [Token] {
        var lexer = Lexer(source)
        return try lexer.run()
    }

    /// True when `source` ends inside a string or brackets, so the REPL should read another line.
    public static func needsMoreInput(_ source: String) -> Bool {
        var lexer = Lexer(source)
        do { _ = try lexer.run(reportIncomplete: true) } catch is Incomplete { return true } catch { return false }
        return false
    }

    private var here: SourceLocation { SourceLocation(line: line, column: column) }

    private mutating func advance() -> Character {
        let c = chars[i]
        i += 1
        if c == "\n" { line += 1; column = 1 } else { column += 1 }
        return c
    }

    private func peek(_ k: Int = 0) -> Character? { i + k < chars.count ? chars[i + k] : nil }

    private mutating func run(reportIncomplete: Bool = false) throws -> [Token] {
        var tokens: [Token] = []
        var brackets: [(Character, SourceLocation)] = []
        while let c = peek() {
            let start = here
            if c == "\n" || c == ";" {
                _ = advance()
                if brackets.isEmpty || c == ";" { tokens.append(Token(kind: .separator, location: start)) }
                continue
            }
            if c == " " || c == "\t" || c == "\r" { _ = advance(); continue }
            if c == "\\" && peek(1) == "\n" { _ = advance(); _ = advance(); continue }
            if c == "#" { while let d = peek(), d != "\n" { _ = advance() }; continue }
            if c.isNumber && c.isASCII || (c == "." && (peek(1)?.isASCII ?? false) && (peek(1)?.isNumber ?? false)) {
                tokens.append(Token(kind: try number(), location: start)); continue
            }
            if c == "_" || c.isLetter {
                var s = ""
                while let d = peek(), d == "_" || d.isLetter || d.isNumber { s.append(advance()) }
                tokens.append(Token(kind: .name(s), location: start)); continue
            }
            if c == "'" || c == "\"" {
                do { tokens.append(Token(kind: .string(try string()), location: start)) } catch let e as Incomplete {
                    if reportIncomplete { throw e }
                    throw LabError("unterminated string", at: start)
                }
                continue
            }
            if let n = peek(1), Lexer.operators2.contains(String([c, n])) {
                _ = advance(); _ = advance()
                tokens.append(Token(kind: .op(String([c, n])), location: start)); continue
            }
            if Lexer.operators1.contains(c) {
                _ = advance()
                if "([{".contains(c) { brackets.append((c, start)) }
                if ")]}".contains(c) {
                    let want: Character = c == ")" ? "(" : c == "]" ? "[" : "{"
                    guard let open = brackets.popLast(), open.0 == want else {
                        throw LabError("unmatched '\(c)'", at: start)
                    }
                }
                tokens.append(Token(kind: .op(String(c)), location: start)); continue
            }
            if c == "!" { throw LabError("unexpected '!' (use 'not' or '!=')", at: start) }
            throw LabError("unexpected character '\(c)'", at: start)
        }
        if let open = brackets.last {
            if reportIncomplete { throw Incomplete.openBracket }
            throw LabError("'\(open.0)' was never closed", at: open.1)
        }
        tokens.append(Token(kind: .end, location: here))
        return tokens
    }

    private mutating func number() throws -> Token.Kind {
        let start = here
        var s = ""
        var isFloat = false
        while let d = peek(), d.isASCII && d.isNumber || d == "_" { let c = advance(); if c != "_" { s.append(c) } }
        if peek() == ".", !(peek(1)?.isLetter ?? false) || peek(1) == "e" || peek(1) == "E" {
            isFloat = true
            s.append(advance())
            while let d = peek(), d.isASCII && d.isNumber { s.append(advance()) }
        }
        if let e = peek(), e == "e" || e == "E" {
            let sign = peek(1)
            let digitAt = sign == "+" || sign == "-" ? 2 : 1
            if let d = peek(digitAt), d.isASCII && d.isNumber {
                isFloat = true
                s.append(advance())
                if digitAt == 2 { s.append(advance()) }
                while let d = peek(), d.isASCII && d.isNumber { s.append(advance()) }
            }
        }
        if let d = peek(), d.isLetter || d == "_" {
            throw LabError("invalid number '\(s)\(d)'", at: start)
        }
        if !isFloat, let v = Int(s) { return .int(v) }
        guard let v = Double(s) else { throw LabError("invalid number '\(s)'", at: start) }
        return .float(v)
    }

    private mutating func string() throws -> String {
        let quote = advance()
        var s = ""
        while true {
            guard let c = peek(), c != "\n" else { throw Incomplete.openString }
            _ = advance()
            if c == quote { return s }
            if c != "\\" { s.append(c); continue }
            guard let e = peek() else { throw Incomplete.openString }
            _ = advance()
            switch e {
            case "n": s.append("\n")
            case "t": s.append("\t")
            case "r": s.append("\r")
            case "0": s.append("\0")
            case "\\": s.append("\\")
            case "'": s.append("'")
            case "\"": s.append("\"")
            case "\n": break
            case "x", "u", "U":
                let width = e == "x" ? 2 : e == "u" ? 4 : 8
                var h = ""
                for _ in 0..<width { if let d = peek(), d.isHexDigit { h.append(advance()) } }
                guard h.count == width, let v = UInt32(h, radix: 16), let u = Unicode.Scalar(v) else {
                    throw LabError("bad escape '\\\(e)\(h)' in string", at: here)
                }
                s.unicodeScalars.append(u)
            default: s.append("\\"); s.append(e)
            }
        }
    }
}
