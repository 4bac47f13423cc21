import Tensor

/// fastai's `RandomSplitter(valid_pct, seed)`: a random permutation of the item indices;
/// the first `Int(validPct · n)` go to validation, the rest to training (both in permuted
/// order, as fastai returns them).
///
/// The permutation comes from our own `SeededGenerator`, so the same seed always gives the
/// same split here, but it cannot equal PyTorch's `randperm` for that seed.
public struct RandomSplitter: Sendable {
    public let validPct: Double
    public let seed: UInt64

    public init(validPct: Double = 0.2, seed: UInt64 = 42) {
        self.validPct = validPct
        self.seed = seed
    }

    /// `(train, valid)` index lists for `count` items.
    public func split(count: Int) -> (train: [Int], valid: [Int]) {
        var rng = SeededGenerator(seed: seed)
        var perm = Array(0..<max(0, count))
        SeededShuffle.shuffle(&perm, using: &rng)
        let cut = min(perm.count, max(0, Int(validPct * Double(perm.count))))
        return (Array(perm[cut...]), Array(perm[..<cut]))
    }
}

/// fastai's `GrandparentSplitter`: training items are those whose grandparent folder is
/// `trainName`, validation those under `validName`; anything else belongs to neither.
public struct GrandparentSplitter: Sendable {
    public let trainName: String
    public let validName: String

    public init(trainName: String = "train", validName: String = "valid") {
        self.trainName = trainName
        self.validName = validName
    }

    /// `(train, valid)` positions in `items`, in list order.
    public func split(_ items: [TextItem]) -> (train: [Int], valid: [Int]) {
        (items.indices.filter { items[$0].split == trainName }, items.indices.filter { items[$0].split == validName })
    }
}
