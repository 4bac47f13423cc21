import Foundation

/// Builds a `precompiled_charsmap` blob (Darts-clone double array + replacement strings) from
/// rewrite rules, so a model we train can carry its own normaliser.
///
/// `nmtNFKC()` produces sentencepiece's `nmt_nfkc` rules computed from Foundation's NFKC one
/// code point at a time, NFKC of decomposed sequences (as sentencepiece's builder does),
/// plus the NMT overrides (control characters removed, every kind of whitespace and `▁`
/// turned into a space). Checked against the table stored in the fixture model (see
/// `subwordBuiltNmtNfkcMatchesFixtureCharsmap`); characters added in Unicode versions newer
/// than this Foundation's ICU normalise differently.
enum CharsMapBuilder {
    /// Compiles `rules` (key bytes → replacement bytes; keys non-empty, without NUL).
    static func compile(_ rules: [(key: [UInt8], value: [UInt8])]) -> [UInt8] {
        // Replacement strings, each NUL-terminated, shared when equal.
        var normalized: [UInt8] = []
        var offsets: [[UInt8]: Int] = [:]
        var keyed: [([UInt8], Int)] = []
        for rule in rules where !rule.key.isEmpty && !rule.key.contains(0) {
            let offset: Int
            if let known = offsets[rule.value] {
                offset = known
            } else {
                offset = normalized.count
                offsets[rule.value] = offset
                normalized += rule.value + [0]
            }
            keyed.append((rule.key, offset))
        }
        keyed.sort { $0.0.lexicographicallyPrecedes($1.0) }
        let units = buildDoubleArray(keyed)
        var blob: [UInt8] = []
        blob.reserveCapacity(4 + units.count * 4 + normalized.count)
        let trieSize = UInt32(units.count * 4)
        for k in 0..<4 { blob.append(UInt8(truncatingIfNeeded: trieSize >> (8 * UInt32(k)))) }
        for u in units { for k in 0..<4 { blob.append(UInt8(truncatingIfNeeded: u >> (8 * UInt32(k)))) } }
        return blob + normalized
    }

    /// Darts-clone units: bits 0–7 label, bit 8 has-leaf, bits 10–30 offset to the node's
    /// children block (child with label k sits at `index ^ offset ^ k`); the slot at
    /// `index ^ offset` (label 0) of a node with a leaf holds its value with bit 31 set.
    private static func buildDoubleArray(_ keys: [([UInt8], Int)]) -> [UInt32] {
        // A plain trie first.
        var children: [[(UInt8, Int)]] = [[]]
        var leaf: [Int?] = [nil]
        for (key, value) in keys {
            var node = 0
            for byte in key {
                if let next = children[node].first(where: { $0.0 == byte })?.1 {
                    node = next
                } else {
                    children.append([])
                    leaf.append(nil)
                    children[node].append((byte, children.count - 1))
                    node = children.count - 1
                }
            }
            if leaf[node] == nil { leaf[node] = value }
        }
        var units = [UInt32](repeating: 0, count: 256)
        var used = [Bool](repeating: false, count: 256)
        // Slots used per 256-slot block: a node's children all land in the block of its base
        // (XOR with a byte only changes the low 8 bits), so full blocks can be skipped.
        var usedInBlock = [Int](repeating: 0, count: 1)
        func use(_ slot: Int) { used[slot] = true; usedInBlock[slot >> 8] += 1 }
        use(0)
        func grow(toBlock block: Int) {
            while usedInBlock.count <= block {
                units += [UInt32](repeating: 0, count: 256)
                used += [Bool](repeating: false, count: 256)
                usedInBlock.append(0)
            }
        }
        // Each base serves one node only: two nodes sharing a base would see each other's
        // children (slot base ^ label) as their own.
        var usedBases = Set<Int>()
        var firstOpenBlock = 0
        // Place each node's children (and its leaf slot) at a free base, breadth first.
        var queue: [(node: Int, index: Int)] = [(0, 0)]
        var head = 0
        while head < queue.count {
            let (node, index) = queue[head]
            head += 1
            let labels = children[node].map { Int($0.0) }
            let hasLeaf = leaf[node] != nil
            if labels.isEmpty && !hasLeaf { continue }
            let needed = labels.count + (hasLeaf ? 1 : 0)
            while firstOpenBlock < usedInBlock.count && usedInBlock[firstOpenBlock] == 256 { firstOpenBlock += 1 }
            var base = -1
            var block = firstOpenBlock
            search: while true {
                grow(toBlock: block)
                if 256 - usedInBlock[block] >= needed {
                    for low in 0..<256 {
                        let candidate = block << 8 | low
                        if candidate ^ index == 0 || usedBases.contains(candidate) { continue }
                        if hasLeaf && used[candidate] { continue }
                        if labels.allSatisfy({ !used[candidate ^ $0] }) { base = candidate; break search }
                    }
                }
                block += 1
            }
            usedBases.insert(base)
            let offset = UInt32(base ^ index)
            units[index] |= offset << 10
            if hasLeaf {
                units[index] |= 1 << 8
                use(base)
                units[base] = 0x8000_0000 | UInt32(leaf[node]!)
            }
            for (label, child) in children[node] {
                let slot = base ^ Int(label)
                use(slot)
                units[slot] = UInt32(label)
                queue.append((child, slot))
            }
        }
        return units
    }

    /// sentencepiece's `nmt_nfkc` rules: NFKC per code point, NFKC of every multi-character
    /// NFKD sequence (so decomposed `a` + U+0301 composes to `á`, also when a mark is spelled
    /// with a singleton such as U+0341), plus the NMT overrides.
    static func nmtNFKCRules() -> [(key: [UInt8], value: [UInt8])] {
        func scalars(_ s: String) -> [UInt32] { s.unicodeScalars.map(\.value) }
        func string(_ cs: [UInt32]) -> String {
            String(String.UnicodeScalarView(cs.compactMap(Unicode.Scalar.init)))
        }
        var rules: [[UInt32]: [UInt32]] = [:]
        var decomposed = Set<[UInt32]>()
        // Characters whose NFKD is one other character, by that character (e.g. U+0301 ← U+0341).
        var singletons: [UInt32: [UInt32]] = [:]
        for c in candidateCodePoints() {
            let s = string([c])
            let nfkc = scalars(s.precomposedStringWithCompatibilityMapping)
            if nfkc != [c] { rules[[c]] = nfkc }
            let nfkd = scalars(s.decomposedStringWithCompatibilityMapping)
            if nfkd.count == 1 {
                if nfkd[0] != c { singletons[nfkd[0], default: []].append(c) }
            } else {
                decomposed.insert(nfkd)
            }
        }
        for nfkd in decomposed {
            let nfkc = scalars(string(nfkd).precomposedStringWithCompatibilityMapping)
            if nfkc == nfkd { continue }
            // Every spelling of this sequence, each character replaced by its singletons too
            // (capped: only a handful of characters have singleton spellings).
            var variants: [[UInt32]] = [[]]
            for c in nfkd {
                let options = [c] + (singletons[c] ?? [])
                variants = variants.flatMap { v in options.map { v + [$0] } }
                if variants.count > 64 { variants = Array(variants.prefix(64)) }
            }
            for v in variants where v != nfkc { rules[v] = nfkc }
        }
        // NMT overrides: whitespace-like characters and ▁ become a space…
        // (U+061C, the Arabic letter mark, is not in the published list but is a space in
        // sentencepiece's stored table.)
        for c: UInt32 in [0x09, 0x0A, 0x0C, 0x0D, 0x061C, 0x1680, 0x200B, 0x200C, 0x200E, 0x200F, 0x2028,
                          0x2029, 0x2581, 0xFEFF, 0xFFFD] {
            rules[[c]] = [0x20]
        }
        // …control characters are removed…
        for c: UInt32 in Array(0x01...0x08) + [0x0B] + Array(0x0E...0x1F) + [0x7F, 0x8F, 0x9F] {
            rules[[c]] = []
        }
        // …and the full-width tilde is kept as it is.
        rules[[0xFF5E]] = nil
        return rules.map { (Array(string($0.key).utf8), Array(string($0.value).utf8)) }
    }

    /// Code points whose NFKC or NFKD form may differ from themselves: assigned, not
    /// private-use, outside the CJK unified ideograph blocks (unchanged by both forms) and
    /// outside the Hangul syllables. Known gap: sentencepiece's table also composes
    /// decomposed Hangul jamo sequences back into syllables; including the 11,172 syllables
    /// made this simple builder too slow, so such (rare) input stays decomposed.
    private static func candidateCodePoints() -> [UInt32] {
        var result: [UInt32] = []
        for c in UInt32(0)...0x10FFFF {
            switch c {
            case 0xD800...0xDFFF, 0x3400...0x4DBF, 0x4E00...0x9FFF, 0xAC00...0xD7A3, 0xE000...0xF8FF,
                 0x20000...0x2A6DF, 0x2A700...0x2EBEF, 0x30000...0x3134F, 0xF0000...0x10FFFF:
                continue
            default:
                guard let scalar = Unicode.Scalar(c), scalar.properties.generalCategory != .unassigned else { continue }
                result.append(c)
            }
        }
        return result
    }
}

extension SentencePieceModelProto.NormalizerSpec {
    /// An `nmt_nfkc` normaliser built without any model file (see `CharsMapBuilder`), with
    /// sentencepiece's defaults: dummy prefix, extra whitespace removed, spaces as `▁`.
    public static func nmtNFKC() -> Self {
        var spec = Self()
        spec.name = "nmt_nfkc"
        spec.precompiledCharsmap = CharsMapBuilder.compile(CharsMapBuilder.nmtNFKCRules())
        spec.present = [1, 2]
        return spec
    }

    /// No rewriting at all (sentencepiece's `identity`), whitespace handling as default.
    public static func identity() -> Self {
        var spec = Self()
        spec.name = "identity"
        spec.present = [1]
        return spec
    }
}
