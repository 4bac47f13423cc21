import Lab
import Foundation
import Synchronization
import Text

/// The object types of the text pipeline, made once per session and shared by the text and
/// data bindings (so `unwrap` recognises values made by either).
final class TextTypes {
    let list = ObjectType<LList>("L", summary: "fastcore's list: shows itself as (#N) [...] like the book")
    let ids = ObjectType<TensorText>("TensorText", summary: "token ids (a document or a batch), printed as PyTorch does")
    let table = ObjectType<String>("Table", summary: "a text table (rules, tokens, batches)")
    let wordTokenizer = ObjectType<WordTokenizerBox>("WordTokenizer", summary: "spaCy's English word tokenizer (fastai's WordTokenizer)")
    let tokenizer = ObjectType<TokenizerBox>("Tokenizer", summary: "fastai's Tokenizer: the text rules, then a word or subword tokenizer")
    let subword = ObjectType<SubwordBox>("SubwordTokenizer", summary: "fastai's SubwordTokenizer: a sentencepiece unigram model trained by setup(txts)")
    let numericalize = ObjectType<NumericalizeBox>("Numericalize", summary: "fastai's Numericalize: setup builds the vocab, calling it turns tokens into ids")
    let o2i = ObjectType<Vocab>("o2i", summary: "token → id lookup of a vocab (unknown tokens → 0, xxunk)")
    let defaults = ObjectType<Void>("defaults", summary: "fastai's defaults: text_proc_rules and text_spec_tok")

    /// An L of strings.
    func strings(_ s: [String]) -> Value { list.wrap(LList(items: s.map { .string($0) })) }
    /// A text display.
    func text(_ s: String) -> Value { table.wrap(s) }
}

/// `WordTokenizer()`: spaCy-style English words, no rules.
final class WordTokenizerBox {
    let words: WordTokenizer
    init(_ words: WordTokenizer) { self.words = words }
}

/// `Tokenizer(tok)`: the default rules, then words or subword pieces.
final class TokenizerBox {
    enum Base { case words(FastaiTokenizer), subword(SubwordBox) }
    let base: Base
    let rules: [TextRule]
    init(base: Base, rules: [TextRule]) { self.base = base; self.rules = rules }

    func callAsFunction(_ text: String) throws -> [String] {
        switch base {
        case .words(let t): return t(text)
        case .subword(let s): return try s.encode(TextRule.apply(rules, to: text))
        }
    }
}

/// `SubwordTokenizer(vocab_sz=…)`: trained by `setup`.
final class SubwordBox {
    var vocabSize: Int?
    var model: SentencePieceModel?
    init(vocabSize: Int?) { self.vocabSize = vocabSize }

    /// fastai's `SubwordTokenizer.setup`: the raw texts (one per line) train a unigram model.
    func setup(_ texts: [String]) throws {
        guard !texts.isEmpty else { throw LabError("SubwordTokenizer.setup: no texts to train on") }
        let size = vocabSize ?? UnigramTrainer.fastaiVocabSize(texts: texts)
        model = try SubwordBox.trained(size: size, texts: texts)
    }

    /// Training is deterministic, so the same texts and size give the same model: recent models
    /// are kept (the book's `subword(sz)` retrains on the same texts for every call).
    private static let recent = Mutex<[(key: String, model: SentencePieceModel)]>([])

    static func trained(size: Int, texts: [String]) throws -> SentencePieceModel {
        let key = "\(size) " + TokenCache.key(names: [], texts: [], tokenizer: texts.joined(separator: "\u{1E}"))
        if let hit = recent.withLock({ $0.first { $0.key == key }?.model }) { return hit }
        // Trained outside the lock: two sessions may train the same model once each, never wait.
        let model = try UnigramTrainer(options: .fastai(vocabSize: size)).train(texts: texts, normalizer: normalizer)
        recent.withLock {
            $0.append((key, model))
            if $0.count > 8 { $0.removeFirst() }
        }
        return model
    }

    func encode(_ text: String) throws -> [String] {
        guard let model else { throw LabError("SubwordTokenizer: not trained yet (call sp.setup(txts) first)") }
        return model.encodeAsPieces(text)
    }

    /// sentencepiece's `nmt_nfkc` normalisation (built once: its table takes a moment).
    static let normalizer = SentencePieceModelProto.NormalizerSpec.nmtNFKC()
}

/// `Numericalize(min_freq=3, max_vocab=60000)`.
final class NumericalizeBox {
    var num: Numericalize
    init(_ num: Numericalize) { self.num = num }
}

/// Registers the text pipeline with fastai's spellings: tokenizers, rules, `coll_repr`, `L`,
/// subwords, `Numericalize`, and the tables lessons show.
enum TextBindings {
    static func install(in s: Session) {
        let types = TextTypes()
        installValues(types, s)
        installTokenizers(types, s)
        installSubwords(types, s)
        installNumericalize(types, s)
        installTables(types, s)
        DataBindings.install(in: s, types: types)
    }

    static func add(_ s: Session, _ name: String, _ summary: String, _ parameters: [Param], example: String,
                    topic: String = "text", _ call: @escaping (Arguments) throws -> Value) {
        s.register(Builtin(name, parameters, summary: summary, example: example, topic: topic, call: call))
    }

    // MARK: L and coll_repr

    static func installValues(_ t: TextTypes, _ s: Session) {
        t.list
            .sample("l = L(range(12))")
            .method("__getitem__", "an item, a slice (an L) or the items at a list of indices (an L)",
                    [Param("i", "an index, a slice, a list of indices or a batch of ids")], example: "l[[1, 3]]") { l, a in
                let key = try a.value("i")
                switch key {
                case .int, .bool: return l.items[try Operators.position(key, count: l.items.count, "L")]
                case let .slice(x, y, z):
                    return t.list.wrap(LList(items: try Operators.sliceIndices(x, y, z, count: l.items.count).map { l.items[$0] }))
                default:
                    // A batch of ids (2-D) gives one L per row: `num.vocab[x]`.
                    if let batch = t.ids.unwrap(key), batch.shape.count == 2 {
                        return .list(try batch.rows.map { row in
                            t.list.wrap(LList(items: try row.map { l.items[try Operators.position(.int($0), count: l.items.count, "L")] }))
                        })
                    }
                    let idx = try TextArgs.ids(key, "L index", session: a.session, tensorText: t.ids)
                    return t.list.wrap(LList(items: try idx.map { l.items[try Operators.position(.int($0), count: l.items.count, "L")] }))
                }
            }
            .method("__len__", "number of items", example: "len(l)") { l, _ in .int(l.items.count) }
            .method("map", "an L of f(item) for every item", [Param("f", "a function of one argument")], example: "l.map(str)") { l, a in
                let f = try a.value("f")
                var out: [Value] = []
                out.reserveCapacity(l.items.count)
                for x in l.items {
                    try a.session.cancellation.check()
                    out.append(try a.session.call(f, [x]))
                }
                try Convert.checkNesting(out, "L.map")
                return t.list.wrap(LList(items: out))
            }
            .method("index", "position of the first item equal to x", [Param("x", "the item to find")], example: "l.index(3)") { l, a in
                let x = try a.value("x")
                for (i, v) in l.items.enumerated() where (try? Operators.compare("==", v, x)) == true { return .int(i) }
                throw a.error("\(x.repr) is not in the list")
            }
            .method("tolist", "the items as a plain list", example: "l.tolist()") { l, _ in .list(l.items) }
            .display { collRepr($0.items.map(ReprItem.init), maxN: 10, style: .legacy) }
            .str { Value.list($0.items).repr }
            .holds { $0.items }
        s.register(type: t.list)

        add(s, "L", "fastcore's L: a list shown as (#N) [...] (book-era coll_repr, first 10 items)",
            [Param("items", default: nil, "a list, tuple or L to copy, or the first item"), .variadic("more", "more items")],
            example: "L(range(12))") { a in
            let first = try a.value("items")
            let more = Array(a.rest())
            let items: [Value]
            if !first.isNone {
                switch first {
                case _ where !more.isEmpty: items = [first] + more
                case .list, .tuple, .object: items = try TextArgs.sequence(first, "L", session: a.session)
                default: items = [first]
                }
            } else {
                items = more
            }
            try Convert.checkNesting(items, "L")
            return t.list.wrap(LList(items: items))
        }
        add(s, "coll_repr",
            "fastcore's coll_repr: (#N) and the first max_n items; style='book' is the format fastbook prints (fastcore 1.x, the default), style='current' is fastcore 2's",
            [Param("c", "a list, tuple or L"), Param("max_n", .int, default: nil, "how many items to show; None: the style's own number"),
             Param("style", .str, default: .string("book"), "'book' (fastcore 1.x) or 'current' (fastcore 2)")],
            example: "coll_repr(range(20), 5)") { a in
            let c = try TextArgs.sequence(try a.value("c"), "coll_repr: 'c'", session: a.session)
            let styleName = try a.string("style")
            let style: CollReprStyle
            switch styleName {
            case "book", "legacy": style = .legacy
            case "current": style = .current
            default: throw a.error("style must be 'book' or 'current', got \(pythonRepr(styleName))")
            }
            let maxN = try a.optionalInt("max_n")
            return .string(collRepr(c.map(ReprItem.init), maxN: maxN, style: style))
        }
    }

    // MARK: Word tokenizers and rules

    static func installTokenizers(_ t: TextTypes, _ s: Session) {
        t.wordTokenizer
            .sample("spacy = WordTokenizer(); txt = 'The U.S. dollar is UP!'")
            .method("__call__", "the word tokens of each text (a list of Ls)", [Param("texts", "a list or L of strings")],
                    example: "first(spacy([txt]))") { w, a in
                let v = try a.value("texts")
                if case .string = v { throw a.error("takes a list of texts, got a str (wrap it: spacy([txt]))") }
                let texts = try TextArgs.strings(v, "WordTokenizer: 'texts'", session: a.session)
                return .list(texts.map { t.strings(w.words.tokenize($0)) })
            }
            .display { _ in "WordTokenizer()" }
        s.register(type: t.wordTokenizer)

        add(s, "WordTokenizer", "spaCy's English word tokenizer (fastai's default; call it on a list of texts)", [],
            example: "spacy = WordTokenizer(); first(spacy(['Don\\'t panic!']))") { _ in
            t.wordTokenizer.wrap(WordTokenizerBox(try WordTokenizer()))
        }

        let ruleValues: [Value] = TextRule.defaults.map { rule in
            .function(Builtin(rule.name, [Param("t", .str, "the text")], summary: ruleSummary[rule.name] ?? "a text rule",
                              example: ruleExample[rule.name].map { "\(rule.name)(\(pythonRepr($0)))" } ?? "", topic: "text rules") { a in
                .string(rule.apply(try a.string("t")))
            })
        }
        for case .function(let f) in ruleValues { s.register(f) }

        t.tokenizer
            .sample("tkn = Tokenizer(WordTokenizer()); txt = 'The U.S. dollar is UP!'")
            .method("__call__", "the tokens of one text (an L)", [Param("text", "the text (a str)")], example: "tkn(txt)") { k, a in
                let v = try a.value("text")
                guard case .string(let text) = v else {
                    throw a.error("takes one text (a str), got \(v.typeName) (for many texts: txts.map(tkn))")
                }
                return t.strings(try k(text))
            }
            .attribute("rules", "the rules applied before tokenizing") { k in
                .list(k.rules.map { r in ruleValues.first { if case .function(let f) = $0 { f.name == r.name } else { false } } ?? .none })
            }
            .display { k in
                switch k.base {
                case .words: "Tokenizer(WordTokenizer())"
                case .subword(let sp): "Tokenizer(SubwordTokenizer(vocab_sz=\(sp.vocabSize.map(String.init) ?? "None")))"
                }
            }
        s.register(type: t.tokenizer)

        add(s, "Tokenizer",
            "fastai's Tokenizer: the default rules (defaults.text_proc_rules) then tok (WordTokenizer() or a trained SubwordTokenizer)",
            [Param("tok", default: nil, "WordTokenizer() or a trained SubwordTokenizer; None: WordTokenizer()")],
            example: "tkn = Tokenizer(WordTokenizer()); tkn('Hello WORLD')") { a in
            let tok = try a.value("tok")
            if tok.isNone { return t.tokenizer.wrap(TokenizerBox(base: .words(try FastaiTokenizer()), rules: TextRule.defaults)) }
            if let w = t.wordTokenizer.unwrap(tok) {
                return t.tokenizer.wrap(TokenizerBox(base: .words(FastaiTokenizer(rules: TextRule.defaults, words: w.words)),
                                                     rules: TextRule.defaults))
            }
            if let sp = t.subword.unwrap(tok) { return t.tokenizer.wrap(TokenizerBox(base: .subword(sp), rules: TextRule.defaults)) }
            throw a.error("'tok' must be a WordTokenizer or a SubwordTokenizer, got \(tok.typeName)")
        }

        t.defaults
            .attribute("text_proc_rules", "the eight rules Tokenizer applies, in order") { _ in .list(ruleValues) }
            .attribute("text_spec_tok", "the special tokens, in vocab order") { _ in t.strings(SpecialTokens.all) }
            .display { _ in "defaults (text_proc_rules, text_spec_tok)" }
        s.register(type: t.defaults)
        s.define("defaults", t.defaults.wrap(()))

        add(s, "rules", "a table of the text after each default rule, one rule per line (what spaCy finally sees is the last line)",
            [Param("text", .str, "the raw text")], example: "rules('<br />I LOVED it!!!!  #fastai')") { a in
            let text = try a.string("text")
            var rows: [[String]] = [["(raw)", pythonRepr(text)]]
            var current = text
            for rule in TextRule.defaults {
                current = rule.apply(current)
                rows.append([rule.name, pythonRepr(current)])
            }
            return t.text(grid(rows, header: ["rule", "text"]))
        }
        add(s, "side_by_side", "the first max_n spaCy tokens of the raw text next to Tokenizer's tokens (rules applied)",
            [Param("text", .str, "the raw text"), Param("max_n", .int, default: 20, "how many tokens to show")],
            example: "side_by_side('The U.S. dollar is UP!')") { a in
            let text = try a.string("text")
            let n = try a.int("max_n")
            let tkn = try FastaiTokenizer()
            let raw = tkn.words.tokenize(text), ruled = tkn(text)
            let count = min(max(raw.count, ruled.count), max(0, n))
            let rows = (0..<count).map { i in
                [i < raw.count ? pythonRepr(raw[i]) : "", i < ruled.count ? pythonRepr(ruled[i]) : ""]
            }
            var out = TextTable.render(header: ["WordTokenizer", "Tokenizer"], rows: rows, width: 80)
            if count < max(raw.count, ruled.count) { out += "\n(\(raw.count) and \(ruled.count) tokens; first \(count) shown)" }
            return t.text(out)
        }
    }

    static let ruleSummary: [String: String] = [
        "fix_html": "replace HTML leftovers (<br />, &amp;, ...) with plain text",
        "replace_rep": "a character repeated 4+ times → xxrep, the count, the character",
        "replace_wrep": "a word repeated 4+ times → xxwrep, the count, the word",
        "spec_add_spaces": "put spaces around / and #",
        "rm_useless_spaces": "collapse runs of spaces into one",
        "replace_all_caps": "an ALL-CAPS word → xxup and the word in lower case",
        "replace_maj": "a Capitalised word → xxmaj and the word in lower case",
        "lowercase": "lower-case everything and put xxbos at the start",
    ]
    static let ruleExample: [String: String] = [
        "fix_html": "a<br />b &amp; c", "replace_rep": "cool!!!!", "replace_wrep": "so so so so good",
        "spec_add_spaces": "#fastai/nlp", "rm_useless_spaces": "a    b", "replace_all_caps": "I LOVED it",
        "replace_maj": "Once again", "lowercase": "Hello",
    ]

    // MARK: Subwords

    static func installSubwords(_ t: TextTypes, _ s: Session) {
        t.subword
            .sample("sp = SubwordTokenizer(vocab_sz=40); txts = ['the cat sat on the mat'] * 20; txt = 'the mat'")
            .method("setup", "train the unigram model on the raw texts (sentencepiece's algorithm, our trainer)",
                    [Param("txts", "the raw texts (a list or L of strings)")], example: "sp.setup(txts)") { sp, a in
                try sp.setup(try TextArgs.strings(try a.value("txts"), "SubwordTokenizer.setup: 'txts'", session: a.session))
                return .none
            }
            .method("__call__", "the pieces of each text (a list of Ls)", [Param("texts", "a list or L of strings")],
                    example: "sp.setup(txts); first(sp([txt]))") { sp, a in
                let v = try a.value("texts")
                if case .string = v { throw a.error("takes a list of texts, got a str (wrap it: sp([txt]))") }
                return .list(try TextArgs.strings(v, "SubwordTokenizer: 'texts'", session: a.session).map { t.strings(try sp.encode($0)) })
            }
            .attribute("vocab_sz", "the vocabulary size asked for (None: chosen from the texts)") { sp in sp.vocabSize.map { .int($0) } ?? .none }
            .attribute("vocab", "the pieces of the trained model, by id") { sp in
                guard let m = sp.model else { throw LabError("SubwordTokenizer: not trained yet (call sp.setup(txts) first)") }
                return t.strings(m.pieces)
            }
            .display { sp in
                "SubwordTokenizer(vocab_sz=\(sp.vocabSize.map(String.init) ?? "None"))" + (sp.model.map { " trained, \($0.count) pieces" } ?? " (not trained: call setup(txts))")
            }
        s.register(type: t.subword)

        add(s, "SubwordTokenizer",
            "fastai's SubwordTokenizer: setup(txts) trains a sentencepiece unigram model, then sp([txt]) gives pieces (▁ marks a space)",
            [Param("vocab_sz", .int, default: nil, "the vocabulary size (20 to 100000); None: chosen from the texts")],
            example: "sp = SubwordTokenizer(vocab_sz=40); sp.setup(['the cat sat on the mat'] * 20); first(sp(['the mat']))") { a in
            let size = try a.optionalInt("vocab_sz")
            if let size, size < 20 || size > 100_000 { throw a.error("vocab_sz must be between 20 and 100000, got \(size)") }
            return t.subword.wrap(SubwordBox(vocabSize: size))
        }
        add(s, "subword",
            "the book's helper: train SubwordTokenizer(vocab_sz=sz) on txts and return first(sp([txt])) joined with spaces (uses the variables txts and txt unless given)",
            [Param("sz", .int, "the vocabulary size (20 to 100000)"),
             Param("txts", default: nil, "the training texts; None: the variable txts"),
             Param("txt", default: nil, "the text to show; None: the variable txt")],
            example: "txts = ['the cat sat on the mat'] * 20; txt = 'the cats'; subword(40)") { a in
            let sz = try a.int("sz")
            guard sz >= 20, sz <= 100_000 else { throw a.error("sz must be between 20 and 100000, got \(sz)") }
            func variable(_ name: String, _ pos: Int) throws -> Value {
                if a.given(name) { return try a.value(name) }
                guard let v = a.session.variables[name] else {
                    throw a.error("no '\(name)' defined: set txts (the training texts) and txt (the text to show), or pass them: subword(\(sz), txts, txt)")
                }
                return v
            }
            let texts = try TextArgs.strings(try variable("txts", 1), "subword: 'txts'", session: a.session)
            let text = try variable("txt", 2)
            guard case .string(let txt) = text else { throw a.error("'txt' must be a string, got \(text.typeName)") }
            let sp = SubwordBox(vocabSize: sz)
            try sp.setup(texts)
            return .string(try sp.encode(txt).joined(separator: " "))
        }
    }

    // MARK: Numericalize

    static func installNumericalize(_ t: TextTypes, _ s: Session) {
        t.o2i
            .sample("num = Numericalize(min_freq=1); num.setup([['xxbos', 'hello', 'world']]); o2i = num.o2i")
            .method("__getitem__", "the id of a token (0 when unknown)", [Param("token", .str, "the token")],
                    example: "o2i['hello']") { v, a in .int(v.id(of: try a.string("token"))) }
            .method("__len__", "number of entries", example: "len(o2i)") { v, _ in .int(v.count) }
            .display { v in "o2i: \(v.count) tokens → ids, e.g. " + v.items.prefix(3).enumerated().map { "\(pythonRepr($1)): \($0)" }.joined(separator: ", ") }
        s.register(type: t.o2i)

        t.numericalize
            .sample("num = Numericalize(min_freq=1); toks = [['xxbos', 'hello', 'world'], ['xxbos', 'hello']]")
            .method("setup", "count the tokens of every document and build the vocab",
                    [Param("dsets", "the documents' tokens (a list or L of token lists)")], example: "num.setup(toks)") { n, a in
                n.num.setup(try TextArgs.documents(try a.value("dsets"), "Numericalize.setup: 'dsets'", session: a.session))
                return .none
            }
            .method("__call__", "token ids of one document (a TensorText)", [Param("toks", "one document's tokens (a list or L)")],
                    example: "num.setup(toks); num(toks[0])[:20]") { n, a in
                guard n.num.vocab.count > 0 else { throw a.error("no vocab yet (call num.setup(toks200) first)") }
                return t.ids.wrap(TensorText(n.num(try TextArgs.tokens(try a.value("toks"), "Numericalize: 'toks'", session: a.session))))
            }
            .method("decode", "the tokens of ids (an L)", [Param("ids", "a TensorText, an int or a list of ints")],
                    example: "num.setup(toks); num.decode(num(toks[0]))") { n, a in
                // As fastai's `vocab[o]` on an L: negative ids count from the end, others past it are errors.
                let items = n.num.vocab.items
                let ids = try TextArgs.ids(try a.value("ids"), "Numericalize.decode: 'ids'", session: a.session, tensorText: t.ids)
                return t.strings(try ids.map { items[try Operators.position(.int($0), count: items.count, "vocabulary")] })
            }
            .attribute("vocab", "the vocabulary (an L): id → token; specials first, then by frequency, xxfake fillers at the end") { n in
                t.strings(n.num.vocab.items)
            }
            .attribute("o2i", "token → id lookup: num.o2i['movie']") { n in t.o2i.wrap(n.num.vocab) }
            .attribute("min_freq", "tokens seen fewer times become xxunk") { n in .int(n.num.minFreq) }
            .attribute("max_vocab", "largest vocab size (before xxfake fillers)") { n in .int(n.num.maxVocab) }
            .display { n in "Numericalize(min_freq=\(n.num.minFreq), max_vocab=\(n.num.maxVocab))" + (n.num.vocab.count > 0 ? ": \(n.num.vocab.count) tokens in vocab" : "") }
        s.register(type: t.numericalize)

        add(s, "Numericalize",
            "fastai's Numericalize: setup(toks) builds the vocab, num(toks) gives ids, num.vocab[ids] or num.decode(ids) gives tokens back",
            [Param("vocab", default: nil, "a ready vocab (a list or L of tokens); None: built by setup"),
             Param("min_freq", .int, default: 3, "tokens seen fewer times become xxunk"),
             Param("max_vocab", .int, default: 60000, "largest vocab size (before xxfake fillers)")],
            example: "num = Numericalize(min_freq=1); num.setup([['xxbos', 'hello', 'world']]); num(['hello', 'there'])") { a in
            let minFreq = try a.int("min_freq")
            let maxVocab = try a.int("max_vocab")
            guard minFreq >= 0 else { throw a.error("min_freq must be ≥ 0, got \(minFreq)") }
            guard maxVocab > 0 else { throw a.error("max_vocab must be positive, got \(maxVocab)") }
            if let items = try TextArgs.optionalStrings(try a.value("vocab"), "Numericalize: 'vocab'", session: a.session) {
                return t.numericalize.wrap(NumericalizeBox(Numericalize(vocab: Vocab(items: items))))
            }
            return t.numericalize.wrap(NumericalizeBox(Numericalize(minFreq: minFreq, maxVocab: maxVocab)))
        }

        t.ids
            .sample("num = Numericalize(min_freq=1); num.setup([['xxbos', 'hello', 'world']]); ids = num(['hello', 'world', 'there'])")
            .method("__getitem__", "an id (1-D), a row (2-D), or a slice", [Param("i", "an index, a slice, or (row, column) for a batch")],
                    example: "ids[1:]") { x, a in
                let key = try a.value("i")
                switch key {
                case let .slice(lo, hi, step):
                    let rows = try Operators.sliceIndices(lo, hi, step, count: x.count)
                    if x.shape.count == 1 { return t.ids.wrap(TensorText(rows.map { x.data[$0] })) }
                    return t.ids.wrap(TensorText(rows: rows.count, columns: x.shape[1], data: rows.flatMap { x.row($0).data }))
                case .tuple(let parts) where parts.count == 2 && x.shape.count == 2:
                    let row = x.row(try Operators.position(parts[0], count: x.count, "TensorText"))
                    return try t.ids.member("__getitem__", of: row).map { try a.session.call($0, [parts[1]]) } ?? .none
                default:
                    let i = try Operators.position(key, count: x.count, "TensorText")
                    return x.shape.count == 1 ? .int(x.data[i]) : t.ids.wrap(x.row(i))
                }
            }
            .method("__len__", "size of the first dimension", example: "len(ids)") { x, _ in .int(x.count) }
            .attribute("shape", "the dimensions, e.g. (64, 72)") { x in .tuple(x.shape.map { .int($0) }) }
            .method("tolist", "the ids as (nested) lists", example: "ids.tolist()") { x, _ in
                x.shape.count == 1 ? .list(x.data.map { .int($0) }) : .list(x.rows.map { .list($0.map { .int($0) }) })
            }
            .display { $0.torchRepr }
        s.register(type: t.ids)
    }

    // MARK: Tables

    static func installTables(_ t: TextTypes, _ s: Session) {
        t.table.display { $0 }
        s.register(type: t.table)

        add(s, "table", "rows of tokens (or any values) as aligned columns",
            [Param("rows", "a list of rows, each a list of values"), Param("header", default: nil, "the column names; None: no header")],
            example: "table([['xxbos', 'the', 'cat'], ['the', 'cat', 'sat']])") { a in
            let rows = try TextArgs.sequence(try a.value("rows"), "table: 'rows'", session: a.session).map {
                try TextArgs.sequence($0, "table: a row", session: a.session).map(cell)
            }
            let h = try a.value("header")
            let header = h.isNone ? nil : try TextArgs.sequence(h, "table: 'header'", session: a.session).map(\.str)
            return t.text(grid(rows, header: header))
        }
        add(s, "stream_table",
            "the book's illustration: the token stream cut into bs rows (len // bs tokens each); with seq_len, block number batch of seq_len columns",
            [Param("tokens", "the token stream (a list or L)"), Param("bs", .int, default: 6, "number of rows"),
             Param("seq_len", .int, default: nil, "columns per block; None: the whole rows"),
             Param("batch", .int, default: 0, "which block of seq_len columns to show")],
            example: "stream_table(Tokenizer()('The cat sat on the mat. It was happy there.'), bs=2, seq_len=3, batch=1)") { a in
            let tokens = try TextArgs.sequence(try a.value("tokens"), "stream_table: 'tokens'", session: a.session).map(cell)
            let bs = try a.int("bs")
            guard bs > 0, bs <= tokens.count else { throw a.error("bs must be between 1 and the number of tokens (\(tokens.count)), got \(bs)") }
            var rows = BookBatchIllustration.rows(tokens, rows: bs)
            if let seqLen = try a.optionalInt("seq_len") {
                guard seqLen > 0 else { throw a.error("seq_len must be positive, got \(seqLen)") }
                let batch = try a.int("batch")
                let n = (rows[0].count + seqLen - 1) / seqLen
                guard batch >= 0, batch < n else { throw a.error("batch must be between 0 and \(n - 1), got \(batch)") }
                rows = BookBatchIllustration.block(rows, index: batch, width: seqLen)
            }
            return t.text(grid(rows, header: nil))
        }
    }

    /// How a value appears in a table cell: strings bare, with line breaks visible.
    static func cell(_ v: Value) -> String {
        guard case .string(let s) = v else { return v.repr }
        return BatchDisplay.text([s], truncAt: Int.max)
    }

    /// Columns aligned to their widest cell, two spaces apart (like a DataFrame without index).
    static func grid(_ rows: [[String]], header: [String]?) -> String {
        let all = (header.map { [$0] } ?? []) + rows
        let columns = all.map(\.count).max() ?? 0
        let widths = (0..<columns).map { c in all.map { c < $0.count ? $0[c].count : 0 }.max() ?? 0 }
        return all.map { row in
            var line = ""
            for (c, w) in widths.enumerated() {
                let cell = c < row.count ? row[c] : ""
                line += (c == 0 ? "" : "  ") + cell + String(repeating: " ", count: w - cell.count)
            }
            while line.last == " " { line.removeLast() }
            return line
        }.joined(separator: "\n")
    }
}
