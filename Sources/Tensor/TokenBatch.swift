/// A batch of token ids `[batchSize, seqLen]`, batch-first and row-major (`ids[b * seqLen + t]`),
/// as fastai feeds its models (`x[b, t]`). The data loaders in Text make them and the models in
/// Models read them, so the type lives here, below both.
///
///     let x = try TokenBatch(rows: [[2, 10, 11], [2, 12, 13]])
///     x.batchSize   // 2
///     x[1, 2]       // 13
public struct TokenBatch: Equatable, Sendable {
    public let batchSize: Int
    public let seqLen: Int
    /// `batchSize * seqLen` ids, row after row.
    public let ids: [Int]

    /// A batch from flat row-major ids. The count must fill the shape: every caller builds the
    /// ids for that shape (loaders, slices of a batch), so a mismatch is a bug, not bad input;
    /// rows from outside go through `init(rows:)`, ids through `validate(vocabSize:)`.
    public init(batchSize: Int, seqLen: Int, ids: [Int]) {
        precondition(batchSize >= 0 && seqLen >= 0 && ids.count == batchSize * seqLen,
                     "token batch: \(ids.count) ids do not fill shape [\(batchSize), \(seqLen)]")
        self.batchSize = batchSize
        self.seqLen = seqLen
        self.ids = ids
    }

    /// A batch from equally long rows.
    public init(rows: [[Int]]) throws {
        guard let first = rows.first else { throw TokenBatchError("token batch: no rows") }
        for (i, r) in rows.enumerated() where r.count != first.count {
            throw TokenBatchError("token batch: row \(i) has \(r.count) ids, row 0 has \(first.count)")
        }
        self.init(batchSize: rows.count, seqLen: first.count, ids: rows.flatMap { $0 })
    }

    /// `[batchSize, seqLen]`.
    public var shape: [Int] { [batchSize, seqLen] }

    /// The id at row `b`, column `t`.
    public subscript(b: Int, t: Int) -> Int { ids[b * seqLen + t] }

    /// Row `b` as a slice of `ids`.
    public func row(_ b: Int) -> ArraySlice<Int> { ids[(b * seqLen)..<((b + 1) * seqLen)] }

    /// All rows (for tests and displays).
    public var rowArrays: [[Int]] { (0..<batchSize).map { Array(row($0)) } }

    /// Throws unless the batch is non-empty and every id is in `0..<vocabSize`, naming the first bad one.
    public func validate(vocabSize: Int, role: String = "input") throws {
        guard batchSize > 0, seqLen > 0 else {
            throw TokenBatchError("token batch: shape [\(batchSize), \(seqLen)] must have positive sizes")
        }
        for (k, id) in ids.enumerated() where id < 0 || id >= vocabSize {
            throw TokenBatchError("\(role) token id \(id) at [\(k / seqLen), \(k % seqLen)] is outside the vocabulary 0..<\(vocabSize)")
        }
    }
}

/// A token batch whose ids do not fit its shape or the vocabulary.
public struct TokenBatchError: Error, CustomStringConvertible, Equatable, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
