import Foundation

/// Python 3.11's `html.unescape`, driven by its exported tables
/// (`Resources/python_html_unescape_tables.json`).
///
/// Scans `&(#[0-9]+;?|#[xX][0-9a-fA-F]+;?|[^\t\n\f <&#;]{1,32};?)` left to right. Numeric
/// references map through the invalid-charref table, surrogates and values above U+10FFFF
/// give U+FFFD, invalid code points are removed. Named references use an exact match, else
/// the longest prefix (≥ 2 characters) that is a key, else stay unchanged.
enum HTMLUnescape {
    struct Tables: Sendable {
        var named: [String: [Unicode.Scalar]]
        var invalidCharrefs: [UInt32: [Unicode.Scalar]]
        var invalidCodepoints: Set<UInt32>
    }

    static let tables: Tables = {
        do {
            let object = try TextResources.json("python_html_unescape_tables")
            guard let named = object["html5_named_references"] as? [String: String],
                  let refs = object["invalid_charrefs"] as? [String: String],
                  let invalid = object["invalid_codepoints"] as? [Int] else {
                throw TextResourceError.malformed("python_html_unescape_tables.json")
            }
            var charrefs: [UInt32: [Unicode.Scalar]] = [:]
            for (k, v) in refs { if let n = UInt32(k) { charrefs[n] = Array(v.unicodeScalars) } }
            return Tables(named: named.mapValues { Array($0.unicodeScalars) }, invalidCharrefs: charrefs,
                          invalidCodepoints: Set(invalid.map { UInt32($0) }))
        } catch {
            fatalError("LMLab Text resources are broken (a packaging error, not bad input): \(error)")
        }
    }()

    static func unescape(_ s: [Unicode.Scalar]) -> [Unicode.Scalar] {
        guard let firstAmp = s.firstIndex(of: "&") else { return s }
        let t = tables
        let n = s.count
        var out: [Unicode.Scalar] = []
        out.reserveCapacity(n)
        out.append(contentsOf: s[0..<firstAmp])
        var i = firstAmp
        while i < n {
            let c = s[i]
            guard c == "&", i + 1 < n else { out.append(c); i += 1; continue }
            if s[i + 1] == "#" {
                if let (value, end) = numericReference(s, i + 2) {
                    appendCharref(value, t, &out)
                    i = end
                } else {
                    // `&#` not followed by a valid number: the named branch cannot start with `#`.
                    out.append(c)
                    i += 1
                }
                continue
            }
            // Named: [^\t\n\f <&#;]{1,32};?
            var j = i + 1
            while j < n && j - (i + 1) < 32 && !isNameStop(s[j]) { j += 1 }
            if j == i + 1 { out.append(c); i += 1; continue }
            if j < n && s[j] == ";" { j += 1 }
            let name = String(scalars: s[(i + 1)..<j])
            if let v = t.named[name] {
                out.append(contentsOf: v)
            } else {
                let nameScalars = s[(i + 1)..<j]
                var done = false
                var x = nameScalars.count - 1
                while x > 1 {
                    if let v = t.named[String(scalars: nameScalars.prefix(x))] {
                        out.append(contentsOf: v)
                        out.append(contentsOf: nameScalars.dropFirst(x))
                        done = true
                        break
                    }
                    x -= 1
                }
                if !done { out.append(contentsOf: s[i..<j]) }
            }
            i = j
        }
        return out
    }

    @inline(__always)
    private static func isNameStop(_ c: Unicode.Scalar) -> Bool {
        switch c { case "\t", "\n", "\u{0C}", " ", "<", "&", "#", ";": return true; default: return false }
    }

    /// Parses `[0-9]+;?` or `[xX][0-9a-fA-F]+;?` at `start`; values saturate above U+10FFFF.
    private static func numericReference(_ s: [Unicode.Scalar], _ start: Int) -> (UInt32, Int)? {
        let n = s.count
        var j = start
        var hex = false
        if j < n && (s[j] == "x" || s[j] == "X") { hex = true; j += 1 }
        let digitsStart = j
        var value: UInt32 = 0
        while j < n, let d = digitValue(s[j], hex: hex) {
            value = value > 0x110000 ? value : value * (hex ? 16 : 10) + d
            j += 1
        }
        guard j > digitsStart else { return nil }
        if j < n && s[j] == ";" { j += 1 }
        return (value, j)
    }

    @inline(__always)
    private static func digitValue(_ c: Unicode.Scalar, hex: Bool) -> UInt32? {
        let v = c.value
        if v >= 0x30 && v <= 0x39 { return v - 0x30 }
        guard hex else { return nil }
        if v >= 0x61 && v <= 0x66 { return v - 0x61 + 10 }
        if v >= 0x41 && v <= 0x46 { return v - 0x41 + 10 }
        return nil
    }

    private static func appendCharref(_ value: UInt32, _ t: Tables, _ out: inout [Unicode.Scalar]) {
        if let r = t.invalidCharrefs[value] { out.append(contentsOf: r); return }
        if (0xD800...0xDFFF).contains(value) || value > 0x10FFFF { out.append("\u{FFFD}"); return }
        if t.invalidCodepoints.contains(value) { return }
        if let scalar = Unicode.Scalar(value) { out.append(scalar) }
    }
}
