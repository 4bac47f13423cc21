import Foundation

/// sentencepiece's compiled normalisation table (`NormalizerSpec.precompiled_charsmap`).
///
/// Layout: a little-endian `u32` T (trie size in bytes), T bytes of a Darts-clone double
/// array (`u32` units), then NUL-terminated UTF-8 replacement strings addressed by byte
/// offset. A lookup walks the double array over the input bytes and keeps the longest key
/// that is a prefix of the input.
struct PrecompiledCharsMap: Sendable {
    /// Double-array units.
    let units: [UInt32]
    /// Replacement strings, each ending with NUL.
    let normalized: [UInt8]

    init(blob: [UInt8]) throws {
        guard blob.count > 4 else {
            throw SentencePieceError("precompiled charsmap is too short (\(blob.count) bytes)")
        }
        let trieSize = Int(blob[0]) | Int(blob[1]) << 8 | Int(blob[2]) << 16 | Int(blob[3]) << 24
        guard trieSize < blob.count - 4 + 1, trieSize + 4 <= blob.count, trieSize % 4 == 0, trieSize >= 4 else {
            throw SentencePieceError("precompiled charsmap trie size \(trieSize) does not fit its \(blob.count)-byte blob")
        }
        var units = [UInt32](repeating: 0, count: trieSize / 4)
        for i in 0..<units.count {
            let b = 4 + 4 * i
            units[i] = UInt32(blob[b]) | UInt32(blob[b + 1]) << 8 | UInt32(blob[b + 2]) << 16 | UInt32(blob[b + 3]) << 24
        }
        self.units = units
        self.normalized = Array(blob[(4 + trieSize)...])
    }

    // Darts-clone unit fields.
    @inline(__always) private static func hasLeaf(_ u: UInt32) -> Bool { (u >> 8) & 1 == 1 }
    @inline(__always) private static func value(_ u: UInt32) -> Int { Int(u & 0x7FFF_FFFF) }
    @inline(__always) private static func label(_ u: UInt32) -> UInt32 { u & 0x8000_00FF }
    @inline(__always) private static func offset(_ u: UInt32) -> Int { Int((u >> 10) << ((u & 0x200) >> 6)) }

    /// sentencepiece keeps at most this many prefix matches (a stack array); the longest of
    /// those wins.
    private static let maxResults = 32

    /// The longest rule whose key is a prefix of `input[start..<end]`: its key length in
    /// bytes and the byte offset of its replacement in `normalized`; nil when none matches.
    func longestMatch(_ input: UnsafeBufferPointer<UInt8>, from start: Int, to end: Int) -> (length: Int, value: Int)? {
        units.withUnsafeBufferPointer { units -> (length: Int, value: Int)? in
            let count = units.count
            var best: (length: Int, value: Int)?
            var results = 0
            var pos = Self.offset(units[0])
            var i = start
            while i < end {
                let byte = input[i]
                pos ^= Int(byte)
                guard pos < count else { return best }
                let unit = units[pos]
                guard Self.label(unit) == UInt32(byte) else { return best }
                pos ^= Self.offset(unit)
                guard pos < count else { return best }
                if Self.hasLeaf(unit) {
                    if results < Self.maxResults { best = (i + 1 - start, Self.value(units[pos])) }
                    results += 1
                }
                i += 1
            }
            return best
        }
    }

    /// Whether some rule's key starts with `byte` (if not, that byte is never rewritten).
    func hasKey(startingWith byte: UInt8) -> Bool {
        let pos = Self.offset(units[0]) ^ Int(byte)
        return pos < units.count && Self.label(units[pos]) == UInt32(byte)
    }

    /// The replacement bytes stored at `value` (up to the NUL); empty when out of range.
    func replacement(at value: Int) -> ArraySlice<UInt8> {
        guard value < normalized.count else { return [] }
        var stop = value
        while stop < normalized.count, normalized[stop] != 0 { stop += 1 }
        return normalized[value..<stop]
    }
}
