import Foundation
import Files
import Lab
import Learn
import Synchronization
import Tensor
import Text

/// `LMDataLoader` as the language holds it: the loader and, when it came from a DataBlock, its vocab.
final class LMLoaderBox {
    let loader: LMDataLoader
    let vocab: Vocab?
    /// The first epoch's stream, built on first use (indexing batch after batch reuses it).
    private(set) lazy var firstEpoch: LMEpoch = loader.epoch(0)
    init(loader: LMDataLoader, vocab: Vocab?) { self.loader = loader; self.vocab = vocab }
}

/// Registers the data side: the embedded dataset, paths and files, `LMDataLoader`, and the
/// DataBlock-style loaders (`lm_dataloaders`, `clas_dataloaders`) with `show_batch`.
enum DataBindings {
    static func install(in s: Session, types t: TextTypes) {
        let pathType = ObjectType<PathValue>("Path", summary: "a file or folder (pathlib's Path)")
        let fileType = ObjectType<OpenFile>("TextFile", summary: "an open text file: read() gives its contents")
        let urlsType = ObjectType<Void>("URLs", summary: "names of the datasets untar_data knows")
        let lmType = ObjectType<LMLoaderBox>("LMDataLoader", summary: "language-model batches: x and y = x shifted by one token")
        let sortedType = ObjectType<SortedDataLoader>("SortedDL", summary: "classifier batches: similar lengths together, padded")
        let lmDlsType = ObjectType<LMDataLoaders>("LMDataLoaders", summary: "language-model DataLoaders from a folder (train + valid)")
        let clasDlsType = ObjectType<ClassifierDataLoaders>("ClassifierDataLoaders", summary: "classifier DataLoaders from a folder (train + valid, labels)")
        func add(_ name: String, _ summary: String, _ parameters: [Param], example: String, _ call: @escaping (Arguments) throws -> Value) {
            TextBindings.add(s, name, summary, parameters, example: example, topic: "data", call)
        }
        let bs = Param("bs", .int, default: 64, "rows per batch")
        let seqLen = Param("seq_len", .int, default: 72, "tokens per row of a batch")
        let seed = Param("seed", .int, default: 42, "the random split and shuffling")
        let backwards = Param("backwards", .bool, default: false, "reverse every numericalized text (fastai's reverse_text), for a backward model")
        let maxN = { (n: Int) in Param("max_n", .int, default: .int(n), "how many rows to show") }
        let width = Param("width", .int, default: 100, "characters per text (20 to 10000)")
        func path(_ v: Value, _ what: String) throws -> PathValue {
            if let p = pathType.unwrap(v) { return p }
            guard case .string(let str) = v else { throw LabError("\(what) must be a Path or a str, got \(v.typeName)") }
            return PathValue(url: try resolve(str, s), shown: str)
        }

        // Paths and files.
        pathType
            .sample("files = get_text_files(untar_data(URLs.IMDB_SAMPLE), folders=['valid']); path = untar_data(URLs.IMDB_SAMPLE)")
            .method("open", "open the file for reading", example: "files[0].open().read()[:100]") { p, _ in
                fileType.wrap(OpenFile(path: p))
            }
            .method("read_text", "the file's contents", example: "files[0].read_text()[:100]") { p, _ in .string(try readText(p)) }
            .method("ls", "the entries of a folder (an L of Paths)", example: "path.ls()") { p, _ in
                guard let names = try? FileManager.default.contentsOfDirectory(atPath: p.url.path) else {
                    throw LabError("Path.ls: \(p.shown) is not a readable folder")
                }
                return t.list.wrap(LList(items: names.filter { !$0.hasPrefix(".") }.sorted().map {
                    pathType.wrap(PathValue(url: p.url.appendingPathComponent($0), shown: p.shown + "/" + $0))
                }))
            }
            .method("exists", "whether the file or folder exists", example: "files[0].exists()") { p, _ in .bool(FileManager.default.fileExists(atPath: p.url.path)) }
            .attribute("name", "the last component") { p in .string(p.url.lastPathComponent) }
            .attribute("parent", "the folder it is in") { p in
                pathType.wrap(PathValue(url: p.url.deletingLastPathComponent(), shown: (p.shown as NSString).deletingLastPathComponent))
            }
            .display { "Path(\(pythonRepr($0.shown)))" }
        s.register(type: pathType)
        fileType
            .sample("f = get_text_files(untar_data(URLs.IMDB_SAMPLE), folders=['valid'])[0].open()")
            .method("read", "the whole file as a str", example: "f.read()[:100]") { f, _ in .string(try readText(f.path)) }
            .display { "<TextFile name=\(pythonRepr($0.path.shown)) mode='r' encoding='UTF-8'>" }
        s.register(type: fileType)

        add("Path", "a file or folder path (relative to the current folder)", [Param("p", "the path (a str, or a Path)")],
            example: "Path('Datasets/imdb_sample').ls()") { a in
            pathType.wrap(try path(try a.value("p"), "Path: 'p'"))
        }
        add("read_text", "the contents of a text file (Path.read_text), handy with map", [Param("p", "a Path or a str")],
            example: "read_text(get_text_files(untar_data(URLs.IMDB_SAMPLE), folders=['valid'])[0])[:60]") { a in
            .string(try readText(try path(try a.value("p"), "read_text: 'p'")))
        }

        urlsType
            .attribute("IMDB", "the full IMDb reviews (Scripts/fetch-imdb downloads them)") { _ in .string("IMDB") }
            .attribute("IMDB_SAMPLE", "2,000 IMDb reviews shipped with LMLab (same folder layout as IMDB)") { _ in .string("IMDB_SAMPLE") }
            .display { _ in "URLs (IMDB, IMDB_SAMPLE)" }
        s.register(type: urlsType)
        s.define("URLs", urlsType.wrap(()))

        add("untar_data",
            "the folder of a dataset: URLs.IMDB_SAMPLE (embedded, 2,000 reviews in train/ and valid/) or URLs.IMDB (after Scripts/fetch-imdb); nothing is downloaded",
            [Param("url", .str, "URLs.IMDB_SAMPLE or URLs.IMDB")], example: "path = untar_data(URLs.IMDB_SAMPLE); path.ls()") { a in
            let name = try a.string("url")
            let folder: String
            switch name {
            case "IMDB_SAMPLE": folder = "imdb_sample"
            case "IMDB": folder = "imdb"
            default: throw a.error("unknown dataset \(pythonRepr(name)) (known: URLs.IMDB_SAMPLE, URLs.IMDB)")
            }
            guard let root = datasetsDirectory() else {
                throw a.error("cannot find the Datasets folder (run lmlab from the LMLab folder, or set LMLAB_DATASETS)")
            }
            let url = root.appendingPathComponent(folder, isDirectory: true)
            guard FileManager.default.fileExists(atPath: url.appendingPathComponent("train").path) else {
                throw a.error("Datasets/\(folder) is missing (run \(TextFolderDataset.fetchCommand) to download the full IMDb)")
            }
            return pathType.wrap(PathValue(url: url, shown: "Datasets/" + folder))
        }
        add("get_text_files", "every .txt file under path (only under the given top-level folders), sorted, as an L of Paths",
            [Param("path", "a Path or a str"), Param("folders", default: nil, "top-level folder names to look in; None: all")],
            example: "files = get_text_files(untar_data(URLs.IMDB_SAMPLE), folders=['train', 'valid']); files[0]") { a in
            let p = try path(try a.value("path"), "get_text_files: 'path'")
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: p.url.path, isDirectory: &isDir), isDir.boolValue else {
                throw a.error("\(p.shown) is not a folder")
            }
            let folders = try TextArgs.optionalStrings(try a.value("folders"), "get_text_files: 'folders'", session: a.session)
            let entries = TextFiles.entries(in: p.url, folders: folders)
            return t.list.wrap(LList(items: entries.map { pathType.wrap(PathValue(url: $0.url, shown: p.shown + "/" + $0.relativePath)) }))
        }

        // LMDataLoader.
        func lmBatch(_ box: LMLoaderBox, _ b: Int) -> Value {
            let (x, y) = box.firstEpoch[b]
            return .tuple([t.ids.wrap(TensorText(x)), t.ids.wrap(TensorText(y))])
        }
        lmType
            .sample("dl = LMDataLoader([list(range(100))], bs=4, seq_len=5)")
            .method("__getitem__", "batch i of the first epoch: (x, y)", [Param("i", "the batch index")], example: "x, y = dl[0]") { box, a in
                lmBatch(box, try Operators.position(try a.value("i"), count: box.loader.count, "LMDataLoader"))
            }
            .method("__len__", "number of batches per epoch", example: "len(dl)") { box, _ in .int(box.loader.count) }
            .attribute("bs", "rows per batch") { .int($0.loader.bs) }
            .attribute("seq_len", "columns per batch (the last batch may be narrower)") { .int($0.loader.seqLen) }
            .attribute("n_tokens", "length of the stream (all documents concatenated)") { .int($0.loader.totalTokens) }
            .attribute("geometry", "the batch arithmetic spelled out") { .string($0.loader.geometry.description) }
            .display { box in
                let g = box.loader.geometry
                if g.nBatches <= 1 { return "LMDataLoader: \(g.nBatches) batch of \(g.bs) × \(g.lastLen) from \(g.totalTokens) tokens" }
                return "LMDataLoader: \(g.nBatches) batches of \(g.bs) × \(g.seqLen) from \(g.totalTokens) tokens"
                    + (g.lastLen != g.seqLen ? " (last \(g.bs) × \(g.lastLen))" : "")
            }
        s.register(type: lmType)
        add("LMDataLoader",
            "fastai's LMDataLoader: the documents (lists of ids) concatenated into one stream, cut into bs rows; each batch is the next seq_len columns, y is x shifted by one",
            [Param("dataset", "the documents: lists (or TensorTexts) of ids"), bs, seqLen,
             Param("shuffle", .bool, default: false, "shuffle the documents each epoch"),
             Param("seed", .int, default: nil, "the shuffle; None draws from the session's generator")],
            example: "dl = LMDataLoader([list(range(100))], bs=4, seq_len=5); x, y = first(dl); y[0]") { a in
            let docs = try TextArgs.sequence(try a.value("dataset"), "LMDataLoader: 'dataset'", session: a.session).enumerated().map { i, d in
                try TextArgs.ids(d, "LMDataLoader: document \(i)", session: a.session, tensorText: t.ids)
            }
            let seed = try a.optionalInt("seed").map { UInt64(bitPattern: Int64($0)) } ?? a.session.rng.next()
            let bs = try a.int("bs"), seqLen = try a.int("seq_len")
            guard bs > 0 else { throw a.error("bs must be positive, got \(bs)") }
            guard seqLen > 0 else { throw a.error("seq_len must be positive, got \(seqLen)") }
            let loader = try LMDataLoader(documents: docs, bs: bs, seqLen: seqLen,
                                          shuffle: try a.bool("shuffle"), seed: seed)
            return lmType.wrap(LMLoaderBox(loader: loader, vocab: nil))
        }

        sortedType
            .sample("dls_clas = clas_dataloaders(untar_data(URLs.IMDB_SAMPLE), bs=64, seq_len=72); dl = dls_clas.valid")
            .method("__getitem__", "batch i of the first epoch: (x, y), y the label ids", [Param("i", "the batch index")],
                    example: "x, y = dl[0]") { dl, a in
                let e = dl.epoch(0)
                let (x, y) = e[try Operators.position(try a.value("i"), count: e.count, "SortedDL")]
                return .tuple([t.ids.wrap(TensorText(x)), t.ids.wrap(TensorText(y))])
            }
            .method("__len__", "number of batches per epoch", example: "len(dl)") { dl, _ in .int(dl.count) }
            .attribute("bs", "rows per batch") { .int($0.bs) }
            .display { "SortedDL: \($0.count) batches of up to \($0.bs) texts (\($0.documents.count) texts)" }
        s.register(type: sortedType)

        // DataBlock-style loaders.
        lmDlsType
            .sample("dls_lm = lm_dataloaders(untar_data(URLs.IMDB_SAMPLE), bs=64, seq_len=72, valid_pct=0.1, seed=42)")
            .method("show_batch", "the first training batch, decoded: input text and target text (shifted by one), cut to width characters",
                    [maxN(2), width], example: "dls_lm.show_batch(max_n=2)") { d, a in
                t.text(d.showBatch(maxN: try a.int("max_n"), width: try showWidth(a)))
            }
            .attribute("vocab", "the vocabulary (an L), built from every text under the folder") { t.strings($0.vocab.items) }
            .attribute("train", "the training LMDataLoader (documents shuffled each epoch)") { lmType.wrap(LMLoaderBox(loader: $0.train, vocab: $0.vocab)) }
            .attribute("valid", "the validation LMDataLoader") { lmType.wrap(LMLoaderBox(loader: $0.valid, vocab: $0.vocab)) }
            .attribute("n_train", "number of training texts") { .int($0.trainItems.count) }
            .attribute("n_valid", "number of validation texts") { .int($0.validItems.count) }
            .display { d in
                "LMDataLoaders: \(plural(d.trainItems.count, "train text")) (\(plural(d.train.count, "batch"))), \(plural(d.validItems.count, "valid text")) (\(plural(d.valid.count, "batch"))), "
                    + "bs \(d.train.bs), seq_len \(d.train.seqLen), vocab \(d.vocab.count)" + (d.backwards ? ", backwards" : "")
            }
        s.register(type: lmDlsType)
        clasDlsType
            .sample("dls_clas = clas_dataloaders(untar_data(URLs.IMDB_SAMPLE), bs=64, seq_len=72)")
            .method("show_batch", "the first training batch, decoded (pads removed), with its category, cut to width characters",
                    [maxN(3), width], example: "dls_clas.show_batch(max_n=3)") { d, a in
                t.text(d.showBatch(maxN: try a.int("max_n"), width: try showWidth(a)))
            }
            .attribute("vocab", "(token vocab, category vocab), as fastai's dls.vocab") { d in
                .tuple([t.strings(d.vocab.items), t.strings(d.labelVocab)])
            }
            .attribute("train", "the training SortedDL (shuffled, last incomplete batch dropped)") { sortedType.wrap($0.train) }
            .attribute("valid", "the validation SortedDL (longest first)") { sortedType.wrap($0.valid) }
            .attribute("n_train", "number of training texts") { .int($0.trainItems.count) }
            .attribute("n_valid", "number of validation texts") { .int($0.validItems.count) }
            .display { d in
                "ClassifierDataLoaders: \(plural(d.trainItems.count, "train text")) (\(plural(d.train.count, "batch"))), \(plural(d.validItems.count, "valid text")) (\(plural(d.valid.count, "batch"))), "
                    + "bs \(d.train.bs), labels \(d.labelVocab.pythonReprList)" + (d.backwards ? ", backwards" : "")
            }
        s.register(type: clasDlsType)

        add("lm_dataloaders",
            "language-model DataLoaders from a folder: fastai's DataBlock(TextBlock.from_folder(path, is_lm=True), RandomSplitter(valid_pct)); backwards=True reverses every text (fastai's reverse_text); tokens cached in Datasets/cache",
            [Param("path", "the dataset folder (a Path or a str)"), bs, seqLen,
             Param("valid_pct", .float, default: 0.1, "the share of texts held out for validation"), seed,
             Param("folders", default: nil, "top-level folders to read; None: all"),
             Param("min_freq", .int, default: 3, "tokens seen fewer times become xxunk"),
             Param("max_vocab", .int, default: 60000, "largest vocab size"), backwards],
            example: "dls_lm = lm_dataloaders(untar_data(URLs.IMDB_SAMPLE), bs=64, seq_len=72, valid_pct=0.1, seed=42)") { a in
            let p = try path(try a.value("path"), "lm_dataloaders: 'path'")
            let folders = try TextArgs.optionalStrings(try a.value("folders"), "lm_dataloaders: 'folders'", session: a.session)
            let validPct = try a.double("valid_pct")
            guard validPct >= 0, validPct < 1 else { throw a.error("valid_pct must be in [0, 1), got \(Value.formatFloat(validPct))") }
            let seed = try a.int("seed")
            let corpus = try tokenizedFolder(p, a)
            let vocab = Vocab(counter: corpus.counter, minFreq: try a.int("min_freq"), maxVocab: try a.int("max_vocab"))
            return lmDlsType.wrap(try LMDataLoaders(corpus: corpus, vocab: vocab, folders: folders, validPct: validPct,
                                                    seed: UInt64(bitPattern: Int64(seed)),
                                                    bs: try a.int("bs"), seqLen: try a.int("seq_len"),
                                                    backwards: try a.bool("backwards")))
        }
        add("clas_dataloaders",
            "classifier DataLoaders from a folder: fastai's DataBlock((TextBlock.from_folder(path, vocab=), CategoryBlock), get_y=parent_label, GrandparentSplitter); backwards=True reverses every text",
            [Param("path", "the dataset folder (a Path or a str)"),
             Param("vocab", default: nil, "the language model's vocab (a list or L); None: built from the texts"), bs, seqLen, seed,
             Param("valid_name", .str, default: .string("valid"), "the validation folder"), backwards],
            example: "dls_clas = clas_dataloaders(untar_data(URLs.IMDB_SAMPLE), bs=64, seq_len=72); dls_clas.vocab[1]") { a in
            let p = try path(try a.value("path"), "clas_dataloaders: 'path'")
            let corpus = try tokenizedFolder(p, a)
            let vocab: Vocab
            if let items = try TextArgs.optionalStrings(try a.value("vocab"), "clas_dataloaders: 'vocab'", session: a.session) {
                vocab = Vocab(items: items)
            } else {
                vocab = Vocab(counter: corpus.counter)
            }
            return clasDlsType.wrap(try ClassifierDataLoaders(corpus: corpus, vocab: vocab, trainName: "train",
                                                              validName: try a.string("valid_name"),
                                                              seed: UInt64(bitPattern: Int64(try a.int("seed"))),
                                                              bs: try a.int("bs"), seqLen: try a.int("seq_len"),
                                                              backwards: try a.bool("backwards")))
        }
    }

    static func showWidth(_ a: Arguments) throws -> Int {
        let w = try a.int("width")
        guard w >= 20, w <= 10_000 else { throw a.error("width must be between 20 and 10000, got \(w)") }
        return w
    }

    /// Every text under `p`, tokenized (or read from the cache beside the dataset), with a
    /// progress bar on stderr.
    static func tokenizedFolder(_ p: PathValue, _ a: Arguments) throws -> TokenizedFolder {
        let dataset = try TextFolderDataset(path: p.url)
        let tokenizer = try sharedTokenizer()
        let bar = ProgressBar(label: "tokenizing \(p.shown)")
        defer { bar.finish() }
        return try TokenizedFolder(dataset, tokenizer: tokenizer, cacheDirectory: TokenCache.defaultDirectory(for: p.url),
                                   progress: { bar.update($0) })
    }

    private static let tokenizer = Mutex<WordDocumentTokenizer?>(nil)
    /// One dataset tokenizer for the process (its tables and span caches are worth keeping):
    /// Learn's `WordDocumentTokenizer` with fastai's default rules, so the text bindings
    /// (`lm_dataloaders`, `TextDataLoaders`) and `sample_lm_data` share one token-cache key and a
    /// first run tokenizes the sample once.
    static func sharedTokenizer() throws -> WordDocumentTokenizer {
        try tokenizer.withLock { cached in
            if let t = cached { return t }
            let t = try WordDocumentTokenizer()
            cached = t
            return t
        }
    }

    static func readText(_ p: PathValue) throws -> String {
        do {
            let size = (try? FileManager.default.attributesOfItem(atPath: p.url.path)[.size] as? Int) ?? 0
            try Convert.checkString(bytes: size, "cannot read \(p.shown)")
            let data = try FileErrors.contents(of: p.url, shown: p.shown)
            guard let text = String(validating: data, as: UTF8.self) else { throw LabError("cannot read \(p.shown): not UTF-8 text") }
            return text
        } catch let e as FileError {
            throw LabError(e.description)
        }
    }

    /// The path a `Path(…)` value holds, or nil for any other value.
    static func pathValue(_ v: Value) -> PathValue? {
        if case .object(let o) = v, let p = o as? NativeObject<PathValue> { return p.value }
        return nil
    }

    /// The one path resolver of the bindings (Path, read_text, export, load_learner, pretrained=,
    /// chapter_recipe's output): absolute paths as given, `Datasets/…` under the datasets
    /// folder wherever the session runs (tests, lessons), anything else relative to the
    /// session's folder. A NUL in a path is an error, not a silent `%00`.
    static func resolve(_ path: String, _ s: Session) throws -> URL {
        guard !path.unicodeScalars.contains("\0") else { throw LabError("a path cannot contain a NUL character: \(pythonRepr(path))") }
        guard !path.isEmpty else { throw LabError("a path cannot be empty") }
        if path.hasPrefix("/") { return URL(fileURLWithPath: path) }
        if path.hasPrefix("Datasets/"), let root = datasetsDirectory() {
            return root.deletingLastPathComponent().appendingPathComponent(path)
        }
        return URL(fileURLWithPath: s.directory, isDirectory: true).appendingPathComponent(path)
    }

    /// The `Datasets` folder: `$LMLAB_DATASETS`, else the first `Datasets/imdb_sample` found
    /// going up from the current folder, from the executable, or from this source file.
    static func datasetsDirectory() -> URL? {
        let fm = FileManager.default
        if let env = ProcessInfo.processInfo.environment["LMLAB_DATASETS"], !env.isEmpty {
            return URL(fileURLWithPath: env, isDirectory: true)
        }
        var starts = [URL(fileURLWithPath: fm.currentDirectoryPath, isDirectory: true)]
        if let exe = Bundle.main.executableURL { starts.append(exe.deletingLastPathComponent()) }
        starts.append(URL(fileURLWithPath: #filePath).deletingLastPathComponent())
        for start in starts {
            var dir = start.standardizedFileURL
            for _ in 0..<8 {
                let candidate = dir.appendingPathComponent("Datasets", isDirectory: true)
                if fm.fileExists(atPath: candidate.appendingPathComponent("imdb_sample").path) { return candidate }
                let up = dir.deletingLastPathComponent()
                if up.path == dir.path { break }
                dir = up
            }
        }
        return nil
    }
}

/// A one-line progress bar on stderr (redrawn in place on a terminal; only the final line otherwise).
final class ProgressBar {
    let label: String
    private let tty = isatty(2) != 0
    private var last: TokenizeProgress?
    init(label: String) { self.label = label }

    func update(_ p: TokenizeProgress) {
        last = p
        guard tty else { return }
        write("\r" + line(p))
    }

    func finish() {
        guard let p = last else { return }
        write((tty ? "\r" : "") + line(p) + "\n")
    }

    private func line(_ p: TokenizeProgress) -> String {
        let frac = p.total == 0 ? 1 : Double(p.done) / Double(p.total)
        let filled = Int(frac * 30)
        let bar = String(repeating: "█", count: filled) + String(repeating: "░", count: 30 - filled)
        return "\(label) \(bar) \(p.done)/\(p.total)" + (p.fromCache ? " (from cache)" : "")
    }

    private func write(_ s: String) { FileHandle.standardError.write(s.data(using: .utf8)!) }
}

/// `1 batch`, `3 batches`, `2 train texts`.
func plural(_ n: Int, _ noun: String) -> String {
    n == 1 ? "1 \(noun)" : "\(n) \(noun)" + (noun.hasSuffix("ch") ? "es" : "s")
}

extension Array where Element == String {
    /// `['neg', 'pos']`.
    var pythonReprList: String { PythonRepr.list(self) }
}
