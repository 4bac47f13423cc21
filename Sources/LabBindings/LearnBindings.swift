import Lab
import Foundation
import Learn
import Models
import Tensor
import Text

/// Sends text (the recipe's log) to the session's output, one output per line.
final class SessionTextOutput: TextOutput {
    unowned let session: Session
    init(_ session: Session) { self.session = session }
    var isTerminal: Bool { false }
    func write(_ text: String) {
        var t = text
        while t.hasSuffix("\n") { t.removeLast() }
        for line in t.split(separator: "\n", omittingEmptySubsequences: false) { session.emit(String(line)) }
    }
}

/// Python's repr of a list of strings: `['neg', 'pos']`.
func pyList(_ xs: [String]) -> String { "[" + xs.map(pythonRepr).joined(separator: ", ") + "]" }

/// A metric as the language holds it (`accuracy`, `Perplexity()`, `error_rate`).
struct MetricValue { var metric: Metric }

/// The learner bindings: `language_model_learner`, `text_classifier_learner`, `load_learner`,
/// `chapter_recipe`, and the learners' fastai methods.
enum LearnBindings {
    static func install(in s: Session) {
        let types = LearnTypes(plot: PlotBuiltins.type(in: s))
        LearnData.install(in: s, types)
        types.metric
            .attribute("name", "the column name") { .string($0.metric.name) }
            .display { m in m.metric == .perplexity ? "Perplexity()" : m.metric.name }
        s.register(type: types.metric)
        func add(_ name: String, _ summary: String, _ parameters: [Param], example: String, _ call: @escaping (Arguments) throws -> Value) {
            s.register(Builtin(name, parameters, summary: summary, example: example, topic: "learn", call: call))
        }
        let metricInputs = [Param("inp", .tensor, "logits [n, classes]"), Param("targ", .tensor, "target class ids [n]")]
        add("accuracy", "fraction of rows whose largest logit is the target; as a metric, pass it unevaluated: metrics=[accuracy, Perplexity()]",
            metricInputs, example: "accuracy(tensor([[0.1, 0.9], [0.8, 0.2]]), tensor([1, 1]))") { a in
            let logits = try a.tensor("inp")
            let targets = try a.tensor("targ").data.map { Int($0) }
            return .float(Double(try Learn.accuracy(logits: logits, targets: targets)))
        }
        add("error_rate", "1 - accuracy; as a metric, pass it unevaluated: metrics=error_rate", metricInputs,
            example: "error_rate(tensor([[0.1, 0.9], [0.8, 0.2]]), tensor([1, 1]))") { a in
            let logits = try a.tensor("inp")
            let targets = try a.tensor("targ").data.map { Int($0) }
            return .float(1 - Double(try Learn.accuracy(logits: logits, targets: targets)))
        }
        add("Perplexity", "the perplexity metric: exp(validation loss), for metrics=[accuracy, Perplexity()]", [],
            example: "Perplexity()") { _ in
            types.metric.wrap(MetricValue(metric: .perplexity))
        }

        configureRecorder(types); configureLRFind(types); configureLM(types); configureClassifier(types); configureLoaded(types)
        s.register(type: types.lrFind)
        s.register(type: types.recorder)
        s.register(type: types.lm)
        s.register(type: types.clas)
        s.register(type: types.loaded)
        InspectBindings.install(in: s, types)
        EnsembleBindings.install(in: s, types)

        add("language_model_learner",
            "fastai's language_model_learner: an AWD-LSTM language model; pretrained= a folder with fastai's WT103 lstm_fwd.pth + itos_wt103.pkl (then frozen); sizes can be made small",
            [Param("dls", "language-model data (sample_lm_data or lm_dataloaders)"), arch,
             Param("drop_mult", .float, default: 1.0, "scales every dropout probability (each product stays below 1)"),
             Param("metrics", default: .expression("[accuracy, Perplexity()]"), "a metric or a list of them; None: none"),
             ] + sizes(.languageModel) + [
             Param("pretrained", default: nil, "a folder with fastai's WT103 lstm_fwd.pth and itos_wt103.pkl; None: random weights"),
             Param("pretrained_fnames", default: nil, "[weights, vocab]: fastai's names of a .pth and its itos .pkl in models/ (e.g. ['lm', 'itos_lm'] after learn.save('lm', format='pth')); None: see pretrained"),
             seedParam],
            example: "learn = language_model_learner(sample_lm_data(n_texts=20, bs=4, seq_len=8), drop_mult=0.3, metrics=[accuracy, Perplexity()], emb_sz=8, n_hid=16, n_layers=2)") { a in
            let data = try LearnData.lmData(try a.value("dls"), a)
            try checkArch(a)
            let config = try modelConfig(a, base: .languageModel)
            var pretrained: PretrainedWeights?
            if case let p = try a.value("pretrained"), !p.isNone {
                // A folder holding fastai's WT103 files (Scripts/fetch-wt103 puts them in Datasets/wt103-fwd).
                guard case .string(let folder) = p else { throw a.error("'pretrained' must be a folder name (str), got \(p.typeName)") }
                let dir = try DataBindings.resolve(folder, a.session)
                pretrained = PretrainedWeights(weights: dir.appendingPathComponent("lstm_fwd.pth"), vocab: dir.appendingPathComponent("itos_wt103.pkl"))
                guard FileManager.default.fileExists(atPath: pretrained!.weights.path) else {
                    throw a.error("no lstm_fwd.pth in \(folder) (run Scripts/fetch-wt103)")
                }
            }
            if case let f = try a.value("pretrained_fnames"), !f.isNone {
                guard pretrained == nil else { throw a.error("give pretrained or pretrained_fnames, not both") }
                var names: [Value] = []
                if case .list(let n) = f { names = n } else if case .tuple(let n) = f { names = n }
                guard names.count == 2, case .string(let w) = names[0], case .string(let v) = names[1] else {
                    throw a.error("pretrained_fnames must be a list of two names [weights, vocab], got \(f.repr)")
                }
                pretrained = try PretrainedWeights(fnames: w, v, in: data.path.appendingPathComponent("models"))
            }
            let learn = try languageModelLearner(dls: data, config: config, dropMult: try dropMult(a, config: config),
                                                 pretrained: pretrained, metrics: try metrics(a), seed: try seed(a))
            prepare(learn, a.session)
            return types.lm.wrap(learn)
        }
        add("text_classifier_learner", "fastai's text_classifier_learner: SentenceEncoder + pooling head (sizes must match the encoder you load)",
            [Param("dls", "classifier data (sample_clas_data or clas_dataloaders)"), arch,
             Param("drop_mult", .float, default: 0.5, "scales every dropout probability (each product stays below 1)"),
             Param("metrics", default: .expression("[accuracy]"), "a metric or a list of them; None: none"),
             ] + sizes(.classifier) + [seedParam],
            example: "learn = text_classifier_learner(sample_clas_data(sample_lm_data(n_texts=20, bs=4, seq_len=8), n_texts=20, bs=4), drop_mult=0.5, metrics=accuracy, emb_sz=8, n_hid=16, n_layers=2)") { a in
            let data = try LearnData.clasData(try a.value("dls"), a)
            try checkArch(a)
            let config = try modelConfig(a, base: .classifier)
            let learn = try textClassifierLearner(dls: data, config: config, dropMult: try dropMult(a, config: config),
                                                  metrics: try metrics(a), seed: try seed(a))
            prepare(learn, a.session)
            return types.clas.wrap(learn)
        }
        s.define("AWD_LSTM", .string("AWD_LSTM"))
        add("load_learner", "read a learner written by learn.export(path) (for predict)",
            [Param("path", .str, "the folder learn.export wrote")],
            example: "language_model_learner(sample_lm_data(n_texts=20, bs=4, seq_len=8), emb_sz=8, n_hid=16, n_layers=2).export('lm_export'); learn_inf = load_learner('lm_export')") { a in
            let path = try a.string("path")
            return types.loaded.wrap(try loadLearner(from: try DataBindings.resolve(path, a.session)))
        }
        add("chapter_recipe",
            "the chapter's whole ULMFiT recipe on the IMDb sample (ChapterRecipe.sample: LM fine-tuning, encoder, classifier, export; passes 80%, takes minutes); dry_run=True only shows the plan",
            [Param("config", .str, default: .string("sample"), "the recipe's settings (only 'sample')"),
             Param("output", .str, default: .string("recipe"), "the folder the models and export go to"),
             Param("dry_run", .bool, default: false, "only show the plan")],
            example: "chapter_recipe('sample', dry_run=True)") { a in
            let name = try a.string("config")
            guard name == "sample" else { throw a.error("config must be 'sample', got \(pythonRepr(name))") }
            let config = ChapterRecipeConfig.sample
            if try a.bool("dry_run") {
                let m = config.model
                var plan = ["ChapterRecipe.sample on Datasets/imdb_sample:",
                            "  AWD-LSTM emb \(m.embSize), hidden \(m.hiddenSize), \(m.layers) layers; vocab up to \(config.maxVocab)",
                            "  LM (bs \(config.bs), seq_len \(config.seqLen), drop_mult \(config.lmDropMult)): fit_one_cycle(\(config.lmFirstEpochs), \(config.lmFirstLR)), unfreeze, fit_one_cycle(\(config.lmEpochs), \(config.lmLR)), save_encoder",
                            "  classifier (bs \(config.clasBS), drop_mult \(config.clasDropMult)): load_encoder"]
                for (k, st) in config.clasStages.enumerated() {
                    plan.append("    \(k == 0 ? "freeze" : "freeze_to(\(st.freezeTo))"), fit_one_cycle(\(st.epochs), \(st.lr))")
                }
                plan.append("  export, load_learner, predict")
                a.session.emit(plan.joined(separator: "\n"))
                return .none
            }
            let folder = try LearnData.sampleFolder(a)
            let out = try DataBindings.resolve(try a.string("output"), a.session)
            let report = try ChapterRecipe.run(datasetPath: folder, config: config, output: out, log: SessionTextOutput(a.session))
            a.session.emit(report.summary)
            return .none
        }
    }

    // MARK: arguments


    static func seed(_ a: Arguments) throws -> UInt64 { UInt64(bitPattern: Int64(try a.int("seed"))) }

    /// `arch=AWD_LSTM`: the only architecture (the chapter passes it).
    static let arch = Param("arch", default: .expression("AWD_LSTM"), "the architecture: AWD_LSTM")
    static let seedParam = Param("seed", .int, default: 42, "the weights' initialisation and the dropout masks")

    /// `emb_sz`, `n_hid`, `n_layers`, their defaults the library's configuration.
    static func sizes(_ base: AWDLSTMConfig) -> [Param] {
        [Param("emb_sz", .int, default: .int(base.embSize), "embedding size (at most 4096)"),
         Param("n_hid", .int, default: .int(base.hiddenSize), "LSTM hidden size (at most 8192)"),
         Param("n_layers", .int, default: .int(base.layers), "LSTM layers (1 to 8)")]
    }

    /// drop_mult scales every dropout probability of `config`; each must stay below 1, so the
    /// bound is 1 / (the largest one), said in the learner's own words.
    static func dropMult(_ a: Arguments, config: AWDLSTMConfig) throws -> Float {
        let m = try a.double("drop_mult")
        let largest = [config.outputP, config.hiddenP, config.inputP, config.embedP, config.weightP].max() ?? 0
        let bound = largest > 0 ? 1 / Double(largest) : .infinity
        guard m >= 0, m < bound else {
            let limit = String(format: "%.3g", bound)
            throw a.error("drop_mult must be at least 0 and below \(limit) (it multiplies dropout probabilities up to \(largest), which must stay below 1), got \(Value.formatFloat(m))")
        }
        return Float(m)
    }

    static func modelConfig(_ a: Arguments, base: AWDLSTMConfig) throws -> AWDLSTMConfig {
        var c = base
        c.embSize = try a.int("emb_sz")
        c.hiddenSize = try a.int("n_hid")
        c.layers = try a.int("n_layers")
        guard (1...4096).contains(c.embSize), (1...8192).contains(c.hiddenSize), (1...8).contains(c.layers) else {
            throw a.error("emb_sz, n_hid and n_layers must be positive (and at most 4096, 8192, 8)")
        }
        return c
    }

    static func metrics(_ a: Arguments) throws -> [Metric] {
        let v = try a.value("metrics")
        if v.isNone { return [] }
        func one(_ x: Value) throws -> Metric {
            if let m = nativeValue(x, as: MetricValue.self) { return m.metric }
            if case .function(let f) = x {
                switch f.name {
                case "accuracy": return .accuracy
                case "error_rate": return .errorRate
                case "Perplexity": return .perplexity
                default: break
                }
            }
            throw a.error("unknown metric \(x.repr) (use accuracy, error_rate or Perplexity())")
        }
        switch v {
        case .list(let xs), .tuple(let xs): return try xs.map(one)
        default: return [try one(v)]
        }
    }

    /// A learning rate: a number, `slice(hi)`, `slice(lo, hi)` or a list (one per group).
    static func learningRate(_ v: Value, _ a: Arguments) throws -> LearningRate? {
        guard !v.isNone else { return nil }
        func positive(_ x: Value, _ what: String) throws -> Double {
            guard let d = x.number else { throw a.error("\(what) must be a number, got \(x.typeName)") }
            guard d > 0 else { throw a.error("\(what) must be a positive number, got \(x.repr)") }
            guard d.isFinite else { throw a.error("\(what) must be finite, got \(x.repr)") }
            return d
        }
        switch v {
        case let .slice(start, stop, _):
            guard let stop else { throw a.error("slice needs a stop value") }
            if let start, !start.isNone { return .slice(try positive(start, "slice start"), try positive(stop, "slice stop")) }
            return .slice(try positive(stop, "slice stop"))
        case .list(let xs), .tuple(let xs): return .values(try xs.map { try positive($0, "lr") })
        default: return .value(try positive(v, "lr"))
        }
    }

    /// Where save, load, save_encoder and load_encoder read or write: a name (str) inside
    /// models/, or an explicit Path anywhere.
    enum ModelTarget { case name(String), file(PathValue) }

    static func modelTarget(_ a: Arguments) throws -> ModelTarget {
        let v = try a.value("name")
        if let p = DataBindings.pathValue(v) { return .file(p) }
        guard case .string(let name) = v else { throw a.error("'name' must be a str (a name inside models/) or a Path, got \(v.typeName)") }
        return .name(name)
    }

    /// The checked generation arguments of both `predict`s (a learner's and a loaded one's):
    /// n_words in 0...10000, a positive finite temperature, and the seed or the session's next.
    static func generation(_ a: Arguments) throws -> (n: Int, temperature: Double, seed: UInt64) {
        let n = try a.int("n_words")
        guard n >= 0, n <= 10_000 else { throw a.error("n_words must be between 0 and 10000, got \(n)") }
        let temp = try a.double("temperature")
        guard temp > 0 else { throw a.error("temperature must be positive, got \(Value.formatFloat(temp))") }
        guard temp.isFinite else { throw a.error("temperature must be finite, got \(Value.formatFloat(temp))") }
        let seed = try a.optionalInt("seed").map { UInt64(bitPattern: Int64($0)) } ?? a.session.rng.next()
        return (n, temp, seed)
    }

    /// The chapter passes `AWD_LSTM`; it is the one architecture LMLab builds, so anything else
    /// (`'GPT'`, `5`, `None`) is an error rather than silently ignored.
    static func checkArch(_ a: Arguments) throws {
        let v = try a.value("arch")
        if case .string("AWD_LSTM") = v { return }
        throw a.error("arch must be AWD_LSTM (the only architecture LMLab builds), got \(v.repr)")
    }

    static func prepare<M, D>(_ learn: Learner<M, D>, _ s: Session) {
        learn.tableOutput = EpochTableOutput(s)
        learn.clock = { Date().timeIntervalSinceReferenceDate }
        learn.progress = Learn.ProgressBar(output: ProgressOutput(s))
        learn.cancellation = s.cancellation   // Ctrl-C and SIGTERM stop training at the next batch (set again by each fit)
    }

    static func fitResult(_ r: FitResult, _ s: Session) throws -> Value {
        if r.cancelled, let signal = s.cancellation.terminationSignal {
            // The process was asked to terminate: stop the whole run here (one line, then the
            // runner exits with 128 + signal). Model and optimizer are at a batch boundary.
            throw LabError("\(Interruption(signal: signal)) at epoch \(r.position.epoch), batch \(r.position.batch) (the weights keep the updates so far)")
        }
        if r.cancelled {
            s.emit("interrupted at epoch \(r.position.epoch), batch \(r.position.batch) (the weights keep the updates so far)")
        }
        return .none
    }

    // MARK: methods shared by both learners

    static func common<M, D>(_ t: ObjectType<Learner<M, D>>, _ types: LearnTypes) where M: SavableModel, D: TextLearnerDataProtocol {
        t.method("fit_one_cycle",
                 "train n_epoch epochs with the one-cycle schedule; lr_max may be slice(lo, hi) for discriminative rates; start_epoch=k skips the first k epochs of the schedule (resume after learn.load)",
                 [nEpoch, Param("lr_max", default: nil, "the peak learning rate: a number, slice(lo, hi) or one per group; None: learn.lr"),
                  Param("div", .float, default: 25.0, "the schedule starts at lr_max / div"),
                  Param("div_final", .float, default: 100000.0, "and ends at lr_max / div_final"),
                  Param("pct_start", .float, default: 0.25, "the share of steps spent warming up"), wd,
                  Param("moms", default: nil, "(high, low, high) momentums; None: (0.95, 0.85, 0.95)"),
                  Param("start_epoch", .int, default: 0, "skip the first epochs of the schedule (resume after learn.load)")],
                 example: "learn.fit_one_cycle(1, 2e-2)") { l, a in
            let n = try a.int("n_epoch")
            guard n > 0 else { throw a.error("n_epoch must be at least 1, got \(n)") }
            let lr = try learningRate(try a.value("lr_max"), a)
            let div = try a.double("div"), divFinal = try a.double("div_final")
            let pct = try a.double("pct_start")
            guard div > 0, divFinal > 0, div.isFinite, divFinal.isFinite else { throw a.error("div and div_final must be finite positive numbers") }
            guard pct >= 0, pct <= 1 else { throw a.error("pct_start must be between 0 and 1") }
            let wd = try a.optionalDouble("wd")
            var moms: (Double, Double, Double)?
            if case let m = try a.value("moms"), !m.isNone {
                guard case .tuple(let xs) = m, xs.count == 3, let m0 = xs[0].number, let m1 = xs[1].number, let m2 = xs[2].number else {
                    throw a.error("moms must be a tuple of three numbers, like (0.8, 0.7, 0.8)")
                }
                moms = (m0, m1, m2)
            }
            let start = try a.int("start_epoch")
            guard start >= 0, start < n else { throw a.error("start_epoch must be between 0 and n_epoch - 1 = \(n - 1), got \(start)") }
            l.cancellation = a.session.cancellation
            return try fitResult(try l.fitOneCycle(n, lrMax: lr, div: div, divFinal: divFinal, pctStart: pct, wd: wd, moms: moms,
                                                   startEpoch: start), a.session)
        }
        t.method("fit", "train n_epoch epochs at a constant learning rate",
                 [nEpoch, Param("lr", default: nil, "the learning rate: a number, slice(lo, hi) or one per group; None: learn.lr"), wd],
                 example: "learn.fit(1, 1e-3)") { l, a in
            let n = try a.int("n_epoch")
            guard n > 0 else { throw a.error("n_epoch must be at least 1, got \(n)") }
            let lr = try learningRate(try a.value("lr"), a)
            let wd = try a.optionalDouble("wd")
            l.cancellation = a.session.cancellation
            return try fitResult(try l.fit(n, lr: lr, wd: wd), a.session)
        }
        t.method("freeze", "train only the last parameter group", example: "learn.freeze()") { l, _ in l.freeze(); return .none }
        t.method("unfreeze", "train every parameter group", example: "learn.unfreeze()") { l, _ in l.unfreeze(); return .none }
        t.method("freeze_to", "train groups n… (negative n counts from the end: freeze_to(-2) trains the last two)",
                 [Param("n", .int, "the first group to train")], example: "learn.freeze_to(-2)") { l, a in
            let n = try a.int("n")
            let groups = l.optimizer.groups.count
            guard n >= -groups, n < groups else { throw a.error("n must be between \(-groups) and \(groups - 1) for \(groups) parameter groups, got \(n)") }
            l.freezeTo(n)
            return .none
        }
        t.attribute("n_groups", "number of parameter groups") { .int($0.optimizer.groups.count) }
        t.attribute("frozen_groups", "how many groups (from the first) are frozen") { .int($0.optimizer.frozenIndex) }
        t.method("validate", "validation loss and metrics, as a list", example: "learn.validate()") { l, _ in
            let (loss, ms) = try l.validate()
            return .list([.float(loss)] + ms.map { .float($0) })
        }
        t.method("save", "write the model and optimizer state to models/<name>.safetensors (+ .json), or with format='pth' fastai's models/<name>.pth (+ the vocabulary models/itos_<name>.pkl) for fastai's learn.load and torch.load(weights_only=True); a name never leaves models/, a Path('dir/a') writes dir/a.safetensors",
                 [Param("name", "a name inside models/ (str, may hold '/'), or a Path anywhere"),
                  Param("with_opt", .bool, default: true, "also save the optimizer state"),
                  Param("format", .str, default: .string("safetensors"), "'safetensors' (LMLab's, resumes a run exactly) or 'pth' (fastai's Learner.save file)"),
                  Param("overwrite", .bool, default: false, "replace files LMLab did not write")],
                 example: "learn.save('1epoch'); learn.save('1epoch', format='pth')") { l, a in
            let formatName = try a.string("format")
            guard let format = SavedModelFormat(rawValue: formatName) else {
                throw a.error("format must be 'safetensors' or 'pth', got '\(formatName)'")
            }
            let (withOpt, overwrite) = (try a.bool("with_opt"), try a.bool("overwrite"))
            let ext = format == .pth ? ".pth" : ""
            switch try modelTarget(a) {
            case .name(let name):
                try l.save(name, withOptimizer: withOpt, format: format, overwrite: overwrite)
                return .string("models/\(name)\(ext)")
            case .file(let p):
                try l.save(to: p.url, withOptimizer: withOpt, format: format, overwrite: overwrite)
                return .string(p.shown + ext)
            }
        }
        t.method("load", "read back what save(name) wrote (same architecture and vocabulary)",
                 [Param("name", "a name inside models/ (str), or a Path")], example: "learn.save('1epoch'); learn = learn.load('1epoch')") { l, a in
            switch try modelTarget(a) {
            case .name(let name): try l.load(name)
            case .file(let p): try l.load(from: p.url)
            }
            return t.wrap(l)   // fastai returns the learner: learn = learn.load('1epoch')
        }
        t.method("export", "write the model, vocabulary and tokenizer settings to a folder for load_learner (never into /, nor over files an export did not write unless overwrite=True)",
                 [Param("path", .str, default: .string("export"), "the folder to write"),
                  Param("overwrite", .bool, default: false, "replace files an export did not write")], example: "learn.export('export')") { l, a in
            let path = try a.string("path")
            try l.export(to: try DataBindings.resolve(path, a.session), overwrite: try a.bool("overwrite"))
            return .none
        }
        t.attribute("recorder", "losses and learning rates recorded while training (plot_loss, plot_sched)") { l in
            types.recorder.wrap({ l.recorder })
        }
        t.method("lr_find",
                 "fastai's learning-rate finder: a short run with growing lr, then the weights are put back; shows the suggestion and the curve",
                 [Param("start_lr", .float, default: 1e-07, "the first learning rate tried"),
                  Param("end_lr", .float, default: 10, "the last learning rate tried"),
                  Param("num_it", .int, default: 100, "how many batches")],
                 example: "learn.lr_find(num_it=50)") { l, a in
            l.cancellation = a.session.cancellation
            let r = try l.lrFind(startLR: try a.double("start_lr"), endLR: try a.double("end_lr"),
                                 numIt: try a.int("num_it"))
            return types.lrFind.wrap(r)
        }
        t.attribute("lr", "the default learning rate") { .float($0.lr) }
        t.attribute("metrics", "the metrics") { l in .list(l.metrics.map { types.metric.wrap(MetricValue(metric: $0)) }) }
        t.attribute("path", "the folder models/ is under") { .string($0.data.path.path) }
    }

    static let nEpoch = Param("n_epoch", .int, "how many epochs")
    static let wd = Param("wd", .float, default: nil, "weight decay; None: the learner's default")
    /// A tiny language model on 20 sample texts (seconds), for the method examples.
    static let lmSample = "dls_lm = sample_lm_data(n_texts=20, bs=4, seq_len=8); learn = language_model_learner(dls_lm, emb_sz=8, n_hid=16, n_layers=2)"
    /// A tiny classifier with an encoder saved as 'finetuned' beside it.
    static let clasSample = lmSample + "; learn.save_encoder('finetuned'); learn = text_classifier_learner(sample_clas_data(dls_lm, n_texts=20, bs=4), emb_sz=8, n_hid=16, n_layers=2)"
    static let predictLM = [Param("text", .str, "the start of the text"),
                            Param("n_words", .int, default: 1, "how many words to add (0 to 10000)"),
                            Param("temperature", .float, default: 1.0, "below 1 sharper, above 1 more random"),
                            Param("seed", .int, default: nil, "the sampling; None draws from the session's generator")]

    /// fastai's lr_find plot: loss against learning rate on a log axis, the suggestion as a red dot.
    static func lrPlot(_ r: LRFindResult) -> LinePlot {
        var p = LinePlot(xs: r.lrs, ys: r.losses.map(Double.init), title: "lr_find", xlabel: "Learning Rate", ylabel: "Loss", logX: true)
        p.label = "loss"
        if let valley = r.valley, valley > 0,
           let i = r.lrs.indices.min(by: { abs(log10(r.lrs[$0] / valley)) < abs(log10(r.lrs[$1] / valley)) }), i < r.losses.count {
            p.mark = (valley, Double(r.losses[i]), String(format: "valley: %.2e", valley))
        }
        return p
    }

    static func configureLRFind(_ types: LearnTypes) {
        types.lrFind
            .sample(lmSample + "; r = learn.lr_find(num_it=5)")
            .attribute("valley", "fastai's default suggestion") { r in r.valley.map { .float($0) } ?? .none }
            .attribute("minimum", "the lr of the minimum loss / 10") { r in r.minimum.map { .float($0) } ?? .none }
            .attribute("steep", "the lr of the steepest descent") { r in r.steep.map { .float($0) } ?? .none }
            .attribute("lrs", "learning rates tried") { .list($0.lrs.map { .float($0) }) }
            .attribute("losses", "smoothed losses") { .list($0.losses.map { Value.float32($0) }) }
            .method("plot", "the loss against the learning rate (log scale)", example: "r.plot()") { r, _ in types.plot.wrap(lrPlot(r)) }
            .display { r in
                let v = r.valley.map { String(format: "%.2e", $0) } ?? "None"
                return "SuggestedLRs(valley=\(v))\n" + lrPlot(r).braille()
            }
            .svg { lrPlot($0).svg() }
    }

    static func configureRecorder(_ types: LearnTypes) {
        types.recorder
            .sample(lmSample + "; learn.fit(1, 1e-3)")
            .method("plot_loss", "the training loss at every batch (and validation loss per epoch in values)",
                    example: "learn.recorder.plot_loss()") { get, _ in
                let r = get()
                var p = LinePlot(xs: r.losses.indices.map(Double.init), ys: r.losses.map(Double.init),
                                 title: "train loss", xlabel: "batch", ylabel: "loss")
                // As fastai's plot_loss: the validation loss at the end of each epoch (epochs of equal length).
                let valid = r.rows.enumerated().compactMap { i, row in
                    row.validLoss.map { (Double((i + 1) * r.losses.count / r.rows.count), $0) }
                }
                if !valid.isEmpty {
                    p.label = "train"
                    p.others = [PlotSeries(label: "valid", xs: valid.map(\.0), ys: valid.map(\.1))]
                }
                return types.plot.wrap(p)
            }
            .method("plot_sched", "the learning rate of the last group at every batch", example: "learn.recorder.plot_sched()") { get, _ in
                let r = get()
                return types.plot.wrap(LinePlot(xs: r.lrs.indices.map(Double.init), ys: r.lrs.map { $0.last ?? .nan },
                                                           title: "learning rate", xlabel: "batch", ylabel: "lr"))
            }
            .attribute("losses", "training loss of every batch") { get in .list(get().losses.map { Value.float32($0) }) }
            .attribute("lrs", "learning rate of the last group at every batch") { get in .list(get().lrs.map { .float($0.last ?? .nan) }) }
            .attribute("moms", "momentum at every batch") { get in .list(get().moms.map { .float($0) }) }
            .attribute("values", "per epoch: [train_loss, valid_loss, metrics…]") { get in
                .list(get().rows.map { r in .list([Value.float32(r.trainLoss), .float(r.validLoss ?? .nan)] + r.metrics.map { .float($0) }) })
            }
            .display { get in "Recorder: \(get().losses.count) batches, \(get().rows.count) epochs" }
    }

    static func configureLM(_ types: LearnTypes) {
        common(types.lm, types)
        types.lm
            .sample(lmSample)
            .method("predict", "continue a text with n_words sampled words (seeded: same seed, same words)", predictLM,
                    example: "learn.predict('I liked this movie because', 40, temperature=0.75, seed=0)") { l, a in
                let text = try a.string("text")
                let g = try generation(a)
                return .string(try l.predict(text: text, nWords: g.n, temperature: g.temperature, seed: g.seed).text)
            }
            .method("save_encoder", "write the encoder only (no decoder, no optimizer) for a classifier",
                    [Param("name", "a name inside models/ (str, may hold '/'), or a Path anywhere"),
                  Param("overwrite", .bool, default: false, "with a Path: replace files LMLab did not write")], example: "learn.save_encoder('finetuned')") { l, a in
                switch try modelTarget(a) {
                case .name(let name): try l.saveEncoder(name)
                case .file(let p): try l.saveEncoder(to: p.url, overwrite: try a.bool("overwrite"))
                }
                return .none
            }
            .attribute("model", "the AWD-LSTM language model: parameters by name, activations after forward") { l in
                types.module(ModelView(l.model, types))
            }
            .attribute("dls", "the data") { l in .string("LMLearnerData(vocab \(l.data.vocab.count))") }
            .display { l in
                "LMLearner: AWD-LSTM emb \(l.model.config.embSize), hidden \(l.model.config.hiddenSize), \(l.model.config.layers) layers, vocab \(l.model.vocabSize); \(l.optimizer.groups.count) parameter groups, \(l.optimizer.frozenIndex) frozen; metrics \(pyList(l.metrics.map(\.name)))"
                    + (l.data.backwards ? "; backwards" : "")
            }
    }

    static func configureClassifier(_ types: LearnTypes) {
        common(types.clas, types)
        types.clas
            .sample(clasSample)
            .method("predict", "(label, label index, probabilities) for one text", [Param("text", .str, "the text to classify")],
                    example: "learn.predict('I really liked that movie!')") { l, a in
                let (label, probs) = try l.predict(text: try a.string("text"))
                return .tuple([.string(label), .int(l.data.labels.firstIndex(of: label) ?? 0),
                               .tensor(Tensor(shape: [probs.count], data: probs))])
            }
            .method("load_encoder", "load an encoder written by save_encoder (same sizes and vocabulary), then freeze",
                    [Param("name", "a name inside models/ (str), or a Path")], example: "learn.load_encoder('finetuned')") { l, a in
                switch try modelTarget(a) {
                case .name(let name): try l.loadEncoder(name)
                case .file(let p): try l.loadEncoder(from: p.url)
                }
                return types.clas.wrap(l)
            }
            .attribute("model", "the classifier: parameters by name, activations after forward") { l in
                types.module(ModelView(l.model, types))
            }
            .display { l in
                "TextLearner: AWD-LSTM emb \(l.model.config.embSize), hidden \(l.model.config.hiddenSize), \(l.model.config.layers) layers, \(l.model.classes) classes \(pyList(l.data.labels)); \(l.optimizer.groups.count) parameter groups, \(l.optimizer.frozenIndex) frozen"
                    + (l.data.backwards ? "; backwards" : "")
            }
    }

    static func configureLoaded(_ types: LearnTypes) {
        types.loaded
            .sample(lmSample + "; learn.export('lm_export'); learn_inf = load_learner('lm_export')")
            .method("predict", "a language model continues the text; a classifier gives (label, index, probabilities)", predictLM,
                    example: "learn_inf.predict('I liked this movie', 4, seed=0)") { l, a in
                let text = try a.string("text")
                switch l {
                case .languageModel:
                    let g = try generation(a)
                    return .string(try l.predict(text: text, nWords: g.n, temperature: g.temperature, seed: g.seed).text)
                case .classifier(_, _, _, let labels, _):
                    let (label, probs) = try l.predict(text: text)
                    return .tuple([.string(label), .int(labels.firstIndex(of: label) ?? 0), .tensor(Tensor(shape: [probs.count], data: probs))])
                }
            }
            .display { l in
                switch l {
                case .languageModel(let m, let v, _, let bwd): "LoadedLearner: language model, vocab \(v.count), emb \(m.config.embSize)" + (bwd ? ", backwards" : "")
                case .classifier(let m, _, _, let labels, let bwd): "LoadedLearner: classifier, \(m.classes) classes \(pyList(labels))" + (bwd ? ", backwards" : "")
                }
            }
    }
}
