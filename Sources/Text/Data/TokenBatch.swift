/// A rectangular batch of token ids, `rows × columns`, stored row-major in one flat array
/// (`ids[r * columns + c]`). Int32 keeps the 128 × 80 batches of a 60k vocabulary compact.
public struct TokenBatch: Sendable, Equatable {
    public let rows: Int
    public let columns: Int
    /// Row-major ids, `rows * columns` of them.
    public let ids: [Int32]

    public init(rows: Int, columns: Int, ids: [Int32]) {
        precondition(ids.count == rows * columns, "TokenBatch: \(ids.count) ids for \(rows)×\(columns)")
        self.rows = rows
        self.columns = columns
        self.ids = ids
    }

    /// A batch from equal-length rows (as in the fixtures).
    public init(_ rowArrays: [[Int]]) throws {
        let cols = rowArrays.first?.count ?? 0
        if let bad = rowArrays.firstIndex(where: { $0.count != cols }) {
            throw DataLoaderError("TokenBatch: row \(bad) has \(rowArrays[bad].count) ids, row 0 has \(cols)")
        }
        self.init(rows: rowArrays.count, columns: cols,
                  ids: rowArrays.flatMap { $0.map { Int32($0) } })
    }

    /// `[rows, columns]`.
    public var shape: [Int] { [rows, columns] }

    /// The id at row `r`, column `c`.
    public subscript(r: Int, c: Int) -> Int32 { ids[r * columns + c] }

    /// Row `r` as a slice of `ids`.
    public func row(_ r: Int) -> ArraySlice<Int32> { ids[(r * columns)..<((r + 1) * columns)] }

    /// All rows as `[[Int]]` (for tests and displays).
    public var rowArrays: [[Int]] { (0..<rows).map { row($0).map { Int($0) } } }
}
