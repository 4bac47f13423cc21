import Foundation
import Testing
import TestSupport
@testable import Lab
@testable import LabBindings

/// The text pipeline in the command language: exact displays (what a learner compares with the
/// book) and one-line errors for bad input.
@Suite struct TextBindingsTests {
    /// Runs `source` in a fresh session; the text the REPL would show.
    func run(_ source: String, in session: Session = Session()) -> String {
        session.run(source).text
    }

    @Test func collReprAndLShowFastaisStrings() {
        #expect(run("coll_repr(range(20), 5)") == "'(#20) [0,1,2,3,4...]'")
        #expect(run("print(coll_repr(['xxbos', \"n't\", '\\n\\n'], 30))") == "(#3) ['xxbos',\"n't\",'\\n\\n']")
        #expect(run("coll_repr(range(30), 10, style='current')") == "'(#30) [0, 1, 2, 3, 4, 5, 6, 7, 8, 9...]'")
        #expect(run("coll_repr(range(30), style='current')") == "'[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29]'")
        #expect(run("coll_repr(['xxbos', 'it', 'is'], 2, style='current')") == "\"['xxbos', 'it'...]\"")
        #expect(run("L(range(12))") == "(#12) [0,1,2,3,4,5,6,7,8,9...]")
        #expect(run("L('a')") == "(#1) ['a']")
        #expect(run("L(1, 2, 3)[1:]") == "(#2) [2,3]")
        #expect(run("L(['a', 'b', 'c'])[[2, 0]]") == "(#2) ['c','a']")
        #expect(run("len(L(range(7)).map(str))") == "7")
        #expect(run("' '.join(L(['a', 'b']))") == "'a b'")
        #expect(run("print(L(['a', \"n't\"]))") == "['a', \"n't\"]")
    }

    @Test func tokenizerAppliesTheRulesThenSpacy() {
        let s = Session()
        #expect(run("tkn = Tokenizer(WordTokenizer()); tkn('&copy;   Fast.ai www.fast.ai/INDEX')", in: s)
            == "(#11) ['xxbos','©','xxmaj','fast.ai','xxrep','3','w','.fast.ai','/','xxup'...]")
        #expect(run("first(WordTokenizer()([\"Don't panic :)\"]))", in: s) == "(#4) ['Do',\"n't\",'panic',':)']")
        #expect(run("tkn", in: s) == "Tokenizer(WordTokenizer())")
        #expect(run("len(tkn.rules), tkn.rules[0]", in: s) == "(8, <function fix_html>)")
        #expect(run("replace_rep('cool!!!!'), replace_maj('Once again')", in: s) == "('cool xxrep 4 ! ', 'xxmaj once again')")
    }

    @Test func rulesTableShowsEachStep() {
        #expect(run("rules('I LOVED it!!!!')") == """
        rule               text
        (raw)              'I LOVED it!!!!'
        fix_html           'I LOVED it!!!!'
        replace_rep        'I LOVED it xxrep 4 ! '
        replace_wrep       'I LOVED it xxrep 4 ! '
        spec_add_spaces    'I LOVED it xxrep 4 ! '
        rm_useless_spaces  'I LOVED it xxrep 4 ! '
        replace_all_caps   'i xxup loved it xxrep 4 ! '
        replace_maj        'i xxup loved it xxrep 4 ! '
        lowercase          'xxbos i xxup loved it xxrep 4 !'
        """)
    }

    @Test func numericalizeBuildsTheVocabAndDecodes() {
        let s = Session()
        let setup = "num = Numericalize(min_freq=2); num.setup([['xxbos', 'a', 'b', 'a'], ['xxbos', 'b', 'c', 'a']])"
        #expect(run(setup + "; num.vocab", in: s) == "(#16) ['xxunk','xxpad','xxbos','xxeos','xxfld','xxrep','xxwrep','xxup','xxmaj','a'...]")
        #expect(run("num.vocab[9:]", in: s) == "(#7) ['a','b','xxfake','xxfake','xxfake','xxfake','xxfake']")
        #expect(run("ids = num(['xxbos', 'a', 'c', 'b']); ids", in: s) == "TensorText([ 2,  9,  0, 10])")
        #expect(run("' '.join(num.vocab[ids]), num.decode(ids), num.o2i['b']", in: s)
            == "('xxbos a xxunk b', (#4) ['xxbos','a','xxunk','b'], 10)")
    }

    @Test func lmDataLoaderBatchesShowAsPyTorchDoes() {
        let s = Session()
        #expect(run("dl = LMDataLoader([list(range(100))], bs=4, seq_len=5); dl", in: s)
            == "LMDataLoader: 5 batches of 4 × 5 from 100 tokens (last 4 × 4)")
        #expect(run("x, y = first(dl); x", in: s) == """
        TensorText([[ 0,  1,  2,  3,  4],
                    [24, 25, 26, 27, 28],
                    [48, 49, 50, 51, 52],
                    [72, 73, 74, 75, 76]])
        """)
        #expect(run("y[1], x.shape, len(dl)", in: s) == "(TensorText([25, 26, 27, 28, 29]), (4, 5), 5)")
        // Above 1,000 elements PyTorch summarises: 3 first and 3 last of each side.
        #expect(run("LMDataLoader([list(range(10000))], bs=64, seq_len=72)[0][0]", in: s) == """
        TensorText([[   0,    1,    2,  ...,   69,   70,   71],
                    [ 156,  157,  158,  ...,  225,  226,  227],
                    [ 312,  313,  314,  ...,  381,  382,  383],
                    ...,
                    [9516, 9517, 9518,  ..., 9585, 9586, 9587],
                    [9672, 9673, 9674,  ..., 9741, 9742, 9743],
                    [9828, 9829, 9830,  ..., 9897, 9898, 9899]])
        """)
    }

    @Test func streamTableIsTheBooksIllustration() {
        let s = Session()
        _ = run("t = L(['a', 'b', 'c', 'dd', 'e', 'f', '\\n', 'h'])", in: s)
        #expect(run("stream_table(t, bs=2)", in: s) == "a  b  c   dd\ne  f  \\n  h")
        #expect(run("stream_table(t, bs=2, seq_len=3, batch=1)", in: s) == "dd\nh")
        #expect(run("stream_table(t, bs=2, seq_len=3, batch=2)", in: s) == "error: stream_table: batch must be between 0 and 1, got 2")
    }

    @Test func embeddedDatasetAndFiles() {
        let s = Session()
        #expect(run("path = untar_data(URLs.IMDB_SAMPLE); path", in: s) == "Path('Datasets/imdb_sample')")
        #expect(run("files = get_text_files(path, folders=['valid']); len(files), files[0]", in: s)
            == "(400, Path('Datasets/imdb_sample/valid/neg/1040.txt'))")
        #expect(run("files[0].open().read() == read_text(files[0]) == files[0].read_text()", in: s) == "True")
    }

    @Test(arguments: [
        ("Path('no/such/file.txt').open().read()", "error: cannot read no/such/file.txt: no such file or folder"),
        ("get_text_files('no/such/folder')", "error: get_text_files: no/such/folder is not a folder"),
        ("get_text_files(3)", "error: get_text_files: 'path' must be a Path or a str, got int"),
        ("untar_data('MNIST')", "error: untar_data: unknown dataset 'MNIST' (known: URLs.IMDB_SAMPLE, URLs.IMDB)"),
        ("Tokenizer(3)", "error: Tokenizer: 'tok' must be a WordTokenizer or a SubwordTokenizer, got int"),
        ("Tokenizer()(['a text'])", "error: Tokenizer: takes one text (a str), got list (for many texts: txts.map(tkn))"),
        ("WordTokenizer()('a text')", "error: WordTokenizer: takes a list of texts, got a str (wrap it: spacy([txt]))"),
        ("WordTokenizer()([1])", "error: WordTokenizer: 'texts': item 0 must be a string, got int"),
        ("Numericalize()(['a'])", "error: Numericalize: no vocab yet (call num.setup(toks200) first)"),
        ("Numericalize().setup(['a', 'b'])", "error: Numericalize.setup: 'dsets' must be a list of token lists (one per text), got a list of str"),
        ("Numericalize(min_freq=-1)", "error: Numericalize: min_freq must be ≥ 0, got -1"),
        ("LMDataLoader([[1, 2, 3]], bs=0)", "error: LMDataLoader: bs must be positive, got 0"),
        ("LMDataLoader([['a']])", "error: LMDataLoader: document 0 must be an integer, got str"),
        ("subword(100)", "error: subword: no 'txts' defined: set txts (the training texts) and txt (the text to show), or pass them: subword(100, txts, txt)"),
        ("SubwordTokenizer(vocab_sz=5)", "error: SubwordTokenizer: vocab_sz must be between 20 and 100000, got 5"),
        ("SubwordTokenizer()(['x'])", "error: SubwordTokenizer: not trained yet (call sp.setup(txts) first)"),
        ("coll_repr(3)", "error: coll_repr: 'c' must be a list, got int"),
        ("coll_repr([1], style='new')", "error: coll_repr: style must be 'book' or 'current', got 'new'"),
    ])
    func badInputGivesOneLineErrors(_ source: String, _ expected: String) {
        #expect(run(source) == expected)
    }

    @Test func loadersReportMissingAndEmptyDatasets() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("lab-text-empty-\(getpid())")
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("train/pos"), withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let empty = run("lm_dataloaders(Path('\(dir.path)'))")
        #expect(empty.hasPrefix("error: lm_dataloaders: dataset is empty: no .txt files under \(dir.path)"))
        let missing = run("clas_dataloaders('\(dir.path)/nope')")
        #expect(missing.hasPrefix("error: clas_dataloaders: dataset not found: \(dir.path)/nope does not exist"))
    }

    @Test func loadersFromAFolderShowBatches() throws {
        // A tiny dataset in fastai's layout, tokenized into a cache beside it.
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("lab-text-dls-\(getpid())")
        let dir = root.appendingPathComponent("data")
        defer { try? FileManager.default.removeItem(at: root) }
        let texts = [("train/pos/1.txt", "I loved this movie. Great fun!"), ("train/neg/2.txt", "Boring. I left early."),
                     ("train/pos/3.txt", "A fine film, loved it."), ("train/neg/4.txt", "Bad acting, bad plot."),
                     ("valid/pos/5.txt", "Loved it."), ("valid/neg/6.txt", "So bad.")]
        for (name, text) in texts {
            let url = dir.appendingPathComponent(name)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try text.write(to: url, atomically: true, encoding: .utf8)
        }
        let s = Session()
        #expect(run("dls = lm_dataloaders('\(dir.path)', bs=2, seq_len=5, valid_pct=0.2, seed=1, min_freq=1); dls", in: s)
            == "LMDataLoaders: 5 train texts (4 batches), 1 valid text (1 batch), bs 2, seq_len 5, vocab 32")
        let batch = run("dls.show_batch(max_n=2)", in: s).split(separator: "\n")
        #expect(batch.first == "   text                     text_")
        #expect(batch.count == 3)
        #expect(FileManager.default.fileExists(atPath: root.appendingPathComponent("cache").path), "tokens are cached beside the dataset")
        #expect(run("c = clas_dataloaders('\(dir.path)', vocab=dls.vocab, bs=2, seq_len=5); c.vocab[1], c.n_train, c.n_valid", in: s)
            == "((#2) ['neg','pos'], 4, 2)")
        #expect(run("c.show_batch(max_n=1)", in: s).hasPrefix("   text"))
        // fastai's backwards=True: the same loaders over reversed texts, and they say so.
        #expect(run("lm_dataloaders('\(dir.path)', bs=2, seq_len=5, valid_pct=0.2, seed=1, min_freq=1, backwards=True)", in: s)
            == "LMDataLoaders: 5 train texts (4 batches), 1 valid text (1 batch), bs 2, seq_len 5, vocab 32, backwards")
        #expect(run("clas_dataloaders('\(dir.path)', vocab=dls.vocab, bs=2, seq_len=5, backwards=True)", in: s)
            == "ClassifierDataLoaders: 4 train texts (2 batches), 2 valid texts (1 batch), bs 2, labels ['neg', 'pos'], backwards")
    }
}

/// `lmlab play` with several lessons: each in order, in its own session, one summary.
@Suite struct PlaySeveralLessonsTests {
    @Test func checkPlaysEveryLessonAndFailsIfOneDiffers() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("lab-play-many-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let good = dir.appendingPathComponent("a.md"), bad = dir.appendingPathComponent("b.md")
        try "# A\n\n```lmlab\nx = 2\nx * 3\n```\n\n```output\n6\n```\n".write(to: good, atomically: true, encoding: .utf8)
        // A fresh session: `x` from a.md is not defined here.
        try "# B\n\n```lmlab\nx\n```\n\n```output\n2\n```\n".write(to: bad, atomically: true, encoding: .utf8)
        let both = try LMLabBinary.run(["play", "--check", good.path, bad.path])
        #expect(both.status == 1)
        #expect(both.stdout == "\(good.path): 1 cells, all outputs match\n\(bad.path): 1 cells, 1 differ\n2 lessons, 1 with differences\n")
        #expect(both.stderr.hasPrefix("\(bad.path):8: expected '2', got 'error: unknown name 'x'"))
        let twice = try LMLabBinary.run(["play", "--check", good.path, good.path])
        #expect(twice.status == 0 && twice.stdout.hasSuffix("2 lessons, all outputs match\n"))
        let out = dir.appendingPathComponent("all.md")
        let played = try LMLabBinary.run(["play", "--transcript", out.path, good.path, good.path])
        #expect(played.status == 0)
        #expect(played.stdout.components(separatedBy: "lmlab> x * 3\n6\n").count == 3)
        let text = try String(contentsOf: out, encoding: .utf8)
        #expect(text.components(separatedBy: "# A\n").count == 3)
    }
}

/// `coll_repr` and `L` in the language against fastcore's own output (Tests/Fixtures/text/coll_repr.json):
/// each case's input is evaluated from its Python repr, then shown in both fastcore formats.
@Suite struct CollReprFixtureTests {
    @Test func collReprAndLMatchFastcore() throws {
        let root = try #require(try Fixtures.json("text/coll_repr.json") as? [String: Any])
        let cases = try #require(root["cases"] as? [[String: Any]])
        var checked = 0
        for c in cases {
            guard let name = c["name"] as? String, let input = c["input_repr"] as? String,
                  let legacy = c["legacy"] as? [String: String], let current = c["current"] as? [String: String] else {
                Issue.record("malformed case \(c["name"] ?? "?")"); continue
            }
            let s = Session()
            // Inputs with values the language has no literal for (nan) are skipped.
            guard let x = try? s.evaluate(input) else { continue }
            s.define("x", x)
            let maxN = (c["max_n"] as? Int).map { ", \($0)" } ?? ""
            #expect(try s.evaluate("coll_repr(x\(maxN))").str == legacy["coll_repr"], "\(name) (book format)")
            #expect(try s.evaluate("coll_repr(x\(maxN), style='current')").str == current["coll_repr"], "\(name) (current format)")
            #expect(try s.evaluate("L(x)").repr == legacy["L_repr_pretty"], "\(name) (L in a notebook)")
            #expect(try s.evaluate("str(L(x))").str == legacy["L_str"], "\(name) (print(L))")
            checked += 1
        }
        #expect(checked >= cases.count * 3 / 4, "only \(checked) of \(cases.count) cases could be evaluated")
    }
}
