/// Span text (code points) → its tokens: an open-addressing hash table keyed directly by the
/// scalars, so a hit costs one FNV-1a hash and one compare, with no String made.
///
/// Lookups are dominated by memory latency (the table outgrows the CPU caches on a real
/// corpus), so a hit touches three places: the slot, which packs a 16-bit hash tag, the key
/// length and the key's offset in `arena`; the arena, which stores the entry header (where
/// its tokens are, how many, which start matcher patterns) right before the key's scalars;
/// and `tokens`, where the entries' token strings sit side by side (no per-entry array).
struct SpanCache {
    struct Entry {
        var tokens: [String]
        /// Positions (within `tokens`) of tokens that start a matcher pattern.
        var patternStarts: [Int]
    }

    /// Where a cached entry's tokens are in `tokens`, and a bit mask of the ones that start
    /// a matcher pattern.
    struct Hit {
        var start: Int
        var count: Int
        var patternMask: UInt32
    }

    /// Entries with more tokens than this are not cached (the mask has 32 bits).
    static let maxTokens = 32

    private var slots: [UInt64] = []  // 0 = empty; tag:16 | length:8 | (offset + 1):40
    private var arena: [UInt32] = []  // per key: token start, token count, pattern mask, scalars
    private var hashes: [UInt64] = []  // per entry, for growing
    private var offsets: [Int] = []  // per entry, for growing
    /// The tokens of all entries, back to back.
    private(set) var tokens: [String] = []
    private(set) var count = 0
    private let limit: Int
    /// Longest key that can be stored (the slot keeps 8 bits of length).
    static let maxKeyLength = 255

    init(limit: Int) { self.limit = limit }


    @inline(__always)
    static func hash(_ key: UnsafeBufferPointer<Unicode.Scalar>) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for s in key { h = (h ^ UInt64(s.value)) &* 0x100_0000_01b3 }
        // FNV's low bits depend only on the inputs' low bits: finish with a multiplicative
        // mix and use the high bits (slot index and tag).
        return h &* 0x9E37_79B9_7F4A_7C15
    }

    @inline(__always)
    private func slotIndex(_ h: UInt64) -> Int {
        Int(truncatingIfNeeded: h >> UInt64(64 - slots.count.trailingZeroBitCount))
    }

    @inline(__always)
    private static func tagAndLength(_ h: UInt64, _ length: Int) -> UInt64 {
        (h & 0xFFFF_0000_0000_0000) | (UInt64(length) << 40)
    }

    /// Where the cached tokens of `key` are, if cached.
    func find(_ key: UnsafeBufferPointer<Unicode.Scalar>, hash h: UInt64) -> Hit? {
        if slots.isEmpty || key.count > Self.maxKeyLength { return nil }
        let mask = slots.count - 1
        let want = Self.tagAndLength(h, key.count)
        return slots.withUnsafeBufferPointer { slot in
            arena.withUnsafeBufferPointer { a in
                var i = slotIndex(h)
                while true {
                    let e = slot[i]
                    if e == 0 { return nil }
                    if e & 0xFFFF_FF00_0000_0000 == want {
                        let offset = Int(e & 0xFF_FFFF_FFFF) - 1
                        var same = true
                        for j in 0..<key.count where a[offset + 3 + j] != key[j].value { same = false; break }
                        if same { return Hit(start: Int(a[offset]), count: Int(a[offset + 1]), patternMask: a[offset + 2]) }
                    }
                    i = (i + 1) & mask
                }
            }
        }
    }

    mutating func insert(_ key: UnsafeBufferPointer<Unicode.Scalar>, hash h: UInt64, _ entry: Entry) {
        guard key.count <= Self.maxKeyLength, entry.tokens.count <= Self.maxTokens else { return }
        if count >= limit { removeAll() }
        if (count + 1) * 2 > slots.count { grow() }
        let offset = arena.count
        var mask: UInt32 = 0
        for p in entry.patternStarts { mask |= 1 << UInt32(p) }
        arena.append(UInt32(tokens.count))
        arena.append(UInt32(entry.tokens.count))
        arena.append(mask)
        for s in key { arena.append(s.value) }
        tokens.append(contentsOf: entry.tokens)
        count += 1
        hashes.append(h)
        offsets.append(offset)
        place(h, key.count, offset)
    }

    private mutating func place(_ h: UInt64, _ length: Int, _ offset: Int) {
        let mask = slots.count - 1
        var i = slotIndex(h)
        while slots[i] != 0 { i = (i + 1) & mask }
        slots[i] = Self.tagAndLength(h, length) | UInt64(offset + 1)
    }

    private mutating func grow() {
        slots = [UInt64](repeating: 0, count: max(1024, slots.count * 2))
        for k in 0..<count {
            let length = (k + 1 < offsets.count ? offsets[k + 1] : arena.count) - offsets[k] - 3
            place(hashes[k], length, offsets[k])
        }
    }

    mutating func removeAll() {
        for i in slots.indices { slots[i] = 0 }
        arena.removeAll(keepingCapacity: true)
        hashes.removeAll(keepingCapacity: true)
        offsets.removeAll(keepingCapacity: true)
        tokens.removeAll(keepingCapacity: true)
        count = 0
    }
}
