import Foundation
import TestSupport

/// Describes the first difference between two token lists (nil when equal).
func firstTokenMismatch(_ got: [String], _ want: [String]) -> String? {
    if got == want { return nil }
    let k = zip(got, want).prefix { $0 == $1 }.count
    let g = k < got.count ? debugRepr(got[k]) : "<end>"
    let w = k < want.count ? debugRepr(want[k]) : "<end>"
    let context = want[max(0, k - 3)..<min(want.count, k + 3)].map(debugRepr).joined(separator: " ")
    return "token \(k): got \(g), want \(w) (got \(got.count) tokens, want \(want.count); want around: \(context))"
}

/// Describes the first difference between two strings, by code point.
func firstTextMismatch(_ got: String, _ want: String) -> String? {
    if got.unicodeScalars.elementsEqual(want.unicodeScalars) { return nil }
    let g = Array(got.unicodeScalars), w = Array(want.unicodeScalars)
    let k = zip(g, w).prefix { $0 == $1 }.count
    func around(_ s: [Unicode.Scalar]) -> String {
        debugRepr(String(scalars: s[max(0, k - 20)..<min(s.count, k + 20)]))
    }
    return "code point \(k): got …\(around(g))…, want …\(around(w))…"
}

func debugRepr(_ s: String) -> String {
    var out = "\""
    for c in s.unicodeScalars {
        if c.value < 0x20 || c.value == 0x7F || (c.value >= 0x80 && c.value < 0xA1) || c == "\u{2028}" || c == "\u{2029}" {
            out += "\\u{\(String(c.value, radix: 16))}"
        } else if c == "\"" || c == "\\" {
            out += "\\" + String(c)
        } else {
            out.unicodeScalars.append(c)
        }
    }
    return out + "\""
}

extension String {
    init<S: Sequence>(scalars: S) where S.Element == Unicode.Scalar {
        var view = String.UnicodeScalarView()
        view.append(contentsOf: scalars)
        self = String(view)
    }
}

/// The spec resources copied into Tests/Fixtures/spec-resources.
enum SpecResources {
    static func json(_ name: String) throws -> Any {
        let url = Fixtures.packageRoot.appendingPathComponent("Tests/Fixtures/spec-resources/\(name)")
        return try JSONSerialization.jsonObject(with: Data(contentsOf: url))
    }
}
