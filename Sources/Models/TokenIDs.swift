/// A batch of token ids `[batchSize, seqLen]`, batch-first and row-major, as fastai feeds
/// the language model (`x[b, t]`). (Models does not depend on Text: a data loader's batch is
/// turned into this with `init(batchSize:seqLen:ids:)`, which also takes `Int32` ids.)
///
///     let x = try TokenIDs(rows: [[2, 10, 11], [2, 12, 13]])
///     x.batchSize   // 2
///     x[1, 2]       // 13
public struct TokenIDs: Equatable, Sendable {
    public let batchSize: Int
    public let seqLen: Int
    /// `batchSize * seqLen` ids, row after row.
    public let ids: [Int]

    /// A batch from flat row-major ids; throws if the count does not match the shape.
    public init(batchSize: Int, seqLen: Int, ids: [Int]) throws {
        guard batchSize > 0, seqLen > 0 else {
            throw ModelError("token batch: shape [\(batchSize), \(seqLen)] must have positive sizes")
        }
        guard ids.count == batchSize * seqLen else {
            throw ModelError("token batch: \(ids.count) ids do not fill shape [\(batchSize), \(seqLen)]")
        }
        self.batchSize = batchSize
        self.seqLen = seqLen
        self.ids = ids
    }

    /// A batch from flat row-major `Int32` ids (the data loaders' storage).
    public init(batchSize: Int, seqLen: Int, ids: [Int32]) throws {
        try self.init(batchSize: batchSize, seqLen: seqLen, ids: ids.map { Int($0) })
    }

    /// A batch from equally long rows.
    public init(rows: [[Int]]) throws {
        guard let first = rows.first else { throw ModelError("token batch: no rows") }
        for (i, r) in rows.enumerated() where r.count != first.count {
            throw ModelError("token batch: row \(i) has \(r.count) ids, row 0 has \(first.count)")
        }
        try self.init(batchSize: rows.count, seqLen: first.count, ids: rows.flatMap { $0 })
    }

    public subscript(b: Int, t: Int) -> Int { ids[b * seqLen + t] }

    /// Throws unless every id is in `0..<vocabSize`, naming the first bad one.
    public func validate(vocabSize: Int, role: String = "input") throws {
        for (k, id) in ids.enumerated() where id < 0 || id >= vocabSize {
            throw ModelError("\(role) token id \(id) at [\(k / seqLen), \(k % seqLen)] is outside the vocabulary 0..<\(vocabSize)")
        }
    }
}
