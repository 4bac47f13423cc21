import Files
import Foundation
import Interop
import Models
import Tensor

/// What `Learner.save` writes.
public enum SavedModelFormat: String, Sendable, CaseIterable {
    /// LMLab's own pair, `NAME.safetensors` + `NAME.json` (everything `load` needs to continue a run).
    case safetensors
    /// fastai's `Learner.save` file, `NAME.pth` (a `torch.save` zip with fastai's state-dict names
    /// and `Optimizer.state_dict()`), plus the vocabulary as fastai's `itos_NAME.pkl` beside it.
    case pth
}

extension Learner where Model: SavableModel, Data: TextLearnerDataProtocol {
    /// `learn.save(name, format='pth')`: writes `models/NAME.pth` as fastai's `Learner.save` does
    /// and the vocabulary as `models/itos_NAME.pkl`; fastai reads them with `learn.load(NAME)`
    /// (same vocabulary and sizes) or `language_model_learner(dls, AWD_LSTM,
    /// pretrained_fnames=[NAME, 'itos_' + NAME])` (any vocabulary), and PyTorch with
    /// `torch.load(path, weights_only=True)`.
    @discardableResult
    public func savePth(to base: URL, withOptimizer: Bool = true, overwrite: Bool = false) throws -> URL {
        let files = TorchFiles(base: base)
        let folder = base.deletingLastPathComponent()
        try WritePaths.checkNotRoot(folder)
        if !overwrite { try files.checkReplaceable() }
        try WritePaths.createFolder(folder)
        let bytes = try FastaiCheckpointWriter.serialize(stateDict: fastaiStateDict(),
                                                         optimizer: withOptimizer ? fastaiOptimizerState() : nil,
                                                         archiveName: base.lastPathComponent)
        // The vocabulary first: a save stopped between the two leaves the old weights with a
        // vocabulary that, for the same learner, is the same list.
        try AtomicFile.write(Foundation.Data(FastaiVocab.serialized(data.vocab.items)), to: files.vocab)
        try AtomicFile.write(bytes, to: files.weights)
        return files.weights
    }

    /// fastai's `state_dict()` of the model, in its key order: tied aliases share the storage of
    /// the entry they repeat, counters (BatchNorm's `num_batches_tracked`) are int64 as in PyTorch.
    func fastaiStateDict() -> [FastaiStateEntry] {
        model.stateDictEntries.map { e in
            switch e.role {
            case .counter:
                FastaiStateEntry(key: e.name, tensor: StoredTensor(int64: e.tensor.data.map { Int64($0) }, shape: e.tensor.shape))
            case .alias(let of):
                FastaiStateEntry(key: e.name, tensor: StoredTensor(float32: e.tensor), storage: of)
            case .parameter, .buffer:
                FastaiStateEntry(key: e.name, tensor: StoredTensor(float32: e.tensor))
            }
        }
    }

    /// fastai's `Optimizer.state_dict()`: per parameter (state order) the flags fastai sets
    /// (`do_wd` False, `force_train` True) then the stepper's state (`grad_avg`, `sqr_avg`,
    /// Adam's `step`); per group the hyper-parameters in fastai's key order.
    func fastaiOptimizerState() -> FastaiCheckpointWriter.OptimizerState {
        let state = optimizer.states.map { s -> [(key: String, value: TorchSaveValue)] in
            var d: [(key: String, value: TorchSaveValue)] = []
            if !s.doWD { d.append(("do_wd", .bool(false))) }
            if s.forceTrain { d.append(("force_train", .bool(true))) }
            if let m = s.gradAvg { d.append(("grad_avg", .tensor(StoredTensor(float32: m), storage: nil))) }
            if let v = s.sqrAvg { d.append(("sqr_avg", .tensor(StoredTensor(float32: v), storage: nil))) }
            if optimizer.kind != .sgd, s.gradAvg != nil { d.append(("step", .int(s.step))) }
            return d
        }
        let hypers = optimizer.hypers.map { h -> [(key: String, value: Double)] in
            // The order fastai's Optimizer builds: the steppers' defaults first, then its arguments.
            optimizer.kind == .sgd ? [("wd", h.wd), ("lr", h.lr), ("mom", h.mom)]
                : [("wd", h.wd), ("sqr_mom", h.sqrMom), ("lr", h.lr), ("mom", h.mom), ("eps", h.eps)]
        }
        return .init(state: state, hypers: hypers)
    }
}

/// The two files of a `.pth` save: `BASE.pth` and `itos_BASE.pkl` beside it.
struct TorchFiles {
    let weights: URL
    let vocab: URL

    init(base: URL) {
        weights = base.appendingPathExtension("pth")
        vocab = base.deletingLastPathComponent().appendingPathComponent("itos_\(base.lastPathComponent).pkl")
    }

    /// Throws unless both are absent or the `.pth` is one LMLab wrote (then the pair is ours).
    func checkReplaceable() throws {
        let fm = FileManager.default
        if fm.fileExists(atPath: weights.path) {
            if let data = try? Foundation.Data(contentsOf: weights, options: .alwaysMapped),
               let zip = try? ZipArchive(data: data), TorchCheckpointWriter.wrote(zip) { return }
            throw LearnError.invalidArgument("\(weights.path) exists and was not written by LMLab; pass overwrite=True to replace it")
        }
        if fm.fileExists(atPath: vocab.path) {
            throw LearnError.invalidArgument("\(vocab.path) exists and was not written by LMLab; pass overwrite=True to replace it")
        }
    }
}

extension PretrainedWeights {
    /// fastai's `pretrained_fnames=[weights, vocab]`: `WEIGHTS.pth` and `VOCAB.pkl` in
    /// `modelsDirectory` (names follow `modelFile`'s rule), e.g. `['lm', 'itos_lm']` after
    /// `learn.save('lm', format: .pth)`, or a fastai `learn.save` file with its vocabulary.
    public init(fnames weights: String, _ vocab: String, in modelsDirectory: URL) throws {
        let w = try LanguageModelLearner.modelFile(weights + ".pth", in: modelsDirectory)
        let v = try LanguageModelLearner.modelFile(vocab + ".pkl", in: modelsDirectory)
        for f in [w, v] where !FileManager.default.fileExists(atPath: f.path) {
            throw LearnError.invalidArgument("pretrained_fnames: no file \(f.path)")
        }
        self.init(weights: w, vocab: v)
    }
}
