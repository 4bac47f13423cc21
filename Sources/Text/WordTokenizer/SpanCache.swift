/// Span text (code points) → its tokens: an open-addressing hash table keyed directly by the
/// scalars, so a hit costs one FNV-1a hash and one compare, with no String made.
///
/// Lookups are dominated by memory latency (the table outgrows the CPU caches on a real
/// corpus), so a probe touches only two places: the slot, which packs a 16-bit hash tag, the
/// key length and the key's offset in `arena`; and the arena, which stores the entry index
/// right before the key's scalars.
struct SpanCache {
    struct Entry {
        var tokens: [String]
        /// Positions (within `tokens`) of tokens that start a matcher pattern.
        var patternStarts: [Int]
    }

    private var slots: [UInt64] = []  // 0 = empty; tag:16 | length:8 | (offset + 1):40
    private var arena: [UInt32] = []  // per key: entry index, then the key's scalars
    private var hashes: [UInt64] = []  // per entry, for growing
    private var offsets: [Int] = []  // per entry, for growing
    private(set) var entries: [Entry] = []
    private let limit: Int
    /// Longest key that can be stored (the slot keeps 8 bits of length).
    static let maxKeyLength = 255

    init(limit: Int) { self.limit = limit }

    var count: Int { entries.count }

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

    /// The entry index for `key`, if cached.
    func find(_ key: UnsafeBufferPointer<Unicode.Scalar>, hash h: UInt64) -> Int? {
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
                        for j in 0..<key.count where a[offset + 1 + j] != key[j].value { same = false; break }
                        if same { return Int(a[offset]) }
                    }
                    i = (i + 1) & mask
                }
            }
        }
    }

    mutating func insert(_ key: UnsafeBufferPointer<Unicode.Scalar>, hash h: UInt64, _ entry: Entry) {
        guard key.count <= Self.maxKeyLength else { return }
        if entries.count >= limit { removeAll() }
        if (entries.count + 1) * 2 > slots.count { grow() }
        let k = entries.count
        let offset = arena.count
        arena.append(UInt32(k))
        for s in key { arena.append(s.value) }
        entries.append(entry)
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
        for k in 0..<entries.count {
            let length = (k + 1 < offsets.count ? offsets[k + 1] : arena.count) - offsets[k] - 1
            place(hashes[k], length, offsets[k])
        }
    }

    mutating func removeAll() {
        for i in slots.indices { slots[i] = 0 }
        arena.removeAll(keepingCapacity: true)
        hashes.removeAll(keepingCapacity: true)
        offsets.removeAll(keepingCapacity: true)
        entries.removeAll(keepingCapacity: true)
    }
}
