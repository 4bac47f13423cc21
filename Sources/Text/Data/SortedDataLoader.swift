import Tensor

/// Classifier batches (fastai's `SortedDL` with `Pad_Chunk` before batching): documents of
/// similar length are batched together, longest first, and each batch is padded with
/// `padChunk` to its longest document.
///
/// Order, from the token counts `lengths`:
/// * not shuffled (validation): indices by length descending, ties in dataset order;
/// * shuffled (training), every epoch: a random permutation, the first longest document
///   swapped to the front, chunks of `50·bs` each sorted by length descending (stable),
///   cut into batches of `bs`, the batches between the first and the last permuted, and
///   (with `dropLast`) a final incomplete batch dropped.
/// Permutations come from our own seeded generator (`seed` mixed with the epoch), so they
/// are reproducible but cannot equal NumPy's.
///
/// ```swift
/// let dl = try SortedDataLoader(documents: ids, labels: ys, bs: 64, seqLen: 72)
/// let (x, y) = dl.epoch(0)[0]
/// ```
public struct SortedDataLoader: Sendable {
    public let documents: [[Int32]]
    /// Category ids, parallel to `documents`.
    public let labels: [Int]
    public let bs: Int
    public let seqLen: Int
    public let padIndex: Int32
    public let padFirst: Bool
    public let shuffle: Bool
    public let dropLast: Bool
    public let seed: UInt64

    public init(documents: [[Int]], labels: [Int], bs: Int = 64, seqLen: Int = 72, padIndex: Int = 1,
                padFirst: Bool = true, shuffle: Bool = false, dropLast: Bool? = nil, seed: UInt64 = 0) throws {
        try self.init(documents: documents.map { $0.map { Int32(truncatingIfNeeded: $0) } }, labels: labels,
                      bs: bs, seqLen: seqLen, padIndex: padIndex, padFirst: padFirst,
                      shuffle: shuffle, dropLast: dropLast, seed: seed)
    }

    public init(documents: [[Int32]], labels: [Int], bs: Int = 64, seqLen: Int = 72, padIndex: Int = 1,
                padFirst: Bool = true, shuffle: Bool = false, dropLast: Bool? = nil, seed: UInt64 = 0) throws {
        guard bs > 0 else { throw DataLoaderError("SortedDL: bs must be positive, got \(bs)") }
        guard seqLen > 0 else { throw DataLoaderError("SortedDL: seq_len must be positive, got \(seqLen)") }
        guard labels.count == documents.count else {
            throw DataLoaderError("SortedDL: \(documents.count) documents but \(labels.count) labels")
        }
        self.documents = documents
        self.labels = labels
        self.bs = bs
        self.seqLen = seqLen
        self.padIndex = Int32(truncatingIfNeeded: padIndex)
        self.padFirst = padFirst
        self.shuffle = shuffle
        self.dropLast = dropLast ?? shuffle
        self.seed = seed
    }

    /// Token count of every document (`res` in fastai).
    public var lengths: [Int] { documents.map(\.count) }

    /// Indices sorted by length descending; equal lengths keep their order.
    public static func sortedByLength(_ indices: [Int], lengths: [Int]) -> [Int] {
        indices.enumerated().sorted { a, b in
            lengths[a.element] != lengths[b.element] ? lengths[a.element] > lengths[b.element]
                                                     : a.offset < b.offset
        }.map(\.element)
    }

    /// The batches of `epoch` as lists of dataset indices.
    public func batchIndices(epoch: Int = 0) -> [[Int]] {
        let lens = lengths
        let n = documents.count
        var order: [Int]
        if !shuffle {
            order = Self.sortedByLength(Array(0..<n), lengths: lens)
        } else {
            var rng = SeededGenerator(seed: seed &+ UInt64(truncatingIfNeeded: epoch) &* 0xD1B5_4A32_D192_ED03)
            var perm = Array(0..<n)
            SeededShuffle.shuffle(&perm, using: &rng)
            if let longest = lens.indices.max(by: { lens[$0] < lens[$1] || (lens[$0] == lens[$1] && $0 > $1) }),
               let at = perm.firstIndex(of: longest) {
                perm.swapAt(0, at)
            }
            let chunk = 50 * bs
            order = []
            order.reserveCapacity(n)
            for start in stride(from: 0, to: n, by: chunk) {
                order += Self.sortedByLength(Array(perm[start..<min(n, start + chunk)]), lengths: lens)
            }
            var batches = Self.cut(order, bs)
            if batches.count > 2 {
                var middle = Array(batches[1..<(batches.count - 1)])
                SeededShuffle.shuffle(&middle, using: &rng)
                batches = [batches[0]] + middle + [batches[batches.count - 1]]
            }
            order = batches.flatMap { $0 }
        }
        var batches = Self.cut(order, bs)
        if dropLast, let last = batches.last, last.count < bs { batches.removeLast() }
        return batches
    }

    private static func cut(_ xs: [Int], _ size: Int) -> [[Int]] {
        stride(from: 0, to: xs.count, by: size).map { Array(xs[$0..<min(xs.count, $0 + size)]) }
    }

    /// The padded batches of one epoch.
    public func epoch(_ epoch: Int = 0) -> ClassifierEpoch {
        ClassifierEpoch(loader: self, batches: batchIndices(epoch: epoch))
    }

    /// Number of batches per epoch.
    public var count: Int {
        let full = documents.count / bs
        return documents.count % bs != 0 && !dropLast ? full + 1 : full
    }

    /// One padded batch from dataset indices: `x` is `[k, maxLen]`, `y` the labels.
    public func batch(_ indices: [Int]) -> (x: TokenBatch, y: [Int]) {
        let maxLen = indices.map { documents[$0].count }.max() ?? 0
        var ids = [Int](repeating: Int(padIndex), count: indices.count * maxLen)
        for (r, i) in indices.enumerated() {
            let doc = documents[i]
            let (front, _) = padCounts(length: doc.count, maxLength: maxLen, seqLen: seqLen)
            // pad-first: [front pads] doc [back pads]; otherwise doc first, all pads after.
            let offset = r * maxLen + (padFirst ? front : 0)
            for (c, t) in doc.enumerated() { ids[offset + c] = Int(t) }
        }
        return (TokenBatch(batchSize: indices.count, seqLen: maxLen, ids: ids), indices.map { labels[$0] })
    }
}

/// One epoch of classifier batches.
public struct ClassifierEpoch: RandomAccessCollection, Sendable {
    public let loader: SortedDataLoader
    /// Dataset indices of every batch, in order.
    public let batches: [[Int]]

    public var startIndex: Int { 0 }
    public var endIndex: Int { batches.count }

    public subscript(b: Int) -> (x: TokenBatch, y: [Int]) { loader.batch(batches[b]) }
}
