/// Span text (code points) → its tokens: an open-addressing hash table keyed directly by the
/// scalars, so a hit costs one FNV-1a hash and one memory compare, with no String made.
struct SpanCache {
    struct Entry {
        var tokens: [String]
        /// Positions (within `tokens`) of tokens that start a matcher pattern.
        var patternStarts: [Int]
    }

    /// 0 = empty, else (high 32 bits of the hash) << 32 | (entry index + 1): a probe compares
    /// hashes without touching the other arrays (lookups are dominated by cache misses).
    private var slots: [UInt64]
    private var keys: [(start: Int, length: Int)] = []
    private var arena: [Unicode.Scalar] = []
    private(set) var entries: [Entry] = []
    private let limit: Int

    init(limit: Int) {
        self.limit = limit
        slots = []  // allocated on first insert
    }

    var count: Int { entries.count }

    @inline(__always)
    static func hash(_ key: UnsafeBufferPointer<Unicode.Scalar>) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for s in key { h = (h ^ UInt64(s.value)) &* 0x100_0000_01b3 }
        // FNV's low bits depend only on the inputs' low bits: finish with a multiplicative
        // mix and index by the high bits (see `slot`).
        return h &* 0x9E37_79B9_7F4A_7C15
    }

    /// The entry index for `key`, if cached.
    func find(_ key: UnsafeBufferPointer<Unicode.Scalar>, hash h: UInt64) -> Int? {
        if slots.isEmpty { return nil }
        let mask = slots.count - 1
        var i = slot(h)
        let tag = h & 0xFFFF_FFFF_0000_0000
        while true {
            let e = slots[i]
            if e == 0 { return nil }
            if e & 0xFFFF_FFFF_0000_0000 == tag {
                let k = Int(e & 0xFFFF_FFFF) - 1
                if keys[k].length == key.count && equal(k, key) { return k }
            }
            i = (i + 1) & mask
        }
    }

    private func equal(_ k: Int, _ key: UnsafeBufferPointer<Unicode.Scalar>) -> Bool {
        arena.withUnsafeBufferPointer { a in
            let start = keys[k].start
            for j in 0..<key.count where a[start + j] != key[j] { return false }
            return true
        }
    }

    mutating func insert(_ key: UnsafeBufferPointer<Unicode.Scalar>, hash h: UInt64, _ entry: Entry) {
        if entries.count >= limit { removeAll() }
        if (entries.count + 1) * 2 > slots.count { grow() }
        let k = entries.count
        keys.append((arena.count, key.count))
        arena.append(contentsOf: key)
        entries.append(entry)
        place(k, h)
    }

    @inline(__always)
    private func slot(_ h: UInt64) -> Int {
        Int(truncatingIfNeeded: h >> UInt64(64 - slots.count.trailingZeroBitCount))
    }

    private mutating func place(_ k: Int, _ h: UInt64) {
        let mask = slots.count - 1
        var i = slot(h)
        while slots[i] != 0 { i = (i + 1) & mask }
        slots[i] = (h & 0xFFFF_FFFF_0000_0000) | UInt64(k + 1)
    }

    private mutating func grow() {
        let old = slots
        slots = [UInt64](repeating: 0, count: max(1024, slots.count * 2))
        for e in old where e != 0 {
            // Re-derive the slot from the stored tag: the tag is the hash's high 32 bits,
            // exactly the bits `slot` uses for tables up to 2^32 slots.
            place(Int(e & 0xFFFF_FFFF) - 1, e & 0xFFFF_FFFF_0000_0000)
        }
    }

    mutating func removeAll() {
        for i in slots.indices { slots[i] = 0 }
        keys.removeAll(keepingCapacity: true)
        arena.removeAll(keepingCapacity: true)
        entries.removeAll(keepingCapacity: true)
    }
}
