/// Python's notion of character classes and lower-casing, on Unicode scalars (code points).
///
/// fastai's rules are Python `re` patterns on `str`, so `\s`, `\w` and `str.lower()` follow
/// Python's definitions, which differ from ICU's and from Swift's `Character` view.
enum PythonUnicode {
    /// `str.isspace()` / `re`'s `\s`: the 29 code points Python treats as whitespace
    /// (includes U+001C–U+001F and U+0085, which ICU's `\s` lacks or differs on).
    @inline(__always)
    static func isSpace(_ v: UInt32) -> Bool {
        if v < 0x80 { return (v >= 9 && v <= 13) || (v >= 28 && v <= 32) }
        switch v {
        case 0x85, 0xA0, 0x1680, 0x2000...0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000: return true
        default: return false
        }
    }

    @inline(__always)
    static func isSpace(_ s: Unicode.Scalar) -> Bool { isSpace(s.value) }

    /// `re`'s Unicode `\w`: `str.isalnum()` or `_`. isalnum = letter categories (Lu, Ll, Lt,
    /// Lm, Lo) or any numeric type (so `²` and `½` are word characters, combining marks are not).
    @inline(__always)
    static func isWord(_ s: Unicode.Scalar) -> Bool {
        let v = s.value
        if v < 0x80 {
            return (v >= 0x61 && v <= 0x7A) || (v >= 0x41 && v <= 0x5A) || (v >= 0x30 && v <= 0x39) || v == 0x5F
        }
        switch s.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter:
            return true
        default:
            return s.properties.numericType != nil
        }
    }

    @inline(__always)
    static func isASCIIUpper(_ s: Unicode.Scalar) -> Bool { s.value >= 0x41 && s.value <= 0x5A }
    @inline(__always)
    static func isASCIILower(_ s: Unicode.Scalar) -> Bool { s.value >= 0x61 && s.value <= 0x7A }

    /// Appends Python's `text.lower()` of `text[range]` to `out`: full Unicode lower-case
    /// mappings (`İ` → `i̇`) and the final-sigma rule (`Σ` → `ς` at the end of a word), with
    /// the context taken from inside `range` only, like Python lowering that substring.
    static func appendLowercased(_ text: UnsafeBufferPointer<Unicode.Scalar>, _ range: Range<Int>,
                                 to out: inout [Unicode.Scalar]) {
        for i in range {
            let s = text[i]
            let v = s.value
            if v < 0x80 {
                out.append(v >= 0x41 && v <= 0x5A ? Unicode.Scalar(v + 32)! : s)
            } else if v == 0x3A3 {
                out.append(isFinalSigma(text, i, range) ? "\u{3C2}" : "\u{3C3}")
            } else {
                let p = s.properties
                if p.changesWhenLowercased {
                    out.append(contentsOf: p.lowercaseMapping.unicodeScalars)
                } else {
                    out.append(s)
                }
            }
        }
    }

    /// Python's rule (unicodeobject.c `handle_capital_sigma`): final form when preceded by a
    /// cased letter and not followed by one, skipping case-ignorable characters both ways.
    private static func isFinalSigma(_ text: UnsafeBufferPointer<Unicode.Scalar>, _ i: Int,
                                     _ range: Range<Int>) -> Bool {
        var j = i - 1
        while j >= range.lowerBound && text[j].properties.isCaseIgnorable { j -= 1 }
        guard j >= range.lowerBound && text[j].properties.isCased else { return false }
        j = i + 1
        while j < range.upperBound && text[j].properties.isCaseIgnorable { j += 1 }
        return j == range.upperBound || !text[j].properties.isCased
    }

    /// Python's `lower()` of a whole scalar sequence.
    static func lowercased(_ text: [Unicode.Scalar]) -> [Unicode.Scalar] {
        var out: [Unicode.Scalar] = []
        out.reserveCapacity(text.count + 8)
        text.withUnsafeBufferPointer { appendLowercased($0, 0..<$0.count, to: &out) }
        return out
    }
}

extension String {
    /// The string's Unicode scalars as an array (code points, like a Python `str`).
    var scalarArray: [Unicode.Scalar] { scalarsFast }

    /// A string made of the given scalars.
    init<S: Sequence>(scalars: S) where S.Element == Unicode.Scalar {
        var view = String.UnicodeScalarView()
        view.append(contentsOf: scalars)
        self = String(view)
    }

    /// A string made of the given scalars (fast path: direct UTF-8 encoding, no generics).
    init(scalars buf: UnsafeBufferPointer<Unicode.Scalar>) {
        var bytes = 0
        for s in buf {
            let v = s.value
            bytes += v < 0x80 ? 1 : v < 0x800 ? 2 : v < 0x10000 ? 3 : 4
        }
        self.init(unsafeUninitializedCapacity: bytes) { out in
            var k = 0
            for s in buf {
                let v = s.value
                if v < 0x80 {
                    out[k] = UInt8(v); k += 1
                } else if v < 0x800 {
                    out[k] = UInt8(0xC0 | (v >> 6)); out[k + 1] = UInt8(0x80 | (v & 0x3F)); k += 2
                } else if v < 0x10000 {
                    out[k] = UInt8(0xE0 | (v >> 12)); out[k + 1] = UInt8(0x80 | ((v >> 6) & 0x3F))
                    out[k + 2] = UInt8(0x80 | (v & 0x3F)); k += 3
                } else {
                    out[k] = UInt8(0xF0 | (v >> 18)); out[k + 1] = UInt8(0x80 | ((v >> 12) & 0x3F))
                    out[k + 2] = UInt8(0x80 | ((v >> 6) & 0x3F)); out[k + 3] = UInt8(0x80 | (v & 0x3F)); k += 4
                }
            }
            return k
        }
    }

    init(scalars slice: Slice<UnsafeBufferPointer<Unicode.Scalar>>) {
        self.init(scalars: UnsafeBufferPointer(rebasing: slice))
    }

    init(scalars array: [Unicode.Scalar]) {
        self = array.withUnsafeBufferPointer { String(scalars: $0) }
    }

    init(scalars slice: ArraySlice<Unicode.Scalar>) {
        self = slice.withUnsafeBufferPointer { String(scalars: $0) }
    }

    /// The string's code points (fast path for the tokenizer).
    var scalarsFast: [Unicode.Scalar] {
        var out: [Unicode.Scalar] = []
        out.reserveCapacity(utf8.count)
        for s in unicodeScalars { out.append(s) }
        return out
    }
}
