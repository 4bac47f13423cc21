import Foundation
import Tensor
import Testing
import TestSupport
@testable import Text

/// Checks one recorded LMDataLoader run (main, stream runs, toy cases): geometry, the
/// remainder bookkeeping and every batch's x and y.
private func checkRun(_ run: [String: Any], docs: [[Int]], label: String) throws -> LMEpoch {
    let dl = try LMDataLoader(documents: docs, bs: try FX.get(run, "bs"), seqLen: try FX.get(run, "seq_len"))
    let g = dl.geometry
    #expect(docs.map(\.count) == (try FX.ints(run, "lens")), "\(label) lens")
    #expect(g.totalTokens == (try FX.get(run, "total_tokens", as: Int.self)), "\(label)")
    #expect(g.corpus == (try FX.get(run, "corpus", as: Int.self)), "\(label) corpus")
    #expect(g.bl == (try FX.get(run, "bl", as: Int.self)), "\(label) bl")
    #expect(g.nBatches == (try FX.get(run, "n_batches", as: Int.self)), "\(label) n_batches")
    #expect(g.lastLen == (try FX.get(run, "last_len", as: Int.self)), "\(label) last_len")
    #expect(g.nBatches * g.bs == (try FX.get(run, "n_samples", as: Int.self)), "\(label) n_samples")
    let rem: [String: Any] = try FX.get(run, "remainder")
    #expect(g.droppedTail == (try FX.get(rem, "n_dropped_tail", as: Int.self)), "\(label) dropped")
    #expect((0..<g.bs).map(g.rowStart) == (try FX.ints(rem, "row_start_indices")), "\(label) row starts")
    let epoch = dl.epoch(0)
    #expect(Array(epoch.stream.suffix(g.droppedTail).map(Int.init)) == (try FX.ints(rem, "dropped_tail_ids")),
            "\(label) dropped ids")
    #expect(g.bs * g.bl == (try FX.get(rem, "last_stream_index_used_as_y", as: Int.self)), "\(label)")
    #expect(g.bs * g.bl - 1 == (try FX.get(rem, "last_stream_index_used_as_x", as: Int.self)), "\(label)")
    let batches: [[String: Any]] = try FX.get(run, "batches")
    #expect(epoch.count == batches.count, "\(label) batch count")
    for (b, expected) in batches.enumerated() where b < epoch.count {
        let (x, y) = epoch[b]
        #expect(x == (try TokenBatch(rows: FX.intRows(expected, "x"))), "\(label) batch \(b) x")
        #expect(y == (try TokenBatch(rows: FX.intRows(expected, "y"))), "\(label) batch \(b) y")
    }
    return epoch
}

@Test func lmBatchesMain() throws {
    let fx = try FX.object("text/lm_batches.json")
    let docs = try FX.intRows(fx, "docs_ids")
    _ = try checkRun(try FX.get(fx, "main"), docs: docs, label: "main")
}

/// fastai's `backwards=True` (lm_batches_backwards.json): every document reversed on its own
/// by `reverseText`, documents in their order, then the usual LMDataLoader.
@Test func lmBatchesBackwards() throws {
    let fx = try FX.object("text/lm_batches_backwards.json")
    #expect(try FX.get(fx, "backwards", as: Bool.self))
    let docs = try FX.intRows(fx, "docs_ids")
    let run: [String: Any] = try FX.get(fx, "main")
    #expect(docs.count == (try FX.get(run, "n_docs", as: Int.self)))
    _ = try checkRun(run, docs: docs.map(reverseText), label: "backwards")
}

@Test func lmBatchesToyCases() throws {
    let fx = try FX.object("text/lm_batches.json")
    let cases: [[String: Any]] = try FX.get(fx, "toy_cases")
    #expect(!cases.isEmpty)
    for c in cases {
        _ = try checkRun(c, docs: try FX.intRows(c, "docs"), label: try FX.get(c, "name"))
    }
}

/// The book's 90-token stream: its min_freq=1 vocab, its ids, both real loader runs (with the
/// decoded tokens), and the book's illustrative NumPy tables (str and repr).
@Test func lmStreamExample() throws {
    let fx = try FX.object("text/lm_batches.json")
    let ex: [String: Any] = try FX.get(fx, "stream_example")
    let tokens = try FX.strings(ex, "tokens")
    #expect(tokens.count == (try FX.get(ex, "n_tokens", as: Int.self)))
    let vspec: [String: Any] = try FX.get(ex, "stream_vocab")
    var num = Numericalize(minFreq: try FX.get(vspec, "min_freq"), maxVocab: try FX.get(vspec, "max_vocab"))
    num.setup([tokens])
    #expect(num.vocab.items == (try FX.strings(vspec, "vocab")))
    let ids = num(tokens)
    #expect(ids == (try FX.ints(ex, "ids")))
    for key in ["lm_bs6_seq5", "lm_bs6_seq15"] {
        let run: [String: Any] = try FX.get(ex, key)
        let epoch = try checkRun(run, docs: [ids], label: key)
        let batches: [[String: Any]] = try FX.get(run, "batches")
        for (b, expected) in batches.enumerated() where b < epoch.count {
            let (x, y) = epoch[b]
            #expect(x.rowArrays.map { num.decode($0) } == (try FX.stringRows(expected, "x_tokens")), "\(key) \(b)")
            #expect(y.rowArrays.map { num.decode($0) } == (try FX.stringRows(expected, "y_tokens")), "\(key) \(b)")
        }
    }
    // The book slices the stream straight into rows (no reserved token); blocks are column
    // ranges of that table. The widest table is the full one; "…block<k>" names a block.
    let tables: [String: [String: Any]] = try FX.get(ex, "tables")
    #expect(!tables.isEmpty)
    let parsed = try tables.mapValues { try FX.stringRows($0, "rows") }
    let (_, fullRows) = try #require(parsed.max { ($0.value.first?.count ?? 0) < ($1.value.first?.count ?? 0) })
    #expect(fullRows == BookBatchIllustration.rows(tokens, rows: fullRows.count))
    for (name, table) in tables {
        let rows = parsed[name] ?? []
        if let r = name.range(of: "block"), let k = Int(name[r.upperBound...]) {
            #expect(rows == BookBatchIllustration.block(fullRows, index: k, width: rows.first?.count ?? 0), "\(name)")
        }
        #expect(NumpyRepr.str(rows) == (try FX.get(table, "numpy_str", as: String.self)), "\(name) str")
        #expect(NumpyRepr.repr(rows) == (try FX.get(table, "numpy_repr", as: String.self)), "\(name) repr")
    }
}

/// Shuffling moves whole documents, is reproducible from the seed, and differs across epochs.
@Test func lmShuffleMovesDocuments() throws {
    let docs = (0..<20).map { d in (0..<(3 + d % 4)).map { d * 100 + $0 } }
    let dl = try LMDataLoader(documents: docs, bs: 2, seqLen: 5, shuffle: true, seed: 7)
    let e0 = dl.epoch(0), e1 = dl.epoch(1)
    #expect(e0.documentOrder.sorted() == Array(0..<20))
    #expect(e0.documentOrder != e1.documentOrder)
    #expect(dl.epoch(0).documentOrder == e0.documentOrder)
    #expect(e0.stream.map(Int.init) == e0.documentOrder.flatMap { docs[$0] })
    #expect(try LMDataLoader(documents: docs, bs: 2, seqLen: 5).epoch(0).documentOrder == Array(0..<20))
    #expect(throws: DataLoaderError.self) { try LMDataLoader(documents: docs, bs: 0, seqLen: 5) }
}

/// The geometry's explanation for lessons (snapshot of the book's stream at seq_len 5).
@Test func lmGeometryDescription() {
    #expect(LMGeometry(totalTokens: 90, bs: 6, seqLen: 5).description
            == "90 tokens, bs 6, seq_len 5: corpus = (90 − 1) // 6 · 6 = 84, bl = 14, 3 batches (last 4 wide), 5 tokens unused")
    let empty = LMGeometry(totalTokens: 3, bs: 4, seqLen: 5)
    #expect(empty.nBatches == 0 && empty.corpus == 0 && empty.droppedTail == 2)
}
