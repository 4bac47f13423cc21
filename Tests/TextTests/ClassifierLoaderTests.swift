import Foundation
import Tensor
import Testing
import TestSupport
@testable import Text

/// clas_batches.json: the sorted order and every padded batch (positions, lengths, pads on
/// each side, x, y) of the unshuffled SortedDL.
@Test func classifierBatchesMatchSortedDL() throws {
    let fx = try FX.object("text/clas_batches.json")
    let docs = try FX.intRows(fx, "docs_ids")
    let labelVocab = try FX.strings(fx, "label_vocab")
    let labels = try FX.strings(fx, "labels").map { try #require(labelVocab.firstIndex(of: $0)) }
    let shuffle: Bool = try FX.get(fx, "shuffle")
    let dl = try SortedDataLoader(documents: docs, labels: labels, bs: try FX.get(fx, "bs"),
                                  seqLen: try FX.get(fx, "seq_len"), padIndex: try FX.get(fx, "pad_idx"),
                                  padFirst: try FX.get(fx, "pad_first"), shuffle: shuffle)
    #expect(dl.lengths == (try FX.ints(fx, "lens")))
    let epoch = dl.epoch(0)
    #expect(epoch.batches.flatMap { $0 } == (try FX.ints(fx, "sorted_order")))
    let batches: [[String: Any]] = try FX.get(fx, "batches")
    #expect(epoch.count == (try FX.get(fx, "n_batches", as: Int.self)))
    #expect(epoch.count == batches.count)
    for (b, expected) in batches.enumerated() where b < epoch.count {
        #expect(epoch.batches[b] == (try FX.ints(expected, "positions")), "batch \(b) positions")
        let (x, y) = epoch[b]
        let maxLen: Int = try FX.get(expected, "max_len")
        #expect(x.seqLen == maxLen, "batch \(b) width")
        let pads = try FX.intRows(expected, "pad_front_back")
        for (r, i) in epoch.batches[b].enumerated() {
            let (f, k) = padCounts(length: docs[i].count, maxLength: maxLen, seqLen: dl.seqLen)
            #expect([f, k] == pads[r], "batch \(b) row \(r) pads")
        }
        #expect(x == (try TokenBatch(rows: FX.intRows(expected, "x"))), "batch \(b) x")
        #expect(y == (try FX.ints(expected, "y")), "batch \(b) y")
        #expect(y.map { labelVocab[$0] } == (try FX.strings(expected, "y_labels")), "batch \(b) labels")
    }
}

@Test func padInputChunkToyCases() throws {
    let fx = try FX.object("text/clas_batches.json")
    let cases: [[String: Any]] = try FX.get(fx, "pad_input_chunk_toy_cases")
    #expect(!cases.isEmpty)
    for (n, c) in cases.enumerated() {
        let docs = try FX.intRows(c, "docs")
        let seqLen: Int = try FX.get(c, "seq_len")
        let pad: Int = try FX.get(c, "pad_idx")
        #expect(padChunk(docs, padIndex: pad, seqLen: seqLen, padFirst: true) == (try FX.intRows(c, "pad_first_true")), "case \(n)")
        #expect(padChunk(docs, padIndex: pad, seqLen: seqLen, padFirst: false) == (try FX.intRows(c, "pad_first_false")), "case \(n)")
        // The loader's own batch padding agrees with padChunk.
        for padFirst in [true, false] {
            let dl = try SortedDataLoader(documents: docs, labels: docs.map { _ in 0 }, bs: docs.count,
                                          seqLen: seqLen, padIndex: pad, padFirst: padFirst)
            let (x, _) = dl.batch(Array(docs.indices))
            #expect(x.rowArrays == padChunk(docs, padIndex: pad, seqLen: seqLen, padFirst: padFirst), "case \(n)")
        }
    }
}

/// Training order: longest document first, every document once per epoch (minus a dropped
/// incomplete batch), descending lengths inside each batch, reproducible from the seed.
@Test func classifierShuffledOrder() throws {
    let lens = (0..<530).map { ($0 * 7919) % 301 + 1 }
    let docs = lens.map { [Int](repeating: 5, count: $0) }
    let dl = try SortedDataLoader(documents: docs, labels: lens.map { $0 % 2 }, bs: 4, seqLen: 72,
                                  shuffle: true, seed: 3)
    let e0 = dl.batchIndices(epoch: 0)
    #expect(dl.dropLast)
    #expect(e0.count == 530 / 4 && dl.count == e0.count)
    #expect(e0.allSatisfy { $0.count == 4 })
    #expect(e0[0].contains(lens.firstIndex(of: lens.max()!)!))
    #expect(Set(e0.flatMap { $0 }).count == 528)
    for batch in e0 { #expect(batch.map { lens[$0] } == batch.map { lens[$0] }.sorted(by: >)) }
    #expect(dl.batchIndices(epoch: 0) == e0)
    #expect(dl.batchIndices(epoch: 1) != e0)
}

/// Seeded permutations are permutations, and pinned: a change of algorithm would silently
/// change every split and batch order, so it must show up here.
@Test func seededShuffleIsPinned() {
    let p = SeededShuffle.permutation(count: 10, seed: 42)
    #expect(p.sorted() == Array(0..<10))
    #expect(p == SeededShuffle.permutation(count: 10, seed: 42))
    #expect(p != SeededShuffle.permutation(count: 10, seed: 43))
    // Cross-checked with an independent Python implementation of xoshiro256** + Fisher–Yates.
    #expect(p == [7, 3, 8, 9, 5, 6, 4, 1, 0, 2])
    let split = RandomSplitter(validPct: 0.2, seed: 42).split(count: 10)
    #expect(split.valid == Array(p.prefix(2)) && split.train == Array(p.dropFirst(2)))
}
