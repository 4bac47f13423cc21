import Tensor

/// Seeded permutations with a fixed algorithm (Fisher–Yates from the top, unbiased bounded
/// draws by rejection), so a seed gives the same order on every platform and Swift version
/// (the standard library's `shuffle(using:)` does not promise that).
public enum SeededShuffle {
    /// A uniform integer in `0..<bound` (bound > 0).
    public static func bounded(_ bound: Int, using rng: inout SeededGenerator) -> Int {
        let b = UInt64(bound)
        // Reject the top partial block so every residue is equally likely.
        let limit = UInt64.max - (UInt64.max % b)
        while true {
            let r = rng.next()
            if r < limit { return Int(r % b) }
        }
    }

    /// Shuffles `items` in place.
    public static func shuffle<T>(_ items: inout [T], using rng: inout SeededGenerator) {
        guard items.count > 1 else { return }
        for i in stride(from: items.count - 1, to: 0, by: -1) {
            let j = bounded(i + 1, using: &rng)
            if i != j { items.swapAt(i, j) }
        }
    }

    /// A permutation of `0..<count` drawn from `seed`.
    public static func permutation(count: Int, seed: UInt64) -> [Int] {
        var rng = SeededGenerator(seed: seed)
        var p = Array(0..<max(0, count))
        shuffle(&p, using: &rng)
        return p
    }
}
