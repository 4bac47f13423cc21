import Foundation

/// fastai's `reverse_text`: one numericalized document read from its last token to its first.
/// `TextBlock(..., backwards=True)` applies it to every document on its own (documents keep
/// their order), before the LM loader cuts its stream or the classifier loader pads; a
/// backward model is trained on that and reads prompts the same way.
public func reverseText<T>(_ ids: [T]) -> [T] { ids.reversed() }

/// Shared settings for tokenizing a folder dataset.
public struct TokenizeOptions: Sendable {
    /// Where the token cache lives; nil disables caching. Default: `cache/` beside the dataset.
    public var cacheDirectory: URL?
    /// Documents per tokenizer call (and per progress report).
    public var chunkSize: Int

    public init(cacheDirectory: URL? = nil, chunkSize: Int = 250) {
        self.cacheDirectory = cacheDirectory
        self.chunkSize = chunkSize
    }
}

/// A folder dataset with the tokens of every `.txt` file under it (fastai's
/// `TextBlock.from_folder` step: all files are tokenized, whatever the split).
public struct TokenizedFolder: Sendable {
    public let dataset: TextFolderDataset
    /// Tokens of `dataset.items[i]`.
    public let tokens: [[String]]

    /// Tokenizes (or reads from the cache) every item of `dataset`.
    public init(_ dataset: TextFolderDataset, tokenizer: DocumentTokenizer, cacheDirectory: URL?,
                chunkSize: Int = 250, progress: ((TokenizeProgress) -> Void)? = nil) throws {
        self.dataset = dataset
        let texts = dataset.items.map(\.text)
        if let dir = cacheDirectory {
            tokens = try TokenCache(directory: dir).tokens(names: dataset.items.map(\.relativePath), texts: texts,
                                                           tokenizer: tokenizer, chunkSize: chunkSize, progress: progress)
        } else {
            tokens = TokenCache.tokenize(texts, tokenizer: tokenizer, chunkSize: chunkSize, progress: progress)
        }
    }

    /// The vocabulary counter over **every** `.txt` under the dataset root, validation files
    /// included (fastai's `from_folder` does the same, spec data.md §1.3), counted in sorted
    /// relative-path order, tokens in reading order.
    public var counter: TokenCounter { TokenCounter(documents: tokens) }
}

/// Language-model data from a folder of texts, as the chapter builds it:
///
/// ```python
/// DataBlock(blocks=TextBlock.from_folder(path, is_lm=True),
///           get_items=partial(get_text_files, folders=['train','test','unsup']),
///           splitter=RandomSplitter(0.1)).dataloaders(path, path=path, bs=128, seq_len=80)
/// ```
///
/// ```swift
/// let dls = try LMDataLoaders.fromFolder(path, tokenizer: tok, folders: ["train", "valid"],
///                                        validPct: 0.1, seed: 42, bs: 128, seqLen: 80)
/// print(dls.showBatch(maxN: 2))
/// ```
///
/// With `backwards: true` (fastai's `TextBlock.from_folder(path, is_lm=True, backwards=True)`)
/// every document is reversed (`reverseText`) before the loaders see it.
public struct LMDataLoaders: Sendable {
    public let corpus: TokenizedFolder
    /// Positions in `corpus.dataset.items` of the items (`get_text_files(folders:)`).
    public let items: [Int]
    /// Dataset positions of the training and validation documents (RandomSplitter order).
    public let trainItems: [Int]
    public let validItems: [Int]
    public let vocab: Vocab
    /// Documents reversed (fastai's `backwards=True`).
    public let backwards: Bool
    /// Shuffled every epoch.
    public let train: LMDataLoader
    /// Dataset order, not shuffled.
    public let valid: LMDataLoader

    public static func fromFolder(_ path: URL, tokenizer: DocumentTokenizer, folders: [String]? = nil,
                                  validPct: Double = 0.1, seed: UInt64 = 42, bs: Int = 64, seqLen: Int = 72,
                                  minFreq: Int = 3, maxVocab: Int = 60000, backwards: Bool = false,
                                  options: TokenizeOptions? = nil,
                                  progress: ((TokenizeProgress) -> Void)? = nil) throws -> LMDataLoaders {
        let dataset = try TextFolderDataset(path: path)
        let opts = options ?? TokenizeOptions(cacheDirectory: TokenCache.defaultDirectory(for: path))
        let corpus = try TokenizedFolder(dataset, tokenizer: tokenizer, cacheDirectory: opts.cacheDirectory,
                                         chunkSize: opts.chunkSize, progress: progress)
        let vocab = Vocab(counter: corpus.counter, minFreq: minFreq, maxVocab: maxVocab)
        return try LMDataLoaders(corpus: corpus, vocab: vocab, folders: folders, validPct: validPct, seed: seed,
                                 bs: bs, seqLen: seqLen, backwards: backwards)
    }

    /// Builds the loaders from already tokenized data and a vocabulary.
    public init(corpus: TokenizedFolder, vocab: Vocab, folders: [String]? = nil, validPct: Double = 0.1,
                seed: UInt64 = 42, bs: Int = 64, seqLen: Int = 72, backwards: Bool = false) throws {
        let all = corpus.dataset.items
        let selected: [Int]
        if let folders {
            let set = Set(folders)
            selected = all.indices.filter { i in
                let parts = all[i].relativePath.split(separator: "/")
                return parts.count > 1 && set.contains(String(parts[0]))
            }
        } else {
            selected = Array(all.indices)
        }
        guard !selected.isEmpty else {
            throw DatasetError("no .txt files under \(corpus.dataset.path.path) in folders \(folders ?? [])")
        }
        let (tr, va) = RandomSplitter(validPct: validPct, seed: seed).split(count: selected.count)
        self.corpus = corpus
        self.items = selected
        self.trainItems = tr.map { selected[$0] }
        self.validItems = va.map { selected[$0] }
        self.vocab = vocab
        self.backwards = backwards
        let ids = corpus.tokens.map { backwards ? reverseText(vocab.encodeInt32($0)) : vocab.encodeInt32($0) }
        train = try LMDataLoader(documents: trainItems.map { ids[$0] }, bs: bs, seqLen: seqLen, shuffle: true, seed: seed)
        valid = try LMDataLoader(documents: validItems.map { ids[$0] }, bs: bs, seqLen: seqLen, shuffle: false)
    }

    /// fastai's `show_batch`: rows of the first training batch (epoch `epoch`) as a table with
    /// columns `text` (input) and `text_` (target), decoded, cut to `truncAt` words and to
    /// `width` characters per line.
    public func showBatch(maxN: Int = 2, epoch: Int = 0, width: Int = 100, truncAt: Int = 150) -> String {
        let e = train.epoch(epoch)
        guard let (x, y) = e.first else { return "(no batches)" }
        let rows = (0..<min(maxN, x.batchSize)).map { r in
            [BatchDisplay.text(vocab.decode(x.row(r)), truncAt: truncAt),
             BatchDisplay.text(vocab.decode(y.row(r)), truncAt: truncAt)]
        }
        return TextTable.render(header: ["text", "text_"], rows: rows, width: width)
    }
}

/// Classifier data from a folder tree, as the chapter builds it (labels from the parent
/// folder, train/valid from the grandparent, the language model's vocabulary):
///
/// ```python
/// DataBlock(blocks=(TextBlock.from_folder(path, vocab=dls_lm.vocab), CategoryBlock),
///           get_y=parent_label, get_items=partial(get_text_files, folders=['train','test']),
///           splitter=GrandparentSplitter(valid_name='test')).dataloaders(path, path=path, bs=128, seq_len=72)
/// ```
///
/// With `backwards: true` every document is reversed (`reverseText`) before it is padded.
public struct ClassifierDataLoaders: Sendable {
    public let corpus: TokenizedFolder
    public let trainItems: [Int]
    public let validItems: [Int]
    public let vocab: Vocab
    /// Sorted training labels (`['neg', 'pos']`): label id = position.
    public let labelVocab: [String]
    /// Documents reversed (fastai's `backwards=True`).
    public let backwards: Bool
    /// Shuffled SortedDL, incomplete last batch dropped.
    public let train: SortedDataLoader
    /// Sorted by length, not shuffled.
    public let valid: SortedDataLoader

    public static func fromFolder(_ path: URL, tokenizer: DocumentTokenizer, vocab: Vocab,
                                  trainName: String = "train", validName: String = "valid",
                                  seed: UInt64 = 42, bs: Int = 64, seqLen: Int = 72, backwards: Bool = false,
                                  options: TokenizeOptions? = nil,
                                  progress: ((TokenizeProgress) -> Void)? = nil) throws -> ClassifierDataLoaders {
        let dataset = try TextFolderDataset(path: path)
        let opts = options ?? TokenizeOptions(cacheDirectory: TokenCache.defaultDirectory(for: path))
        let corpus = try TokenizedFolder(dataset, tokenizer: tokenizer, cacheDirectory: opts.cacheDirectory,
                                         chunkSize: opts.chunkSize, progress: progress)
        return try ClassifierDataLoaders(corpus: corpus, vocab: vocab, trainName: trainName, validName: validName,
                                         seed: seed, bs: bs, seqLen: seqLen, backwards: backwards)
    }

    public init(corpus: TokenizedFolder, vocab: Vocab, trainName: String = "train", validName: String = "valid",
                seed: UInt64 = 42, bs: Int = 64, seqLen: Int = 72, backwards: Bool = false) throws {
        let items = corpus.dataset.items
        let (tr, va) = GrandparentSplitter(trainName: trainName, validName: validName).split(items)
        guard !tr.isEmpty else {
            throw DatasetError("no training texts: nothing under \(corpus.dataset.path.path)/\(trainName)/<label>/")
        }
        let labels = Array(Set(tr.map { items[$0].label })).sorted()
        let labelID = Dictionary(uniqueKeysWithValues: labels.enumerated().map { ($1, $0) })
        if let odd = va.first(where: { labelID[items[$0].label] == nil }) {
            throw DatasetError("\(items[odd].relativePath): label '\(items[odd].label)' does not occur in \(trainName)")
        }
        self.corpus = corpus
        self.trainItems = tr
        self.validItems = va
        self.vocab = vocab
        self.labelVocab = labels
        self.backwards = backwards
        // Numericalize with the given vocabulary (a list: duplicates resolve to the last index).
        let given = Vocab(items: vocab.items)
        func docs(_ idx: [Int]) -> [[Int32]] {
            idx.map { backwards ? reverseText(given.encodeInt32(corpus.tokens[$0])) : given.encodeInt32(corpus.tokens[$0]) }
        }
        func ys(_ idx: [Int]) -> [Int] { idx.map { labelID[items[$0].label] ?? 0 } }
        train = try SortedDataLoader(documents: docs(tr), labels: ys(tr), bs: bs, seqLen: seqLen, shuffle: true,
                                     dropLast: true, seed: seed)
        valid = try SortedDataLoader(documents: docs(va), labels: ys(va), bs: bs, seqLen: seqLen, shuffle: false)
    }

    /// fastai's `show_batch` for classification: the first training batch's rows with columns
    /// `text` (decoded, pads removed, cut to `truncAt` words) and `category`.
    public func showBatch(maxN: Int = 3, epoch: Int = 0, width: Int = 100, truncAt: Int = 150) -> String {
        let e = train.epoch(epoch)
        guard let (x, y) = e.first else { return "(no batches)" }
        let pad = Int(train.padIndex)
        let rows = (0..<min(maxN, x.batchSize)).map { r in
            [BatchDisplay.text(vocab.decode(x.row(r).filter { $0 != pad }), truncAt: truncAt), labelVocab[y[r]]]
        }
        return TextTable.render(header: ["text", "category"], rows: rows, width: width)
    }
}
