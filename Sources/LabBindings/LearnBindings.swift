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

/// Turns the REPL's Ctrl-C (the session's cancellation flag) into the learner's own flag, so
/// training stops at the next batch boundary.
final class InterruptBridge: LearnerCallback {
    unowned let session: Session
    let flag: CancellationFlag
    init(_ session: Session, _ flag: CancellationFlag) { self.session = session; self.flag = flag }
    func beforeFit(_ state: TrainingState) {}
    func beforeEpoch(_ state: TrainingState) {}
    func beforeBatch(_ state: TrainingState) {}
    func afterBatch(_ state: TrainingState) { if session.cancellation.consume() { flag.cancel() } }
    func afterEpoch(_ state: TrainingState) {}
    func afterFit(_ state: TrainingState) {}
}

/// Python's repr of a list of strings: `['neg', 'pos']`.
func pyList(_ xs: [String]) -> String { "[" + xs.map(pythonRepr).joined(separator: ", ") + "]" }

/// A metric as the language holds it (`accuracy`, `Perplexity()`, `error_rate`).
struct MetricValue { var metric: Metric }

/// The learner bindings: `language_model_learner`, `text_classifier_learner`, `load_learner`,
/// `chapter_recipe`, and the learners' fastai methods.
enum LearnBindings {
    nonisolated(unsafe) static let metricType = ObjectType<MetricValue>("Metric", summary: "a metric shown in the epoch table")
        .attribute("name", "the column name") { .string($0.metric.name) }
        .display { m in m.metric == .perplexity ? "Perplexity()" : m.metric.name }
    nonisolated(unsafe) static let lmType = ObjectType<LanguageModelLearner>("LMLearner", summary: "a language-model learner (AWD-LSTM + data + optimizer)")
    nonisolated(unsafe) static let clasType = ObjectType<TextClassifierLearner>("TextLearner", summary: "a text-classifier learner (SentenceEncoder + pooling head)")
    nonisolated(unsafe) static let loadedType = ObjectType<LoadedLearner>("LoadedLearner", summary: "a learner read back by load_learner (predict only)")
    nonisolated(unsafe) static let lrFindType = ObjectType<LRFindResult>("SuggestedLRs", summary: "the result of lr_find: the suggestion and the loss curve")
    nonisolated(unsafe) static let recorderType = ObjectType<() -> Recorder>("Recorder", summary: "losses, learning rates and epoch rows recorded during training")

    /// The object types are shared by all sessions: their members are set up once (thread-safe
    /// lazy static), sessions only register them.
    static let configured: Void = {
        configureRecorder(); configureLRFind(); configureLM(); configureClassifier(); configureLoaded()
    }()

    static func install(in s: Session) {
        LearnData.install(in: s)
        s.register(type: metricType)
        func add(_ name: String, _ signature: String, _ summary: String, _ example: String, _ call: @escaping (Arguments) throws -> Value) {
            s.register(Builtin(name, signature: signature, summary: summary, example: example, topic: "learn", call: call))
        }
        add("accuracy", "accuracy(inp, targ)", "fraction of rows whose largest logit is the target; as a metric, pass it unevaluated: metrics=[accuracy, Perplexity()]",
            "accuracy(tensor([[0.1, 0.9], [0.8, 0.2]]), tensor([1, 1]))") { a in
            let logits = try a.tensor("inp", at: 0)
            let targets = try a.tensor("targ", at: 1).data.map { Int($0) }
            return .float(Double(try Learn.accuracy(logits: logits, targets: targets)))
        }
        add("error_rate", "error_rate(inp, targ)", "1 - accuracy; as a metric, pass it unevaluated: metrics=error_rate", "error_rate(tensor([[0.1, 0.9], [0.8, 0.2]]), tensor([1, 1]))") { a in
            let logits = try a.tensor("inp", at: 0)
            let targets = try a.tensor("targ", at: 1).data.map { Int($0) }
            return .float(1 - Double(try Learn.accuracy(logits: logits, targets: targets)))
        }
        add("Perplexity", "Perplexity()", "the perplexity metric: exp(validation loss), for metrics=[accuracy, Perplexity()]", "Perplexity()") { _ in
            metricType.wrap(MetricValue(metric: .perplexity))
        }

        _ = configured
        s.register(type: lrFindType)
        s.register(type: recorderType)
        s.register(type: lmType)
        s.register(type: clasType)
        s.register(type: loadedType)
        InspectBindings.install(in: s)

        add("language_model_learner", "language_model_learner(dls, arch=AWD_LSTM, drop_mult=1.0, metrics=[accuracy, Perplexity()], emb_sz=400, n_hid=1152, n_layers=3, pretrained=None, seed=42)",
            "fastai's language_model_learner: an AWD-LSTM language model; pretrained= a folder with fastai's WT103 lstm_fwd.pth + itos_wt103.pkl (then frozen); sizes can be made small",
            "learn = language_model_learner(sample_lm_data(n_texts=20, bs=4, seq_len=8), drop_mult=0.3, metrics=[accuracy, Perplexity()], emb_sz=8, n_hid=16, n_layers=2)") { a in
            let data = try LearnData.lmData(try a.required("dls", at: 0), a)
            _ = a.value("arch", at: 1)
            let config = try modelConfig(a, base: .languageModel)
            var pretrained: PretrainedWeights?
            if let p = a.value("pretrained"), !p.isNone {
                // A folder holding fastai's WT103 files (Scripts/fetch-wt103 puts them in Datasets/wt103-fwd).
                guard case .string(let folder) = p else { throw a.error("'pretrained' must be a folder name (str), got \(p.typeName)") }
                let dir = resolve(folder, a.session)
                pretrained = PretrainedWeights(weights: dir.appendingPathComponent("lstm_fwd.pth"), vocab: dir.appendingPathComponent("itos_wt103.pkl"))
                guard FileManager.default.fileExists(atPath: pretrained!.weights.path) else {
                    throw a.error("no lstm_fwd.pth in \(folder) (run Scripts/fetch-wt103)")
                }
            }
            let learn = try languageModelLearner(dls: data, config: config, dropMult: try dropMult(a, default: 1),
                                                 pretrained: pretrained,
                                                 metrics: try metrics(a, default: [.accuracy, .perplexity]), seed: try seed(a))
            prepare(learn, a.session)
            return lmType.wrap(learn)
        }
        add("text_classifier_learner", "text_classifier_learner(dls, arch=AWD_LSTM, drop_mult=0.5, metrics=[accuracy], emb_sz=400, n_hid=1152, n_layers=3, seed=42)",
            "fastai's text_classifier_learner: SentenceEncoder + pooling head (sizes must match the encoder you load)",
            "learn = text_classifier_learner(sample_clas_data(sample_lm_data(n_texts=20, bs=4, seq_len=8), n_texts=20, bs=4), drop_mult=0.5, metrics=accuracy, emb_sz=8, n_hid=16, n_layers=2)") { a in
            let data = try LearnData.clasData(try a.required("dls", at: 0), a)
            _ = a.value("arch", at: 1)
            let config = try modelConfig(a, base: .classifier)
            let learn = try textClassifierLearner(dls: data, config: config, dropMult: try dropMult(a, default: 0.5),
                                                  metrics: try metrics(a, default: [.accuracy]), seed: try seed(a))
            prepare(learn, a.session)
            return clasType.wrap(learn)
        }
        s.define("AWD_LSTM", .string("AWD_LSTM"))
        add("load_learner", "load_learner(path)", "read a learner written by learn.export(path) (for predict)",
            "language_model_learner(sample_lm_data(n_texts=20, bs=4, seq_len=8), emb_sz=8, n_hid=16, n_layers=2).export('lm_export'); learn_inf = load_learner('lm_export')") { a in
            let path = try a.string("path", at: 0)
            return loadedType.wrap(try loadLearner(from: resolve(path, a.session)))
        }
        add("chapter_recipe", "chapter_recipe(config='sample', output='recipe', dry_run=False)",
            "the chapter's whole ULMFiT recipe on the IMDb sample (ChapterRecipe.sample: LM fine-tuning, encoder, classifier, export; passes 80%, takes minutes); dry_run=True only shows the plan",
            "chapter_recipe('sample', dry_run=True)") { a in
            let name = try a.string("config", at: 0, default: "sample")
            guard name == "sample" else { throw a.error("config must be 'sample', got \(pythonRepr(name))") }
            let config = ChapterRecipeConfig.sample
            if try a.bool("dry_run", default: false) {
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
            let out = resolve(try a.string("output", at: 1, default: "recipe"), a.session)
            let report = try ChapterRecipe.run(datasetPath: folder, config: config, output: out, log: SessionTextOutput(a.session))
            a.session.emit(report.summary)
            return .none
        }
    }

    // MARK: arguments

    static func resolve(_ path: String, _ s: Session) -> URL {
        path.hasPrefix("/") ? URL(fileURLWithPath: path) : URL(fileURLWithPath: s.directory, isDirectory: true).appendingPathComponent(path)
    }

    static func seed(_ a: Arguments) throws -> UInt64 { UInt64(bitPattern: Int64(try a.int("seed", default: 42))) }

    static func dropMult(_ a: Arguments, default d: Double) throws -> Float {
        let m = try a.double("drop_mult", default: d)
        guard m >= 0, m <= 10 else { throw a.error("drop_mult must be between 0 and 10, got \(Value.formatFloat(m))") }
        return Float(m)
    }

    static func modelConfig(_ a: Arguments, base: AWDLSTMConfig) throws -> AWDLSTMConfig {
        var c = base
        c.embSize = try a.int("emb_sz", default: c.embSize)
        c.hiddenSize = try a.int("n_hid", default: c.hiddenSize)
        c.layers = try a.int("n_layers", default: c.layers)
        guard (1...4096).contains(c.embSize), (1...8192).contains(c.hiddenSize), (1...8).contains(c.layers) else {
            throw a.error("emb_sz, n_hid and n_layers must be positive (and at most 4096, 8192, 8)")
        }
        return c
    }

    static func metrics(_ a: Arguments, default d: [Metric]) throws -> [Metric] {
        guard let v = a.value("metrics"), !v.isNone else { return d }
        func one(_ x: Value) throws -> Metric {
            if let m = metricType.unwrap(x) { return m.metric }
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
    static func learningRate(_ v: Value?, _ a: Arguments) throws -> LearningRate? {
        guard let v, !v.isNone else { return nil }
        func positive(_ x: Value, _ what: String) throws -> Double {
            guard let d = x.number else { throw a.error("\(what) must be a number, got \(x.typeName)") }
            guard d > 0, d.isFinite else { throw a.error("\(what) must be a positive number, got \(x.repr)") }
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

    static func prepare<M, D>(_ learn: Learner<M, D>, _ s: Session) {
        learn.tableOutput = EpochTableOutput(s)
        learn.clock = { Date().timeIntervalSinceReferenceDate }
        learn.progress = Learn.ProgressBar(output: ProgressOutput(s))
        learn.callbacks.append(InterruptBridge(s, learn.cancellation))
    }

    static func fitResult(_ r: FitResult, _ s: Session) throws -> Value {
        if r.cancelled, let signal = s.cancellation.terminationSignalName {
            // The process was asked to terminate: stop the whole run here (one line, then the
            // runner exits with 128 + signal). Model and optimizer are at a batch boundary.
            throw LabError("stopped on \(signal) at epoch \(r.position.epoch), batch \(r.position.batch) (the weights keep the updates so far)")
        }
        if r.cancelled {
            s.emit("interrupted at epoch \(r.position.epoch), batch \(r.position.batch) (the weights keep the updates so far)")
        }
        return .none
    }

    // MARK: methods shared by both learners

    static func common<M, D>(_ t: ObjectType<Learner<M, D>>) where D: TextLearnerDataProtocol {
        t.method("fit_one_cycle", "fit_one_cycle(n_epoch, lr_max=None, div=25.0, div_final=100000.0, pct_start=0.25, wd=None, moms=None, start_epoch=0)",
                 "train n_epoch epochs with the one-cycle schedule; lr_max may be slice(lo, hi) for discriminative rates; start_epoch=k skips the first k epochs of the schedule (resume after learn.load)",
                 example: "learn.fit_one_cycle(1, 2e-2)") { l, a in
            let n = try a.int("n_epoch", at: 0)
            guard n > 0 else { throw a.error("n_epoch must be at least 1, got \(n)") }
            let lr = try learningRate(a.value("lr_max", at: 1), a)
            let div = try a.double("div", default: 25), divFinal = try a.double("div_final", default: 1e5)
            let pct = try a.double("pct_start", default: 0.25)
            guard div > 0, divFinal > 0 else { throw a.error("div and div_final must be positive") }
            guard pct >= 0, pct <= 1 else { throw a.error("pct_start must be between 0 and 1") }
            let wd = try a.value("wd").flatMap { $0.isNone ? nil : try a.double("wd") }
            var moms: (Double, Double, Double)?
            if let m = a.value("moms"), !m.isNone {
                guard case .tuple(let xs) = m, xs.count == 3, let m0 = xs[0].number, let m1 = xs[1].number, let m2 = xs[2].number else {
                    throw a.error("moms must be a tuple of three numbers, like (0.8, 0.7, 0.8)")
                }
                moms = (m0, m1, m2)
            }
            let start = try a.int("start_epoch", default: 0)
            guard start >= 0, start < n else { throw a.error("start_epoch must be between 0 and n_epoch - 1 = \(n - 1), got \(start)") }
            return try fitResult(try l.fitOneCycle(n, lrMax: lr, div: div, divFinal: divFinal, pctStart: pct, wd: wd, moms: moms,
                                                   startEpoch: start), a.session)
        }
        t.method("fit", "fit(n_epoch, lr=None, wd=None)", "train n_epoch epochs at a constant learning rate",
                 example: "learn.fit(1, 1e-3)") { l, a in
            let n = try a.int("n_epoch", at: 0)
            guard n > 0 else { throw a.error("n_epoch must be at least 1, got \(n)") }
            let lr = try learningRate(a.value("lr", at: 1), a)
            let wd = try a.value("wd").flatMap { $0.isNone ? nil : try a.double("wd") }
            return try fitResult(try l.fit(n, lr: lr, wd: wd), a.session)
        }
        t.method("freeze", "freeze()", "train only the last parameter group") { l, _ in l.freeze(); return .none }
        t.method("unfreeze", "unfreeze()", "train every parameter group") { l, _ in l.unfreeze(); return .none }
        t.method("freeze_to", "freeze_to(n)", "train groups n… (negative n counts from the end: freeze_to(-2) trains the last two)",
                 example: "learn.freeze_to(-2)") { l, a in
            let n = try a.int("n", at: 0)
            let groups = l.optimizer.groups.count
            guard n >= -groups, n < groups else { throw a.error("n must be between \(-groups) and \(groups - 1) for \(groups) parameter groups, got \(n)") }
            l.freezeTo(n)
            return .none
        }
        t.attribute("n_groups", "number of parameter groups") { .int($0.optimizer.groups.count) }
        t.attribute("frozen_groups", "how many groups (from the first) are frozen") { .int($0.optimizer.frozenIndex) }
        t.method("validate", "validate()", "validation loss and metrics, as a list") { l, _ in
            let (loss, ms) = try l.validate()
            return .list([.float(loss)] + ms.map { .float($0) })
        }
        t.method("save", "save(name)", "write the model and optimizer state to models/<name>.safetensors (+ .json)",
                 example: "learn.save('1epoch')") { l, a in
            let name = try a.string("name", at: 0)
            guard !name.isEmpty else { throw a.error("empty name") }
            let url = try l.save(name)
            return .string(url.lastPathComponent == name ? "models/\(name)" : url.path)
        }
        t.method("load", "load(name)", "read back what save(name) wrote (same architecture and vocabulary)",
                 example: "learn.load('1epoch')") { l, a in
            let name = try a.string("name", at: 0)
            guard !name.isEmpty else { throw a.error("empty name") }
            try l.load(name)
            return t.wrap(l)   // fastai returns the learner: learn = learn.load('1epoch')
        }
        t.method("export", "export(path='export')", "write the model, vocabulary and tokenizer settings to a folder for load_learner",
                 example: "learn.export('export')") { l, a in
            let path = try a.string("path", at: 0, default: "export")
            try l.export(to: resolve(path, a.session))
            return .none
        }
        t.attribute("recorder", "losses and learning rates recorded while training (plot_loss, plot_sched)") { l in
            recorderType.wrap({ l.recorder })
        }
        t.method("lr_find", "lr_find(start_lr=1e-07, end_lr=10, num_it=100)",
                 "fastai's learning-rate finder: a short run with growing lr, then the weights are put back; shows the suggestion and the curve",
                 example: "learn.lr_find(num_it=50)") { l, a in
            let r = try l.lrFind(startLR: try a.double("start_lr", default: 1e-7), endLR: try a.double("end_lr", default: 10),
                                 numIt: try a.int("num_it", default: 100))
            return lrFindType.wrap(r)
        }
        t.attribute("lr", "the default learning rate") { .float($0.lr) }
        t.attribute("metrics", "the metrics") { l in .list(l.metrics.map { metricType.wrap(MetricValue(metric: $0)) }) }
        t.attribute("path", "the folder models/ is under") { .string($0.data.path.path) }
    }

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

    static func configureLRFind() {
        lrFindType
            .attribute("valley", "fastai's default suggestion") { r in r.valley.map { .float($0) } ?? .none }
            .attribute("minimum", "the lr of the minimum loss / 10") { r in r.minimum.map { .float($0) } ?? .none }
            .attribute("steep", "the lr of the steepest descent") { r in r.steep.map { .float($0) } ?? .none }
            .attribute("lrs", "learning rates tried") { .list($0.lrs.map { .float($0) }) }
            .attribute("losses", "smoothed losses") { .list($0.losses.map { Value.float32($0) }) }
            .method("plot", "plot()", "the loss against the learning rate (log scale)") { r, _ in PlotBuiltins.plotType.wrap(lrPlot(r)) }
            .display { r in
                let v = r.valley.map { String(format: "%.2e", $0) } ?? "None"
                return "SuggestedLRs(valley=\(v))\n" + lrPlot(r).braille()
            }
            .svg { lrPlot($0).svg() }
    }

    static func configureRecorder() {
        recorderType
            .method("plot_loss", "plot_loss()", "the training loss at every batch (and validation loss per epoch in values)") { get, _ in
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
                return PlotBuiltins.plotType.wrap(p)
            }
            .method("plot_sched", "plot_sched()", "the learning rate of the last group at every batch") { get, _ in
                let r = get()
                return PlotBuiltins.plotType.wrap(LinePlot(xs: r.lrs.indices.map(Double.init), ys: r.lrs.map { $0.last ?? .nan },
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

    static func configureLM() {
        common(lmType)
        lmType
            .method("predict", "predict(text, n_words=1, temperature=1.0, seed=None)",
                    "continue a text with n_words sampled words (seeded: same seed, same words)",
                    example: "learn.predict('I liked this movie because', 40, temperature=0.75, seed=0)") { l, a in
                let text = try a.string("text", at: 0)
                let n = try a.int("n_words", at: 1, default: 1)
                guard n >= 0, n <= 10_000 else { throw a.error("n_words must be between 0 and 10000, got \(n)") }
                let temp = try a.double("temperature", default: 1)
                guard temp > 0, temp.isFinite else { throw a.error("temperature must be positive, got \(Value.formatFloat(temp))") }
                let seed = try a.optionalInt("seed").map { UInt64(bitPattern: Int64($0)) } ?? a.session.rng.next()
                return .string(try l.predict(text: text, nWords: n, temperature: temp, seed: seed).text)
            }
            .method("save_encoder", "save_encoder(name)", "write the encoder only (no decoder, no optimizer) for a classifier",
                    example: "learn.save_encoder('finetuned')") { l, a in
                let name = try a.string("name", at: 0)
                guard !name.isEmpty else { throw a.error("empty name") }
                try l.saveEncoder(name)
                return .none
            }
            .attribute("model", "the AWD-LSTM language model: parameters by name, activations after forward") { l in
                InspectBindings.module(ModelView(l.model))
            }
            .attribute("dls", "the data") { l in .string("LMLearnerData(vocab \(l.data.vocab.count))") }
            .display { l in
                "LMLearner: AWD-LSTM emb \(l.model.config.embSize), hidden \(l.model.config.hiddenSize), \(l.model.config.layers) layers, vocab \(l.model.vocabSize); \(l.optimizer.groups.count) parameter groups, \(l.optimizer.frozenIndex) frozen; metrics \(pyList(l.metrics.map(\.name)))"
            }
    }

    static func configureClassifier() {
        common(clasType)
        clasType
            .method("predict", "predict(text)", "(label, label index, probabilities) for one text",
                    example: "learn.predict('I really liked that movie!')") { l, a in
                let (label, probs) = try l.predict(text: try a.string("text", at: 0))
                return .tuple([.string(label), .int(l.data.labels.firstIndex(of: label) ?? 0),
                               .tensor(Tensor(shape: [probs.count], data: probs))])
            }
            .method("load_encoder", "load_encoder(name)", "load an encoder written by save_encoder (same sizes and vocabulary), then freeze",
                    example: "learn.load_encoder('finetuned')") { l, a in
                let name = try a.string("name", at: 0)
                guard !name.isEmpty else { throw a.error("empty name") }
                try l.loadEncoder(name)
                return clasType.wrap(l)
            }
            .attribute("model", "the classifier: parameters by name, activations after forward") { l in
                InspectBindings.module(ModelView(l.model))
            }
            .display { l in
                "TextLearner: AWD-LSTM emb \(l.model.config.embSize), hidden \(l.model.config.hiddenSize), \(l.model.config.layers) layers, \(l.model.classes) classes \(pyList(l.data.labels)); \(l.optimizer.groups.count) parameter groups, \(l.optimizer.frozenIndex) frozen"
            }
    }

    static func configureLoaded() {
        loadedType
            .method("predict", "predict(text, n_words=None, temperature=1.0, seed=None)",
                    "a language model continues the text; a classifier gives (label, index, probabilities)") { l, a in
                let text = try a.string("text", at: 0)
                switch l {
                case .languageModel:
                    let n = try a.int("n_words", at: 1, default: 1)
                    guard n >= 0, n <= 10_000 else { throw a.error("n_words must be between 0 and 10000, got \(n)") }
                    let temp = try a.double("temperature", default: 1)
                    guard temp > 0 else { throw a.error("temperature must be positive") }
                    let seed = try a.optionalInt("seed").map { UInt64(bitPattern: Int64($0)) } ?? a.session.rng.next()
                    return .string(try l.predict(text: text, nWords: n, temperature: temp, seed: seed).text)
                case .classifier(_, _, _, let labels):
                    let (label, probs) = try l.predict(text: text)
                    return .tuple([.string(label), .int(labels.firstIndex(of: label) ?? 0), .tensor(Tensor(shape: [probs.count], data: probs))])
                }
            }
            .display { l in
                switch l {
                case .languageModel(let m, let v, _): "LoadedLearner: language model, vocab \(v.count), emb \(m.config.embSize)"
                case .classifier(let m, _, _, let labels): "LoadedLearner: classifier, \(m.classes) classes \(pyList(labels))"
                }
            }
    }
}
