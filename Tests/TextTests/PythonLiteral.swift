import Text

/// Parses the Python literals the fixtures print with `repr` (`input_repr` of coll_repr.json):
/// ints, floats (incl. nan/inf), strings with escapes, None, True/False, tuples and lists.
struct PythonLiteral {
    struct ParseError: Error, CustomStringConvertible {
        let description: String
    }

    private let s: [Unicode.Scalar]
    private var i = 0

    static func parse(_ text: String) throws -> PythonValue {
        var p = PythonLiteral(s: Array(text.unicodeScalars))
        let v = try p.value()
        p.skipSpaces()
        guard p.i == p.s.count else { throw ParseError(description: "trailing text at \(p.i) in \(text.prefix(80))") }
        return v
    }

    private init(s: [Unicode.Scalar]) { self.s = s }

    private mutating func skipSpaces() { while i < s.count, s[i] == " " { i += 1 } }

    private mutating func value() throws -> PythonValue {
        skipSpaces()
        guard i < s.count else { throw ParseError(description: "unexpected end") }
        switch s[i] {
        case "[": return .list(try sequence(close: "]").items)
        case "(":
            let (items, trailingComma) = try sequence(close: ")")
            return items.count == 1 && !trailingComma ? items[0] : .tuple(items)
        case "'", "\"": return .string(try string())
        default: return try atom()
        }
    }

    private mutating func sequence(close: Unicode.Scalar) throws -> (items: [PythonValue], trailingComma: Bool) {
        i += 1
        var items: [PythonValue] = []
        var trailing = false
        while true {
            skipSpaces()
            guard i < s.count else { throw ParseError(description: "unclosed \(close)") }
            if s[i] == close { i += 1; return (items, trailing) }
            items.append(try value())
            skipSpaces()
            trailing = false
            if i < s.count, s[i] == "," { i += 1; trailing = true }
        }
    }

    private mutating func string() throws -> String {
        let quote = s[i]
        i += 1
        var out = String.UnicodeScalarView()
        while i < s.count, s[i] != quote {
            if s[i] == "\\" {
                i += 1
                guard i < s.count else { break }
                let c = s[i]
                i += 1
                switch c {
                case "n": out.append("\n")
                case "t": out.append("\t")
                case "r": out.append("\r")
                case "x": out.append(try hex(2))
                case "u": out.append(try hex(4))
                case "U": out.append(try hex(8))
                default: out.append(c)   // \\ \' \"
                }
            } else {
                out.append(s[i])
                i += 1
            }
        }
        guard i < s.count else { throw ParseError(description: "unterminated string") }
        i += 1
        return String(out)
    }

    private mutating func hex(_ n: Int) throws -> Unicode.Scalar {
        guard i + n <= s.count, let v = UInt32(String(String.UnicodeScalarView(s[i..<(i + n)])), radix: 16),
              let scalar = Unicode.Scalar(v) else { throw ParseError(description: "bad escape at \(i)") }
        i += n
        return scalar
    }

    private mutating func atom() throws -> PythonValue {
        let start = i
        while i < s.count, !",)] ".unicodeScalars.contains(s[i]) { i += 1 }
        let word = String(String.UnicodeScalarView(s[start..<i]))
        switch word {
        case "None": return .none
        case "True": return .bool(true)
        case "False": return .bool(false)
        case "nan": return .float(.nan)
        case "inf": return .float(.infinity)
        case "-inf": return .float(-.infinity)
        default:
            if let v = Int(word) { return .int(v) }
            if let v = Double(word) { return .float(v) }
            throw ParseError(description: "cannot parse '\(word)'")
        }
    }
}
