import Tensor

/// The arithmetic of one language-model epoch (fastai's `LMDataLoader`), from the stream
/// length `totalTokens`, the batch size `bs` and the window `seqLen`:
/// `corpus = ⌊(N − 1)/bs⌋·bs` (one token is kept back as the last target), `bl = corpus/bs`
/// tokens per row, `nBatches = ⌈bl/seqLen⌉`, and the last batch is `lastLen` wide.
public struct LMGeometry: Sendable, Equatable {
    public let totalTokens: Int
    public let bs: Int
    public let seqLen: Int
    public let corpus: Int
    /// Row length: row r owns the inputs at stream positions `r·bl ..< (r+1)·bl`.
    public let bl: Int
    public let nBatches: Int
    /// Width of the final batch (1…seqLen), 0 when there are no batches.
    public let lastLen: Int

    public init(totalTokens: Int, bs: Int, seqLen: Int) {
        self.totalTokens = totalTokens
        self.bs = bs
        self.seqLen = seqLen
        corpus = totalTokens > 1 ? ((totalTokens - 1) / bs) * bs : 0
        bl = corpus / bs
        nBatches = (bl + seqLen - 1) / seqLen
        lastLen = nBatches == 0 ? 0 : bl - (nBatches - 1) * seqLen
    }

    /// Stream position where row `r` starts.
    public func rowStart(_ r: Int) -> Int { r * bl }

    /// Width of batch `b`.
    public func width(ofBatch b: Int) -> Int { b == nBatches - 1 ? lastLen : seqLen }

    /// Tokens at the end of the stream never used, not even as a target: `(N − 1) mod bs`.
    public var droppedTail: Int { max(0, totalTokens - corpus - 1) }
}

extension LMGeometry: CustomStringConvertible {
    /// The arithmetic spelled out, for lessons:
    /// `90 tokens, bs 6, seq_len 5: corpus = (90 − 1) // 6 · 6 = 84, bl = 14, 3 batches (last 4 wide), 5 tokens unused`
    public var description: String {
        let batches = nBatches == 1 ? "1 batch" : "\(nBatches) batches"
        return "\(totalTokens) tokens, bs \(bs), seq_len \(seqLen): corpus = (\(totalTokens) − 1) // \(bs) · \(bs) = \(corpus), "
            + "bl = \(bl), \(batches) (last \(lastLen) wide), \(droppedTail) tokens unused"
    }
}

/// Errors from building loaders.
public struct DataLoaderError: Error, CustomStringConvertible, Equatable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Language-model batches (fastai's `LMDataLoader`): the documents are concatenated into
/// one stream, cut into `bs` rows of `bl` tokens, and each batch takes the next `seqLen`
/// columns of every row; `y` is `x` shifted one token to the right. So row r of batch b+1
/// continues where row r of batch b stopped, which lets the model carry its hidden state.
///
/// With `shuffle`, the *document order* is permuted every epoch (words inside a document
/// never move). The permutation comes from our own seeded generator, `seed` mixed with the
/// epoch number, so it is reproducible but cannot equal Python's `random.shuffle`.
///
/// ```swift
/// let dl = try LMDataLoader(documents: nums, bs: 64, seqLen: 72)
/// let (x, y) = dl.epoch(0)[0]   // x.shape == [64, 72]
/// ```
public struct LMDataLoader: Sendable {
    /// The numericalized documents, in dataset order.
    public let documents: [[Int32]]
    public let bs: Int
    public let seqLen: Int
    public let shuffle: Bool
    public let seed: UInt64
    /// Total stream length (the sum of document lengths).
    public let totalTokens: Int

    public init(documents: [[Int]], bs: Int = 64, seqLen: Int = 72,
                shuffle: Bool = false, seed: UInt64 = 0) throws {
        try self.init(documents: documents.map { $0.map { Int32(truncatingIfNeeded: $0) } },
                      bs: bs, seqLen: seqLen, shuffle: shuffle, seed: seed)
    }

    public init(documents: [[Int32]], bs: Int = 64, seqLen: Int = 72,
                shuffle: Bool = false, seed: UInt64 = 0) throws {
        guard bs > 0 else { throw DataLoaderError("LMDataLoader: bs must be positive, got \(bs)") }
        guard seqLen > 0 else { throw DataLoaderError("LMDataLoader: seq_len must be positive, got \(seqLen)") }
        self.documents = documents
        self.bs = bs
        self.seqLen = seqLen
        self.shuffle = shuffle
        self.seed = seed
        totalTokens = documents.reduce(0) { $0 + $1.count }
    }

    /// Batch arithmetic (identical for every epoch: shuffling moves documents, not lengths).
    public var geometry: LMGeometry { LMGeometry(totalTokens: totalTokens, bs: bs, seqLen: seqLen) }

    /// Number of batches per epoch (`len(dl)`).
    public var count: Int { geometry.nBatches }

    /// The document order used in `epoch` (identity unless `shuffle`).
    public func documentOrder(epoch: Int) -> [Int] {
        var order = Array(documents.indices)
        if shuffle {
            var rng = SeededGenerator(seed: seed &+ UInt64(truncatingIfNeeded: epoch) &* 0x9E37_79B9_7F4A_7C15)
            SeededShuffle.shuffle(&order, using: &rng)
        }
        return order
    }

    /// The batches of one epoch (the stream is built once for the epoch).
    public func epoch(_ epoch: Int = 0) -> LMEpoch {
        let order = documentOrder(epoch: epoch)
        var stream = [Int32]()
        stream.reserveCapacity(totalTokens)
        for i in order { stream.append(contentsOf: documents[i]) }
        return LMEpoch(stream: stream, geometry: geometry, documentOrder: order)
    }
}

/// One epoch of language-model batches: a random-access collection of `(x, y)` pairs.
public struct LMEpoch: RandomAccessCollection, Sendable {
    /// The concatenated documents in this epoch's order.
    public let stream: [Int32]
    public let geometry: LMGeometry
    /// Dataset indices of the documents, in stream order.
    public let documentOrder: [Int]

    public var startIndex: Int { 0 }
    public var endIndex: Int { geometry.nBatches }

    /// Batch `b`: `x[r] = stream[r·bl + b·seqLen ..< +w]`, `y[r]` the same shifted by one.
    public subscript(b: Int) -> (x: TokenBatch, y: TokenBatch) {
        let g = geometry
        let w = g.width(ofBatch: b)
        var x = [Int](repeating: 0, count: g.bs * w)
        var y = [Int](repeating: 0, count: g.bs * w)
        stream.withUnsafeBufferPointer { s in
            x.withUnsafeMutableBufferPointer { xp in
                y.withUnsafeMutableBufferPointer { yp in
                    for r in 0..<g.bs {
                        let start = g.rowStart(r) + b * g.seqLen
                        for c in 0..<w {
                            xp[r * w + c] = Int(s[start + c])
                            yp[r * w + c] = Int(s[start + c + 1])
                        }
                    }
                }
            }
        }
        return (TokenBatch(batchSize: g.bs, seqLen: w, ids: x), TokenBatch(batchSize: g.bs, seqLen: w, ids: y))
    }
}

/// The book's illustration of LM batches (fastbook ch.10): the stream cut straight into
/// `rows` equal rows (`count / rows` tokens each, the tail dropped), then into blocks of
/// `width` columns. Unlike `LMDataLoader` it keeps no token back for the last target, so for
/// the book's 90-token stream it shows 6 × 15 where the real loader uses 6 × 14.
public enum BookBatchIllustration {
    /// `stream` as `rows` rows of `stream.count / rows` items.
    public static func rows<T>(_ stream: [T], rows: Int) -> [[T]] {
        guard rows > 0 else { return [] }
        let w = stream.count / rows
        return (0..<rows).map { Array(stream[($0 * w)..<(($0 + 1) * w)]) }
    }

    /// Columns `k·width ..< (k+1)·width` of every row (the book's "first/second/third batch").
    public static func block<T>(_ table: [[T]], index k: Int, width: Int) -> [[T]] {
        table.map { row in
            let lo = min(row.count, max(0, k * width))
            return Array(row[lo..<min(row.count, lo + max(0, width))])
        }
    }
}
