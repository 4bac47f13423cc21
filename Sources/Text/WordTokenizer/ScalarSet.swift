/// A set of code points: an ASCII bitmap plus sorted, merged ranges above U+007F.
struct ScalarSet: Sendable, Equatable {
    private var low: UInt64 = 0
    private var high: UInt64 = 0
    private var ranges: [ClosedRange<UInt32>] = []

    init() {}

    init(_ scalar: Unicode.Scalar) { insert(scalar.value...scalar.value); finish() }

    mutating func insert(_ r: ClosedRange<UInt32>) {
        var lo = r.lowerBound
        while lo <= r.upperBound && lo < 0x80 {
            if lo < 64 { low |= 1 << UInt64(lo) } else { high |= 1 << UInt64(lo - 64) }
            lo += 1
        }
        if lo <= r.upperBound { ranges.append(lo...r.upperBound) }
    }

    mutating func formUnion(_ other: ScalarSet) {
        low |= other.low
        high |= other.high
        ranges += other.ranges
        finish()
    }

    /// Sorts and merges the ranges (call after inserting).
    mutating func finish() {
        ranges.sort { $0.lowerBound < $1.lowerBound }
        var merged: [ClosedRange<UInt32>] = []
        for r in ranges {
            if let last = merged.last, r.lowerBound <= last.upperBound &+ 1 {
                merged[merged.count - 1] = last.lowerBound...max(last.upperBound, r.upperBound)
            } else {
                merged.append(r)
            }
        }
        ranges = merged
    }

    @inline(__always)
    func contains(_ s: Unicode.Scalar) -> Bool {
        let v = s.value
        if v < 64 { return low & (1 << UInt64(v)) != 0 }
        if v < 128 { return high & (1 << UInt64(v - 64)) != 0 }
        var lo = 0, hi = ranges.count
        while lo < hi {
            let mid = (lo + hi) >> 1
            let r = ranges[mid]
            if v < r.lowerBound { hi = mid } else if v > r.upperBound { lo = mid + 1 } else { return true }
        }
        return false
    }
}
