import Lab
import Foundation
import Learn
import Models
import Tensor
import Text

/// Learner-ready language-model data in the language: the library's `LMLearnerData` plus the
/// tokenized corpus (so classifier data can reuse its vocabulary and tokens).
struct LabLMData {
    var data: LMLearnerData
    var corpus: TokenizedFolder
}

/// Learner-ready classifier data.
struct LabClasData {
    var data: ClassifierLearnerData
}

/// The sample data builtins (`sample_lm_data`, `sample_clas_data`) and the conversions that let
/// the learner factories accept them as well as the text bindings' `LMDataLoaders` /
/// `ClassifierDataLoaders` objects.
enum LearnData {
    static func configure(_ types: LearnTypes) {
        let (lmType, clasType) = (types.lmData, types.clasData)
        lmType
            .sample("dls_lm = sample_lm_data(n_texts=20, bs=4, seq_len=8)")
            .attribute("vocab", "the vocabulary (list of tokens)") { .list($0.data.vocab.items.map { .string($0) }) }
            .attribute("n_train_batches", "training batches per epoch") { .int($0.data.train.count) }
            .attribute("n_valid_batches", "validation batches") { .int($0.data.valid.count) }
            .method("one_batch", "training batch i of epoch 0 as (x, y) id tensors [bs, seq_len]",
                    [Param("i", .int, default: 0, "the batch index")], example: "x, y = dls_lm.one_batch()") { d, a in
                let e = d.data.train.epoch(0)
                let i = try a.int("i")
                guard i >= 0, i < e.count else { throw a.error("batch \(i) out of range (0..<\(e.count))") }
                let (x, y) = e[i]
                return .tuple([.tensor(idTensor(x)), .tensor(idTensor(y))])
            }
            .method("unigram_baseline", "(valid loss, accuracy) of a model that knows only word frequencies: what training must beat",
                    [], example: "dls_lm.unigram_baseline()") { d, _ in
                let b = UnigramBaseline(d.data)
                return .tuple([.float(b.loss), .float(b.accuracy)])
            }
            .display { d in
                "LMLearnerData: \(d.data.train.count) train batches, \(d.data.valid.count) valid batches of \(d.data.train.bs) × \(d.data.train.seqLen), vocab \(d.data.vocab.count)"
                    + (d.data.backwards ? ", backwards" : "")
            }
        clasType
            .sample("dls_clas = sample_clas_data(sample_lm_data(n_texts=20, bs=4, seq_len=8), n_texts=20, bs=4)")
            .attribute("vocab", "(token vocab, labels)") { d in
                .tuple([.list(d.data.vocab.items.map { .string($0) }), .list(d.data.labels.map { .string($0) })])
            }
            .attribute("n_train_batches", "training batches per epoch") { .int($0.data.train.count) }
            .attribute("n_valid_batches", "validation batches") { .int($0.data.valid.count) }
            .method("one_batch", "training batch i of epoch 0 as (x, y): padded ids [bs, len] and label ids [bs]",
                    [Param("i", .int, default: 0, "the batch index")], example: "x, y = dls_clas.one_batch()") { d, a in
                let e = d.data.train.epoch(0)
                let i = try a.int("i")
                guard i >= 0, i < e.count else { throw a.error("batch \(i) out of range (0..<\(e.count))") }
                let (x, y) = e[i]
                return .tuple([.tensor(idTensor(x)),
                               .tensor(Tensor(shape: [y.count], data: y.map { Float($0) }))])
            }
            .display { d in
                "ClassifierLearnerData: \(d.data.train.count) train batches, \(d.data.valid.count) valid batches, bs \(d.data.train.bs), labels \(pyList(d.data.labels))"
                    + (d.data.backwards ? ", backwards" : "")
            }
    }

    static func install(in s: Session, _ types: LearnTypes) {
        configure(types)
        let (lmType, clasType) = (types.lmData, types.clasData)
        s.register(type: lmType)
        s.register(type: clasType)
        s.register(Builtin("sample_lm_data",
                           [Param("n_texts", .int, default: nil, "use the first n_texts of the split (at least 2); None: all"),
                            Param("bs", .int, default: 32, "rows per batch"), Param("seq_len", .int, default: 72, "tokens per row"),
                            Param("max_vocab", .int, default: 4000, "largest vocab size (more than 8)"),
                            Param("min_freq", .int, default: 3, "tokens seen fewer times become xxunk"),
                            Param("valid_pct", .float, default: 0.1, "the share of texts held out for validation"),
                            Param("seed", .int, default: 42, "the random split and shuffling"),
                            Param("dataset", .str, default: .string("imdb_sample"), "'imdb_sample' or 'imdb' (after Scripts/fetch-imdb)"),
                            Param("backwards", .bool, default: false, "reverse every text (fastai's reverse_text) for a backward model")],
                           summary: "language-model data from the embedded IMDb sample (all 2,000 texts, or the first n_texts of a random split), vocabulary from every text; backwards=True reverses every text",
                           example: "dls_lm = sample_lm_data(n_texts=200, bs=16, seq_len=36)", topic: "learn") { a in
            let nTexts = try a.optionalInt("n_texts")
            let bs = try a.int("bs"), seqLen = try a.int("seq_len")
            let maxVocab = try a.int("max_vocab"), minFreq = try a.int("min_freq")
            let validPct = try a.double("valid_pct")
            let seed = UInt64(bitPattern: Int64(try a.int("seed")))
            let backwards = try a.bool("backwards")
            guard bs > 0, seqLen > 0 else { throw a.error("bs and seq_len must be positive") }
            guard maxVocab > 8 else { throw a.error("max_vocab must be more than 8, got \(maxVocab)") }
            guard validPct > 0, validPct < 1 else { throw a.error("valid_pct must be in (0, 1), got \(Value.formatFloat(validPct))") }
            if let n = nTexts, n < 2 { throw a.error("n_texts must be at least 2, got \(n)") }
            let folder = try datasetFolder(a)
            let tokenizer = try DataBindings.sharedTokenizer()
            let dls = try LMDataLoaders.fromFolder(folder, tokenizer: tokenizer, validPct: validPct, seed: seed, bs: bs,
                                                   seqLen: seqLen, minFreq: minFreq, maxVocab: maxVocab, backwards: backwards,
                                                   options: TokenizeOptions(cacheDirectory: cacheDirectory(folder)))
            var data = LMLearnerData(dls, tokenizer: tokenizer.settings)
            data.path = URL(fileURLWithPath: a.session.directory, isDirectory: true)
            if let n = nTexts {
                let nValid = max(1, Int((Double(n) * validPct).rounded()))
                func ids(_ i: Int) -> [Int] { dls.vocab.encode(dls.corpus.tokens[i]) }
                let train = dls.trainItems.prefix(n).map { backwards ? reverseText(ids($0)) : ids($0) }
                let valid = dls.validItems.prefix(nValid).map { backwards ? reverseText(ids($0)) : ids($0) }
                data = LMLearnerData(train: try LMDataLoader(documents: train, bs: bs, seqLen: seqLen, shuffle: true, seed: seed),
                                     valid: try LMDataLoader(documents: Array(valid), bs: bs, seqLen: seqLen, shuffle: false, seed: seed),
                                     vocab: dls.vocab, tokenizer: tokenizer.settings, path: data.path, backwards: backwards)
            }
            guard data.train.count > 0, data.valid.count > 0 else {
                throw a.error("too few tokens for one batch of \(bs) × \(seqLen) (use more texts or smaller batches)")
            }
            return lmType.wrap(LabLMData(data: data, corpus: dls.corpus))
        })
        s.register(Builtin("sample_clas_data",
                           [Param("dls_lm", "data from sample_lm_data (its vocab and tokens are reused)"),
                            Param("n_texts", .int, default: nil, "a balanced subset of n_texts training texts (at least 2); None: all"),
                            Param("bs", .int, default: 16, "texts per batch"), Param("seq_len", .int, default: 72, "the chunk length the encoder reads"),
                            Param("seed", .int, default: 42, "the shuffling")],
                           summary: "classifier data (train/ and valid/ folders, labels from parent folders) with the language model's vocabulary, read in its direction (backwards when it is)",
                           example: "dls_clas = sample_clas_data(sample_lm_data(n_texts=20, bs=4, seq_len=8), n_texts=20, bs=4)", topic: "learn") { a in
            let lmValue = try a.value("dls_lm")
            guard let lm = lmType.unwrap(lmValue) else {
                throw a.error("'dls_lm' must be data from sample_lm_data, got \(lmValue.typeName)")
            }
            let nTexts = try a.optionalInt("n_texts")
            let bs = try a.int("bs"), seqLen = try a.int("seq_len")
            let seed = UInt64(bitPattern: Int64(try a.int("seed")))
            guard bs > 0, seqLen > 0 else { throw a.error("bs and seq_len must be positive") }
            if let n = nTexts, n < 2 { throw a.error("n_texts must be at least 2, got \(n)") }
            let backwards = lm.data.backwards
            let dls = try ClassifierDataLoaders(corpus: lm.corpus, vocab: lm.data.vocab, seed: seed, bs: bs, seqLen: seqLen,
                                                backwards: backwards)
            var data = ClassifierLearnerData(dls, tokenizer: lm.data.tokenizer)
            data.path = lm.data.path
            if let n = nTexts {
                // A balanced subset: texts alternate between labels (the folders list one label, then the other).
                func pick(_ items: [Int], _ k: Int) -> [Int] {
                    let byLabel = Dictionary(grouping: items) { dls.corpus.dataset.items[$0].label }
                    let labels = byLabel.keys.sorted()
                    var out: [Int] = [], i = 0
                    while out.count < min(k, items.count) {
                        for l in labels where out.count < k { if let list = byLabel[l], i < list.count { out.append(list[i]) } }
                        i += 1
                    }
                    return out
                }
                let nValid = max(2, n / 4)
                func loader(_ items: [Int], shuffle: Bool) throws -> SortedDataLoader {
                    try SortedDataLoader(documents: items.map { i in
                                             let ids = lm.data.vocab.encode(lm.corpus.tokens[i])
                                             return backwards ? reverseText(ids) : ids
                                         },
                                         labels: items.map { dls.labelVocab.firstIndex(of: dls.corpus.dataset.items[$0].label) ?? 0 },
                                         bs: bs, seqLen: seqLen, shuffle: shuffle, seed: seed)
                }
                data = ClassifierLearnerData(train: try loader(pick(dls.trainItems, n), shuffle: true),
                                             valid: try loader(pick(dls.validItems, nValid), shuffle: false),
                                             vocab: lm.data.vocab, labels: dls.labelVocab, tokenizer: lm.data.tokenizer, path: data.path,
                                             backwards: backwards)
            }
            guard data.train.count > 0, data.valid.count > 0 else { throw a.error("too few texts for one batch of \(bs)") }
            return clasType.wrap(LabClasData(data: data))
        })
    }

    /// LM data from our own object or from any object wrapping Text's `LMDataLoaders`
    /// (the text bindings' `lm_dataloaders(...)`).
    static func lmData(_ v: Value, _ a: Arguments) throws -> LMLearnerData {
        if let d = nativeValue(v, as: LabLMData.self) { return d.data }
        if case .object(let o) = v, let n = o as? NativeObject<LMDataLoaders> {
            var d = LMLearnerData(n.value)
            d.path = URL(fileURLWithPath: a.session.directory, isDirectory: true)
            return d
        }
        throw a.error("'dls' must be language-model data (sample_lm_data or lm_dataloaders), got \(v.typeName)")
    }

    /// Classifier data from our own object or any object wrapping Text's `ClassifierDataLoaders`.
    static func clasData(_ v: Value, _ a: Arguments) throws -> ClassifierLearnerData {
        if let d = nativeValue(v, as: LabClasData.self) { return d.data }
        if case .object(let o) = v, let n = o as? NativeObject<ClassifierDataLoaders> {
            var d = ClassifierLearnerData(n.value)
            d.path = URL(fileURLWithPath: a.session.directory, isDirectory: true)
            return d
        }
        throw a.error("'dls' must be classifier data (sample_clas_data or clas_dataloaders), got \(v.typeName)")
    }

    static func idTensor(_ batch: TokenBatch) -> Tensor {
        Tensor(shape: batch.shape, data: batch.ids.map { Float($0) })
    }

    /// `Datasets/imdb_sample`: `$LMLAB_DATASETS`, else found going up from the current folder,
    /// the executable or this source file.
    static func sampleFolder(_ a: Arguments) throws -> URL {
        guard let datasets = DataBindings.datasetsDirectory() else {
            throw a.error("cannot find Datasets/imdb_sample (run lmlab from the LMLab folder, or set LMLAB_DATASETS)")
        }
        return datasets.appendingPathComponent("imdb_sample", isDirectory: true)
    }

    /// `dataset='imdb_sample'` (default) or `'imdb'` (the full reviews, after Scripts/fetch-imdb).
    static func datasetFolder(_ a: Arguments) throws -> URL {
        let sample = try sampleFolder(a)
        let name = try a.string("dataset")
        switch name {
        case "imdb_sample": return sample
        case "imdb":
            let full = sample.deletingLastPathComponent().appendingPathComponent("imdb", isDirectory: true)
            guard FileManager.default.fileExists(atPath: full.appendingPathComponent("train").path) else {
                throw a.error("Datasets/imdb is missing (run Scripts/fetch-imdb)")
            }
            return full
        default: throw a.error("dataset must be 'imdb_sample' or 'imdb', got \(pythonRepr(name))")
        }
    }

    /// Token cache beside the dataset (`Datasets/cache/…`), shared by runs.
    static func cacheDirectory(_ folder: URL) -> URL { TokenCache.defaultDirectory(for: folder) }
}
