import Foundation

/// A value that can print itself the way Python's `repr` does, so displays match what
/// fastai prints (`'xxbos'`, `"n't"`, `'\n\n'`, `1e-05`, `None`).
public protocol PythonReprConvertible {
    /// Python's `repr` of the value.
    var pythonRepr: String { get }
}

extension String: PythonReprConvertible {
    /// Python's `repr(str)`: single quotes unless the text has `'` and no `"`; `\\`, the quote,
    /// `\t`, `\n`, `\r` escaped; other non-printable code points as `\xhh`, `\uhhhh` or
    /// `\Uhhhhhhhh`; everything else literal.
    public var pythonRepr: String {
        let quote: Unicode.Scalar = (contains("'") && !contains("\"")) ? "\"" : "'"
        var out = String.UnicodeScalarView()
        out.append(quote)
        for s in unicodeScalars {
            switch s {
            case "\\": out.append(contentsOf: "\\\\".unicodeScalars)
            case quote: out.append("\\"); out.append(s)
            case "\t": out.append(contentsOf: "\\t".unicodeScalars)
            case "\n": out.append(contentsOf: "\\n".unicodeScalars)
            case "\r": out.append(contentsOf: "\\r".unicodeScalars)
            default:
                if PythonRepr.isPrintable(s) {
                    out.append(s)
                } else {
                    out.append(contentsOf: PythonRepr.hexEscape(s).unicodeScalars)
                }
            }
        }
        out.append(quote)
        return String(out)
    }
}

extension Int: PythonReprConvertible { public var pythonRepr: String { String(self) } }
extension Int32: PythonReprConvertible { public var pythonRepr: String { String(self) } }
extension Int64: PythonReprConvertible { public var pythonRepr: String { String(self) } }
extension Bool: PythonReprConvertible { public var pythonRepr: String { self ? "True" : "False" } }
extension Double: PythonReprConvertible { public var pythonRepr: String { PythonRepr.float(self) } }
extension Float: PythonReprConvertible { public var pythonRepr: String { PythonRepr.float(Double(self)) } }

/// A Python value for displays that mix types: `[1, 'a', None, True, 2.5, (1, 2)]`.
public indirect enum PythonValue: PythonReprConvertible, Equatable, Sendable {
    case int(Int)
    case float(Double)
    case string(String)
    case bool(Bool)
    case none
    case tuple([PythonValue])
    case list([PythonValue])

    public var pythonRepr: String {
        switch self {
        case .int(let v): return v.pythonRepr
        case .float(let v): return v.pythonRepr
        case .string(let v): return v.pythonRepr
        case .bool(let v): return v.pythonRepr
        case .none: return "None"
        case .tuple(let xs):
            return xs.count == 1 ? "(\(xs[0].pythonRepr),)"
                                 : "(" + xs.map(\.pythonRepr).joined(separator: ", ") + ")"
        case .list(let xs): return PythonRepr.list(xs)
        }
    }
}

/// Helpers behind `pythonRepr`.
public enum PythonRepr {
    /// Python's plain list repr: `[0, 1, 2]`, `['a', 'b']` (what `print(L)` shows).
    public static func list<S: Sequence>(_ items: S) -> String where S.Element: PythonReprConvertible {
        "[" + items.map(\.pythonRepr).joined(separator: ", ") + "]"
    }

    /// Python's float repr (shortest round-trip digits; exponent form below 1e-4 and from
    /// 1e16, written `1e-05` / `1e+16`; `nan`, `inf`).
    public static func float(_ x: Double) -> String {
        if x.isNaN { return "nan" }
        if x.isInfinite { return x < 0 ? "-inf" : "inf" }
        // Swift's description already uses the shortest round-trip digits and the same
        // switch points as Python; only the exponent spelling differs (Swift: 1e-05, 1e+16 too).
        var s = x.description
        if let e = s.firstIndex(of: "e") {
            var mantissa = String(s[..<e])
            var exp = String(s[s.index(after: e)...])
            if mantissa.hasSuffix(".0") { mantissa.removeLast(2) }
            let sign = exp.hasPrefix("-") ? "-" : "+"
            exp = String(exp.drop { $0 == "-" || $0 == "+" })
            if exp.count < 2 { exp = "0" + exp }
            s = mantissa + "e" + sign + exp
        }
        return s
    }

    /// Whether Python's `str.isprintable` holds for one code point: not in categories
    /// Cc, Cf, Cs, Co, Cn, Zl, Zp, and not a space separator other than U+0020.
    public static func isPrintable(_ s: Unicode.Scalar) -> Bool {
        if s == " " { return true }
        switch s.properties.generalCategory {
        case .control, .format, .surrogate, .privateUse, .unassigned,
             .lineSeparator, .paragraphSeparator, .spaceSeparator:
            return false
        default:
            return true
        }
    }

    /// `\xhh`, `\uhhhh` or `\Uhhhhhhhh` for one code point.
    public static func hexEscape(_ s: Unicode.Scalar) -> String {
        let v = s.value
        let hex = String(v, radix: 16)
        if v < 0x100 { return "\\x" + String(repeating: "0", count: 2 - hex.count) + hex }
        if v < 0x10000 { return "\\u" + String(repeating: "0", count: 4 - hex.count) + hex }
        return "\\U" + String(repeating: "0", count: 8 - hex.count) + hex
    }
}
