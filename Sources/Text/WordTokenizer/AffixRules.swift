import Foundation

/// The four spaCy searches the tokenizer needs on one span of code points.
/// Lengths and ranges are in code points, relative to the start of `s`.
protocol AffixRules: Sendable {
    /// `find_prefix`: length of the prefix match at 0 (first alternative in list order wins), or 0.
    func prefixLength(_ s: UnsafeBufferPointer<Unicode.Scalar>) -> Int
    /// `find_suffix`: length of the leftmost-starting suffix match that ends at the end, or 0.
    func suffixLength(_ s: UnsafeBufferPointer<Unicode.Scalar>) -> Int
    /// `infix_finditer`: non-overlapping infix matches, left to right.
    func infixes(_ s: UnsafeBufferPointer<Unicode.Scalar>) -> [Range<Int>]
    /// `url_match`: does the URL pattern match the whole of `s`?
    func isURL(_ s: UnsafeBufferPointer<Unicode.Scalar>) -> Bool
}

/// The reference implementation: spaCy's exported regex strings compiled with
/// NSRegularExpression (ICU), which accepts them unchanged except for the URL pattern's
/// leading `(?u)`. Slow but obviously faithful; the tests compare other implementations to it.
final class RegexAffixRules: AffixRules, @unchecked Sendable {
    // NSRegularExpression is documented as safe to share between threads.
    private let prefix: NSRegularExpression
    private let suffix: NSRegularExpression
    private let infix: NSRegularExpression
    private let url: NSRegularExpression

    init(prefix: String, suffix: String, infix: String, url: String) throws {
        self.prefix = try NSRegularExpression(pattern: prefix)
        self.suffix = try NSRegularExpression(pattern: suffix)
        self.infix = try NSRegularExpression(pattern: infix)
        let urlPattern = url.hasPrefix("(?u)") ? String(url.dropFirst(4)) : url
        self.url = try NSRegularExpression(pattern: urlPattern)
    }

    /// The span as a String plus the UTF-16 offset of every code point boundary.
    private struct Bridged {
        let string: String
        let utf16Offsets: [Int]  // utf16Offsets[k] = UTF-16 offset of code point k; last = length

        init(_ s: UnsafeBufferPointer<Unicode.Scalar>) {
            string = String(scalars: s)
            var offsets = [Int](repeating: 0, count: s.count + 1)
            var o = 0
            for k in 0..<s.count {
                offsets[k] = o
                o += s[k].value > 0xFFFF ? 2 : 1
            }
            offsets[s.count] = o
            utf16Offsets = offsets
        }

        var fullRange: NSRange { NSRange(location: 0, length: utf16Offsets[utf16Offsets.count - 1]) }

        func scalarIndex(_ utf16: Int) -> Int {
            var lo = 0, hi = utf16Offsets.count - 1
            while lo < hi {
                let mid = (lo + hi) / 2
                if utf16Offsets[mid] < utf16 { lo = mid + 1 } else { hi = mid }
            }
            return lo
        }

        func scalarRange(_ r: NSRange) -> Range<Int> {
            scalarIndex(r.location)..<scalarIndex(r.location + r.length)
        }
    }

    func prefixLength(_ s: UnsafeBufferPointer<Unicode.Scalar>) -> Int {
        let b = Bridged(s)
        guard let m = prefix.firstMatch(in: b.string, range: b.fullRange) else { return 0 }
        return b.scalarRange(m.range).count
    }

    func suffixLength(_ s: UnsafeBufferPointer<Unicode.Scalar>) -> Int {
        let b = Bridged(s)
        guard let m = suffix.firstMatch(in: b.string, range: b.fullRange) else { return 0 }
        return b.scalarRange(m.range).count
    }

    func infixes(_ s: UnsafeBufferPointer<Unicode.Scalar>) -> [Range<Int>] {
        let b = Bridged(s)
        return infix.matches(in: b.string, range: b.fullRange).map { b.scalarRange($0.range) }
    }

    func isURL(_ s: UnsafeBufferPointer<Unicode.Scalar>) -> Bool {
        let b = Bridged(s)
        return url.firstMatch(in: b.string, range: b.fullRange) != nil
    }
}
