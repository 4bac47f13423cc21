import Foundation
import Testing
import TestSupport
@testable import Text

/// A stand-in for the word tokenizer: `xxbos` + lower-cased whitespace-separated words.
private let whitespaceTokenizer = ClosureTokenizer(id: "test-whitespace-v1") { texts in
    texts.map { ["xxbos"] + $0.lowercased().split(whereSeparator: { $0 == " " || $0 == "\n" }).map(String.init) }
}

private func tempDir(_ name: String) -> URL {
    URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("lmlab-\(name)-\(UUID().uuidString)", isDirectory: true)
}

private let sampleURL = Fixtures.packageRoot.appendingPathComponent("Datasets/imdb_sample", isDirectory: true)

/// LM data from the embedded sample: RandomSplitter sizes, vocab counted over every file,
/// loaders fed with the right documents, and the cache reused on the second build.
@Test func lmDataLoadersFromSample() throws {
    let cache = tempDir("cache")
    defer { try? FileManager.default.removeItem(at: cache) }
    var reports: [TokenizeProgress] = []
    let dls = try LMDataLoaders.fromFolder(sampleURL, tokenizer: whitespaceTokenizer, validPct: 0.1, seed: 1,
                                           bs: 16, seqLen: 20, options: TokenizeOptions(cacheDirectory: cache),
                                           progress: { reports.append($0) })
    let n = dls.corpus.dataset.items.count
    #expect(dls.items.count == n)
    #expect(dls.validItems.count == Int(0.1 * Double(n)))
    #expect(Set(dls.trainItems).union(dls.validItems) == Set(0..<n))
    #expect(Set(dls.trainItems).isDisjoint(with: dls.validItems))
    #expect(reports.last == TokenizeProgress(done: n, total: n, fromCache: false))
    #expect(reports.map(\.done) == reports.map(\.done).sorted())
    #expect(dls.vocab == Vocab(counter: TokenCounter(documents: dls.corpus.tokens)))
    #expect(dls.train.shuffle && !dls.valid.shuffle)
    let validIDs = dls.validItems.flatMap { dls.vocab.encode(dls.corpus.tokens[$0]) }.map(Int32.init)
    #expect(dls.valid.epoch(0).stream == validIDs)
    let (x, y) = dls.train.epoch(0)[0]
    #expect(x.shape == [16, 20] && y.shape == [16, 20])
    #expect(Array(x.row(0).dropFirst()) == Array(y.row(0).dropLast()))

    var second: [TokenizeProgress] = []
    let again = try LMDataLoaders.fromFolder(sampleURL, tokenizer: whitespaceTokenizer, validPct: 0.1, seed: 1,
                                             bs: 16, seqLen: 20, options: TokenizeOptions(cacheDirectory: cache),
                                             progress: { second.append($0) })
    #expect(second == [TokenizeProgress(done: n, total: n, fromCache: true)])
    #expect(again.corpus.tokens == dls.corpus.tokens)
    #expect(again.validItems == dls.validItems)
    // Another tokenizer version must not hit the same cache entry.
    let other = ClosureTokenizer(id: "test-whitespace-v2") { whitespaceTokenizer.tokenize($0) }
    var third: [TokenizeProgress] = []
    _ = try LMDataLoaders.fromFolder(sampleURL, tokenizer: other, bs: 16, seqLen: 20,
                                     options: TokenizeOptions(cacheDirectory: cache), progress: { third.append($0) })
    #expect(third.last?.fromCache == false)
}

/// Classifier data from the embedded sample: GrandparentSplitter, labels from the parent
/// folder, the LM vocabulary, SortedDL ordering.
@Test func classifierDataLoadersFromSample() throws {
    let dataset = try TextFolderDataset(path: sampleURL)
    let corpus = try TokenizedFolder(dataset, tokenizer: whitespaceTokenizer, cacheDirectory: nil)
    let vocab = Vocab(counter: corpus.counter)
    let dls = try ClassifierDataLoaders(corpus: corpus, vocab: vocab, bs: 64, seqLen: 72)
    #expect(dls.trainItems.count == 1600 && dls.validItems.count == 400)
    #expect(dls.labelVocab == ["neg", "pos"])
    #expect(dls.train.labels.filter { $0 == 1 }.count == 800)
    #expect(dls.train.epoch(0).count == 1600 / 64)
    let longest = dls.train.lengths.max()
    let (x0, _) = dls.train.epoch(0)[0]
    #expect(x0.seqLen == longest)
    let validLens = dls.valid.epoch(0).batches.flatMap { $0 }.map { dls.valid.lengths[$0] }
    #expect(validLens == validLens.sorted(by: >))
    let firstValid = dls.validItems[0]
    #expect(dls.valid.documents[0].map(Int.init) == vocab.encode(corpus.tokens[firstValid]))
    #expect(dls.valid.labels[0] == dls.labelVocab.firstIndex(of: dataset.items[firstValid].label))
}

/// `backwards: true` feeds both loaders the same documents reversed, one by one, in the same order
/// (so the classifier's length-sorted batches hold the same texts in both directions).
@Test func backwardsDataLoadersReverseEachDocument() throws {
    let dataset = try TextFolderDataset(path: sampleURL)
    let corpus = try TokenizedFolder(dataset, tokenizer: whitespaceTokenizer, cacheDirectory: nil)
    let vocab = Vocab(counter: corpus.counter)
    let fwd = try LMDataLoaders(corpus: corpus, vocab: vocab, validPct: 0.1, seed: 3, bs: 8, seqLen: 10)
    let bwd = try LMDataLoaders(corpus: corpus, vocab: vocab, validPct: 0.1, seed: 3, bs: 8, seqLen: 10, backwards: true)
    #expect(!fwd.backwards && bwd.backwards)
    #expect(bwd.trainItems == fwd.trainItems && bwd.validItems == fwd.validItems)
    #expect(bwd.train.documents == fwd.train.documents.map(reverseText))
    #expect(bwd.valid.documents == fwd.valid.documents.map(reverseText))
    #expect(bwd.valid.documents.first?.last == Int32(vocab.encode(["xxbos"])[0]))
    #expect(bwd.train.epoch(2).documentOrder == fwd.train.epoch(2).documentOrder)

    let cf = try ClassifierDataLoaders(corpus: corpus, vocab: vocab, bs: 16, seqLen: 72)
    let cb = try ClassifierDataLoaders(corpus: corpus, vocab: vocab, bs: 16, seqLen: 72, backwards: true)
    #expect(cb.backwards && cb.valid.documents == cf.valid.documents.map(reverseText))
    #expect(cb.train.documents == cf.train.documents.map(reverseText) && cb.train.labels == cf.train.labels)
    #expect(cb.valid.epoch(0).batches == cf.valid.epoch(0).batches)
}

/// A tiny dataset whose show_batch output is checked exactly (snapshot).
@Test func showBatchSnapshots() throws {
    let root = tempDir("tiny")
    defer { try? FileManager.default.removeItem(at: root) }
    let files = [
        "train/pos/1.txt": "a fine film with a fine cast and a fine score",
        "train/neg/2.txt": "a dull film\nwith a dull plot",
        "train/pos/3.txt": "fine",
        "train/neg/4.txt": "dull dull",
        "valid/pos/5.txt": "a fine film",
        "valid/neg/6.txt": "a dull film",
    ]
    for (path, text) in files {
        let url = root.appendingPathComponent(path)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(text.utf8).write(to: url)
    }
    let newlineKeeping = ClosureTokenizer(id: "test-keep-newline") { texts in
        texts.map { ["xxbos"] + $0.replacingOccurrences(of: "\n", with: " \n ").split(separator: " ").map(String.init) }
    }
    let lm = try LMDataLoaders.fromFolder(root, tokenizer: newlineKeeping, folders: ["train"], validPct: 0.0, seed: 0, bs: 2, seqLen: 6,
                                          minFreq: 1, options: TokenizeOptions(cacheDirectory: nil))
    let order = lm.train.epoch(0).documentOrder
    #expect(order.sorted() == Array(0..<4))
    let stream = order.flatMap { lm.corpus.tokens[lm.trainItems[$0]] }
    let bl = (stream.count - 1) / 2
    func cell(_ tokens: ArraySlice<String>) -> String { BatchDisplay.text(Array(tokens)) }
    let expected = TextTable.render(header: ["text", "text_"], rows: [
        [cell(stream[0..<6]), cell(stream[1..<7])],
        [cell(stream[bl..<(bl + 6)]), cell(stream[(bl + 1)..<(bl + 7)])],
    ], width: 100)
    #expect(lm.showBatch(maxN: 2) == expected)

    let clas = try ClassifierDataLoaders.fromFolder(root, tokenizer: newlineKeeping, vocab: lm.vocab, bs: 2, seqLen: 3,
                                                    options: TokenizeOptions(cacheDirectory: nil))
    // Batch 0 holds the longest training text; pads are not shown.
    #expect(clas.showBatch(maxN: 2, width: 70) == """
           text                                                 category
        0  xxbos a fine film with a fine cast and a fine score  pos
        1  xxbos a dull film \\n with a dull plot                neg
        """)
    let narrow = clas.showBatch(maxN: 2, width: 40).split(separator: "\n")
    #expect(narrow.count == 3 && narrow.allSatisfy { $0.count <= 40 })
    #expect(narrow[1].hasSuffix("…  pos"))
}

/// The table renderer, exactly: index column, natural-width short columns, cut text cells.
@Test func textTableRendering() {
    let table = TextTable.render(header: ["text", "category"], rows: [
        ["xxbos xxmaj this movie was a waste of time and money , honestly", "neg"],
        ["xxbos short one", "pos"],
    ], width: 40)
    #expect(table == """
           text                         category
        0  xxbos xxmaj this movie was…  neg
        1  xxbos short one              pos
        """)
    #expect(BatchDisplay.text(["a", "\n\n", "b", "c"], truncAt: 3) == "a \\n\\n b")
}
