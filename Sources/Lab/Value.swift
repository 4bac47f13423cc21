import Tensor

/// A value of the command language.
///
/// Numbers keep Python's int/float distinction so displays match what a fastai user
/// sees (`len(x)` is `3`, `1e-2` is `0.01`). Library objects (learners, data loaders,
/// plots, …) are `.object` values implementing ``LabObject``.
public indirect enum Value {
    case none
    case bool(Bool)
    case int(Int)
    case float(Double)
    case string(String)
    case list([Value])
    case tuple([Value])
    /// Python's `slice(start, stop, step)`; fastai uses `slice(lo, hi)` for discriminative learning rates.
    case slice(start: Value?, stop: Value?, step: Value?)
    case tensor(Tensor)
    case function(Builtin)
    case object(any LabObject)

    /// The name the language uses for the value's type (as `type(x)` shows it).
    public var typeName: String {
        switch self {
        case .none: "NoneType"
        case .bool: "bool"
        case .int: "int"
        case .float: "float"
        case .string: "str"
        case .list: "list"
        case .tuple: "tuple"
        case .slice: "slice"
        case .tensor: "Tensor"
        case .function: "function"
        case .object(let o): o.typeName
        }
    }

    /// Python truthiness.
    public var isTruthy: Bool {
        switch self {
        case .none: false
        case .bool(let b): b
        case .int(let i): i != 0
        case .float(let d): d != 0
        case .string(let s): !s.isEmpty
        case .list(let a), .tuple(let a): !a.isEmpty
        case .tensor(let t): t.count > 0
        default: true
        }
    }

    /// The number held by an int, float or bool, or nil.
    public var number: Double? {
        switch self {
        case .int(let i): Double(i)
        case .float(let d): d
        case .bool(let b): b ? 1 : 0
        default: nil
        }
    }

    /// Python's `repr`: strings quoted, floats in shortest round-trip form. Stops with `…` after
    /// about `Convert.maxDisplay` characters (see `write(into:limit:)`).
    public var repr: String {
        var out = ""
        write(into: &out, limit: Convert.maxDisplay)
        return out
    }

    /// Appends the repr to `out`, stopping at the first item boundary after `out` passed `limit`
    /// UTF-8 bytes, with `…` in place of the rest. The budget is checked while the text is built,
    /// so a list of 10^9 items made by nesting (`x = [x] * 1000` three times) costs no more
    /// than a short one.
    func write(into out: inout String, limit: Int) {
        func items(_ a: [Value], _ open: String, _ close: String) {
            out += open
            for (k, x) in a.enumerated() {
                if k > 0 { out += ", " }
                if out.utf8.count > limit { out += "…"; break }
                x.write(into: &out, limit: limit)
            }
            out += close
        }
        switch self {
        case .none: out += "None"
        case .bool(let b): out += b ? "True" : "False"
        case .int(let i): out += String(i)
        case .float(let d): out += Value.formatFloat(d)
        case .string(let s): out += pythonRepr(s)
        case .list(let a): items(a, "[", "]")
        case .tuple(let a) where a.count == 1: items(a, "(", ",)")
        case .tuple(let a): items(a, "(", ")")
        case let .slice(a, b, c): items([a ?? .none, b ?? .none, c ?? .none], "slice(", ")")
        case .tensor(let t): out += t.description
        case .function(let f): out += "<function \(f.name)>"
        case .object(let o): out += o.display
        }
    }

    /// A float from a tensor element, shown with float32's shortest digits (`0.1`, not `0.10000000149011612`).
    public static func float32(_ x: Float) -> Value {
        .float(x.isFinite ? Double(x.description) ?? Double(x) : Double(x))
    }

    /// Python's `str`: like `repr` but strings appear without quotes (what `print` writes).
    public var str: String {
        if case .string(let s) = self { return s }
        if case .object(let o) = self, let text = o.plainText { return text }
        return repr
    }

    /// A float the way Python prints it: `0.01`, `1000.0`, `1e-05`, `nan`, `inf`.
    public static func formatFloat(_ d: Double) -> String {
        if d.isNaN { return "nan" }
        if d.isInfinite { return d > 0 ? "inf" : "-inf" }
        if d == d.rounded() && abs(d) < 1e16 { return String(format: "%.1f", d) }
        return d.description
    }
}

/// Python's `repr` of a string: single quotes unless the text has `'` and no `"`;
/// backslash, the quote, tab, newline and return escaped; other invisible characters
/// as `\xhh`, `\uhhhh` or `\Uhhhhhhhh`.
public func pythonRepr(_ s: String) -> String {
    let quote: Character = s.contains("'") && !s.contains("\"") ? "\"" : "'"
    var out = String(quote)
    for u in s.unicodeScalars {
        switch u {
        case "\\": out += "\\\\"
        case "\t": out += "\\t"
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        default:
            if Character(u) == quote { out += "\\" + String(quote); continue }
            if isPrintable(u) { out.unicodeScalars.append(u); continue }
            let v = u.value
            if v < 0x100 { out += "\\x" + hex(v, 2) }
            else if v < 0x10000 { out += "\\u" + hex(v, 4) }
            else { out += "\\U" + hex(v, 8) }
        }
    }
    out.append(quote)
    return out
}

private func hex(_ v: UInt32, _ width: Int) -> String {
    let h = String(v, radix: 16)
    return String(repeating: "0", count: max(0, width - h.count)) + h
}

/// Python's `str.isprintable` per scalar: not Cc, Cf, Cs, Co, Cn, Zl, Zp, nor Zs other than space.
private func isPrintable(_ u: Unicode.Scalar) -> Bool {
    switch u.properties.generalCategory {
    case .control, .format, .surrogate, .privateUse, .unassigned, .lineSeparator, .paragraphSeparator:
        return false
    case .spaceSeparator:
        return u == " "
    default:
        return true
    }
}

import Foundation
