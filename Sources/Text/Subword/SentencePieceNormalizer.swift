import Foundation

/// sentencepiece's normaliser: charsmap rewriting (e.g. `nmt_nfkc`), whitespace clean-up,
/// the dummy prefix and the `▁` meta symbol. Works on UTF-8 bytes, as sentencepiece does.
///
///     "  Hello   world " → "▁Hello▁world"
struct SentencePieceNormalizer: Sendable {
    static let spaceSymbol: [UInt8] = [0xE2, 0x96, 0x81]  // U+2581 ▁
    private static let replacementChar: [UInt8] = [0xEF, 0xBF, 0xBD]  // U+FFFD

    let charsMap: PrecompiledCharsMap?
    /// User-defined symbols are copied verbatim, never normalised.
    let userDefined: PieceTrie
    let addDummyPrefix: Bool
    let removeExtraWhitespaces: Bool
    let escapeWhitespaces: Bool
    let treatWhitespaceAsSuffix: Bool

    init(spec: SentencePieceModelProto.NormalizerSpec, treatWhitespaceAsSuffix: Bool = false,
         userDefinedSymbols: [String]) throws {
        charsMap = spec.precompiledCharsmap.isEmpty ? nil : try PrecompiledCharsMap(blob: spec.precompiledCharsmap)
        userDefined = PieceTrie(userDefinedSymbols.enumerated().map { (Array($0.element.utf8), $0.offset) })
        addDummyPrefix = spec.addDummyPrefix
        removeExtraWhitespaces = spec.removeExtraWhitespaces
        escapeWhitespaces = spec.escapeWhitespaces
        self.treatWhitespaceAsSuffix = treatWhitespaceAsSuffix
        // ASCII bytes (other than space) that no rule or user symbol starts with are copied
        // unchanged; the normalising loop takes a shortcut for them.
        var passThrough = [Bool](repeating: false, count: 128)
        for b in 0..<128 where b != 0x20 {
            let byte = UInt8(b)
            passThrough[b] = userDefined.child(0, byte) < 0 && !(charsMap?.hasKey(startingWith: byte) ?? false)
        }
        asciiPassThrough = passThrough
    }

    /// See `init`: ASCII bytes copied verbatim.
    let asciiPassThrough: [Bool]

    /// Length of one UTF-8 character by its lead byte, as sentencepiece counts it
    /// (continuation and invalid lead bytes count as 1).
    @inline(__always) static func oneCharLength(_ lead: UInt8) -> Int {
        switch lead >> 4 {
        case 0xC, 0xD: 2
        case 0xE: 3
        case 0xF: 4
        default: 1
        }
    }

    /// Length of a valid UTF-8 character at `i`, or nil if the bytes there are malformed
    /// (overlong forms, surrogates and values past U+10FFFF are malformed).
    static func validCharLength(_ s: UnsafeBufferPointer<UInt8>, _ i: Int, _ end: Int) -> Int? {
        let b0 = UInt32(s[i])
        let left = end - i
        @inline(__always) func trail(_ k: Int) -> Bool { s[i + k] & 0xC0 == 0x80 }
        func valid(_ c: UInt32) -> Bool { c < 0xD800 || (c >= 0xE000 && c <= 0x10FFFF) }
        if b0 < 0x80 { return 1 }
        if left >= 2, b0 & 0xE0 == 0xC0, trail(1) {
            let c = (b0 & 0x1F) << 6 | UInt32(s[i + 1] & 0x3F)
            return c >= 0x80 ? 2 : nil
        }
        if left >= 3, b0 & 0xF0 == 0xE0, trail(1), trail(2) {
            let c = (b0 & 0x0F) << 12 | UInt32(s[i + 1] & 0x3F) << 6 | UInt32(s[i + 2] & 0x3F)
            return c >= 0x800 && valid(c) ? 3 : nil
        }
        if left >= 4, b0 & 0xF8 == 0xF0, trail(1), trail(2), trail(3) {
            let c = (b0 & 0x07) << 18 | UInt32(s[i + 1] & 0x3F) << 12 | UInt32(s[i + 2] & 0x3F) << 6 | UInt32(s[i + 3] & 0x3F)
            return c >= 0x10000 && valid(c) ? 4 : nil
        }
        return nil
    }

    /// What the input at `i` normalises to: a replacement (bytes to emit) and how many input
    /// bytes it consumes. `emit` receives the replacement bytes.
    @inline(__always)
    private func normalizePrefix(_ s: UnsafeBufferPointer<UInt8>, _ i: Int, _ end: Int,
                                 _ emit: (UnsafeBufferPointer<UInt8>) -> Void) -> Int {
        if !userDefined.isEmpty {
            let n = userDefined.longestPrefix(s, from: i, to: end)
            if n > 0 {
                emit(UnsafeBufferPointer(rebasing: s[i..<(i + n)]))
                return n
            }
        }
        if let map = charsMap, let match = map.longestMatch(s, from: i, to: end) {
            let replacement = map.replacement(at: match.value)
            replacement.withUnsafeBufferPointer { emit($0) }
            return match.length
        }
        if let n = Self.validCharLength(s, i, end) {
            emit(UnsafeBufferPointer(rebasing: s[i..<(i + n)]))
            return n
        }
        // Malformed UTF-8: emit U+FFFD but consume a single byte, like sentencepiece.
        Self.replacementChar.withUnsafeBufferPointer { emit($0) }
        return 1
    }

    /// Normalises UTF-8 `input` into `output` (cleared first).
    func normalize(_ input: UnsafeBufferPointer<UInt8>, into output: inout [UInt8]) {
        output.removeAll(keepingCapacity: true)
        let end = input.count
        var i = 0
        if end == 0 { return }
        if removeExtraWhitespaces {
            // Skip leading input whose normalised form is exactly one space.
            while i < end {
                var isSpace = false
                let n = normalizePrefix(input, i, end) { isSpace = $0.count == 1 && $0[0] == 0x20 }
                if !isSpace { break }
                i += n
            }
            if i == end { return }
        }
        output.reserveCapacity((end - i) * 3)
        let space: [UInt8] = escapeWhitespaces ? Self.spaceSymbol : [0x20]
        if !treatWhitespaceAsSuffix && addDummyPrefix { output += space }
        var isPrevSpace = removeExtraWhitespaces
        while i < end {
            let byte = input[i]
            if byte < 0x80 && asciiPassThrough[Int(byte)] {
                output.append(byte)
                isPrevSpace = false
                i += 1
                continue
            }
            let n = normalizePrefix(input, i, end) { piece in
                var k = 0
                if isPrevSpace { while k < piece.count, piece[k] == 0x20 { k += 1 } }
                guard k < piece.count else { return }
                while k < piece.count {
                    let b = piece[k]
                    if escapeWhitespaces && b == 0x20 { output += Self.spaceSymbol } else { output.append(b) }
                    k += 1
                }
                isPrevSpace = piece[piece.count - 1] == 0x20
            }
            i += n
            if !removeExtraWhitespaces { isPrevSpace = false }
        }
        if removeExtraWhitespaces {
            while output.count >= space.count, output.suffix(space.count).elementsEqual(space) {
                output.removeLast(space.count)
            }
        }
        if treatWhitespaceAsSuffix && addDummyPrefix { output += space }
    }

    /// Normalises a string; the result is valid UTF-8 as long as the charsmap is.
    func normalize(_ text: String) -> String {
        var text = text
        var output: [UInt8] = []
        text.withUTF8 { normalize($0, into: &output) }
        return String(decoding: output, as: UTF8.self)
    }
}
