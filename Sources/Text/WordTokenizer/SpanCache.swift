/// Span text (code points) → its tokens: an open-addressing hash table keyed directly by the
/// scalars, so a hit costs one FNV-1a hash and one memory compare, with no String made.
struct SpanCache {
    struct Entry {
        var tokens: [String]
        /// Positions (within `tokens`) of tokens that start a matcher pattern.
        var patternStarts: [Int]
    }

    private var slots: [Int32]  // -1 empty, else index into keys/entries
    private var keyStart: [Int] = []
    private var keyLength: [Int] = []
    private var hashes: [UInt64] = []
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
        return h ^ (h >> 29)
    }

    /// The entry index for `key`, if cached.
    func find(_ key: UnsafeBufferPointer<Unicode.Scalar>, hash h: UInt64) -> Int? {
        if slots.isEmpty { return nil }
        let mask = slots.count - 1
        var i = Int(truncatingIfNeeded: h) & mask
        while true {
            let e = slots[i]
            if e < 0 { return nil }
            let k = Int(e)
            if hashes[k] == h && keyLength[k] == key.count && equal(k, key) { return k }
            i = (i + 1) & mask
        }
    }

    private func equal(_ k: Int, _ key: UnsafeBufferPointer<Unicode.Scalar>) -> Bool {
        arena.withUnsafeBufferPointer { a in
            let start = keyStart[k]
            for j in 0..<key.count where a[start + j] != key[j] { return false }
            return true
        }
    }

    mutating func insert(_ key: UnsafeBufferPointer<Unicode.Scalar>, hash h: UInt64, _ entry: Entry) {
        if entries.count >= limit { removeAll() }
        if (entries.count + 1) * 2 > slots.count { grow() }
        let k = entries.count
        keyStart.append(arena.count)
        keyLength.append(key.count)
        hashes.append(h)
        arena.append(contentsOf: key)
        entries.append(entry)
        place(k)
    }

    private mutating func place(_ k: Int) {
        let mask = slots.count - 1
        var i = Int(truncatingIfNeeded: hashes[k]) & mask
        while slots[i] >= 0 { i = (i + 1) & mask }
        slots[i] = Int32(k)
    }

    private mutating func grow() {
        slots = [Int32](repeating: -1, count: max(1024, slots.count * 2))
        for k in 0..<entries.count { place(k) }
    }

    mutating func removeAll() {
        for i in slots.indices { slots[i] = -1 }
        keyStart.removeAll(keepingCapacity: true)
        keyLength.removeAll(keepingCapacity: true)
        hashes.removeAll(keepingCapacity: true)
        arena.removeAll(keepingCapacity: true)
        entries.removeAll(keepingCapacity: true)
    }
}
