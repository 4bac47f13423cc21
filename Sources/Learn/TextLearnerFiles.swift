import Foundation
import Files
import Interop
import Models
import Tensor
import Text

/// What a saved file describes, checked before any weight is touched.
public struct SavedModelDescription: Codable, Sendable, Equatable {
    /// `language_model`, `classifier` or `encoder`.
    public var kind: String
    public var vocabSize: Int
    public var config: ModelConfigRecord
    public var classes: Int?
    /// True for a model trained on reversed documents (fastai's `backwards=True`); absent
    /// (nil) for the forward direction, so forward files read as before.
    public var backwards: Bool?

    /// Throws a one-line error naming the first difference from `expected`.
    func check(against expected: SavedModelDescription, file: URL) throws {
        let name = file.lastPathComponent
        guard kind == expected.kind else {
            throw LearnError.checkpointMismatch("\(name) holds a \(kind), this learner needs a \(expected.kind)")
        }
        guard config.sameArchitecture(expected.config) else {
            throw LearnError.checkpointMismatch("\(name) is an \(config.summary), this learner is an \(expected.config.summary)")
        }
        guard vocabSize == expected.vocabSize else {
            throw LearnError.checkpointMismatch("\(name) has a vocabulary of \(vocabSize) tokens, this learner has \(expected.vocabSize)")
        }
        guard classes == expected.classes else {
            throw LearnError.checkpointMismatch("\(name) has \(classes ?? 0) classes, this learner has \(expected.classes ?? 0)")
        }
        guard (backwards ?? false) == (expected.backwards ?? false) else {
            throw LearnError.checkpointMismatch("\(name) reads \(Self.direction(backwards)), this learner reads \(Self.direction(expected.backwards))")
        }
    }

    static func direction(_ backwards: Bool?) -> String { backwards == true ? "backwards" : "forwards" }
}

/// A model the learner can save, load and export without knowing its type: its state dict in
/// fastai's names (`StateDictModel`, with the one check every load goes through) and what a
/// saved file records about it.
public protocol SavableModel: TrainableModel, StateDictModel {
    /// Kind, vocabulary size, config and classes; the learner adds the data's direction.
    func describe() -> SavedModelDescription
    /// Adds what an exported bundle needs beyond `describe()` to rebuild the model (the
    /// classifier's head geometry); nothing by default.
    func addBundleFields(to info: inout LearnerBundleInfo)
}

extension SavableModel {
    public func addBundleFields(to info: inout LearnerBundleInfo) {}
}

extension AWDLSTMLanguageModel: SavableModel {
    public func describe() -> SavedModelDescription {
        SavedModelDescription(kind: "language_model", vocabSize: vocabSize, config: ModelConfigRecord(config))
    }
}

extension TextClassifierModel: SavableModel {
    public func describe() -> SavedModelDescription {
        SavedModelDescription(kind: "classifier", vocabSize: vocabSize, config: ModelConfigRecord(config), classes: classes)
    }

    public func addBundleFields(to info: inout LearnerBundleInfo) {
        info.bptt = head.bptt
        info.maxLen = encoder.maxLen
        info.linFtrs = head.blocks.dropLast().map { $0.linear.shape[0] }
    }
}

/// The JSON written next to every `.safetensors` file by `save`, `saveEncoder` and `export`.
struct SavedFileHeader: Codable {
    var format: String
    var version = 1
    var model: SavedModelDescription
    /// CRC-32 of the `.safetensors` file, verified on load (catches truncation and corruption).
    var crc32: UInt32
    var checkpoint: CheckpointMetadata?
}

enum SavedFiles {
    static func writePair(tensors: [String: Tensor], header: (UInt32) -> SavedFileHeader, base: URL,
                          overwrite: Bool = false) throws {
        let folder = base.deletingLastPathComponent()
        try WritePaths.checkNotRoot(folder)
        if !overwrite { try checkReplaceable(base) }
        try WritePaths.createFolder(folder)
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .prettyPrinted]
        // Both files change together even if the process is killed between them (see AtomicFilePair).
        try AtomicFilePair.write(data: SafeTensors(floats: tensors).serialized(), to: base.appendingPathExtension("safetensors"),
                                 header: { try e.encode(header($0)) }, to: base.appendingPathExtension("json"))
    }

    /// Throws unless `base`.json and `base`.safetensors are absent or an LMLab pair (an
    /// earlier save), so a save never replaces a file LMLab did not write.
    static func checkReplaceable(_ base: URL) throws {
        let json = base.appendingPathExtension("json"), st = base.appendingPathExtension("safetensors")
        let fm = FileManager.default
        guard fm.fileExists(atPath: json.path) || fm.fileExists(atPath: st.path) else { return }
        if let data = fm.contents(atPath: json.path), (try? JSONDecoder().decode(SavedFileHeader.self, from: data)) != nil { return }
        let other = fm.fileExists(atPath: json.path) ? json : st
        throw LearnError.invalidArgument("\(other.path) exists and was not written by LMLab; pass overwrite=True to replace it")
    }

    /// Reads the header, checks the format, then verifies and reads the tensors.
    static func readPair(base: URL, format: String) throws -> (SavedFileHeader, [String: Tensor]) {
        let json = base.appendingPathExtension("json"), st = base.appendingPathExtension("safetensors")
        guard FileManager.default.fileExists(atPath: json.path), FileManager.default.fileExists(atPath: st.path) else {
            throw LearnError.invalidArgument("no saved model at \(base.path) (expected \(json.lastPathComponent) and \(st.lastPathComponent))")
        }
        let header: SavedFileHeader
        do { header = try JSONDecoder().decode(SavedFileHeader.self, from: Data(contentsOf: json)) } catch {
            throw LearnError.checkpointMismatch("\(json.lastPathComponent) is not an LMLab model header")
        }
        guard header.format == format else {
            throw LearnError.checkpointMismatch("\(json.lastPathComponent) is a '\(header.format)' file, expected '\(format)'")
        }
        let verified: URL
        do { verified = try AtomicFilePair.verifiedDataFile(st, crc32: header.crc32) } catch {
            throw LearnError.checkpointMismatch("\(st.lastPathComponent) is damaged or truncated (\(error))")
        }
        let file = try SafeTensors(contentsOf: verified)
        return (header, file.floats)
    }
}

// MARK: save / load (model + optimizer)

extension Learner where Model: SavableModel, Data: TextLearnerDataProtocol {
    /// `path/models/` (fastai's `learn.path/learn.model_dir`).
    public var modelsDirectory: URL { data.path.appendingPathComponent("models") }

    /// fastai `learn.save(name)`: model + optimizer state (+ schedule position) as
    /// `models/<name>.safetensors` and `models/<name>.json`, or with `format: .pth` fastai's own
    /// `models/<name>.pth` and the vocabulary `models/itos_<name>.pkl` (see `savePth`). `name`
    /// may name a subfolder (`'run1/a'`) but never leaves `models/` (see `modelFile`).
    @discardableResult
    public func save(_ name: String, withOptimizer: Bool = true, format: SavedModelFormat = .safetensors,
                     overwrite: Bool = false) throws -> URL {
        try save(to: try modelFile(name), withOptimizer: withOptimizer, format: format, overwrite: overwrite)
    }

    /// `save` to `base`.safetensors + `base`.json (or `base`.pth + `itos_BASE.pkl`) anywhere (a
    /// `Path` in the REPL). Refuses the filesystem root and files LMLab did not write, unless
    /// `overwrite`.
    @discardableResult
    public func save(to base: URL, withOptimizer: Bool = true, format: SavedModelFormat = .safetensors,
                     overwrite: Bool = false) throws -> URL {
        if format == .pth { return try savePth(to: base, withOptimizer: withOptimizer, overwrite: overwrite) }
        let cp = checkpoint(withOptimizer: withOptimizer)
        let desc = describeModel()
        var tensors = cp.tensors
        // Buffers (BatchNorm running statistics) are state, not parameters: saved beside them.
        // Counters are not saved (see `StateDictEntry.Role.counter`), as before.
        for e in model.stateDictEntries where e.role == .buffer { tensors["buffers.\(e.name)"] = e.tensor }
        try SavedFiles.writePair(tensors: tensors, header: {
            SavedFileHeader(format: "lmlab-learner-save", model: desc, crc32: $0, checkpoint: cp.metadata)
        }, base: base, overwrite: overwrite)
        return base
    }

    /// fastai `learn.load(name)`: restores weights and optimizer state saved by `save`. A file of
    /// another architecture, vocabulary or a damaged file gives a one-line error and changes nothing.
    public func load(_ name: String) throws { try load(from: try modelFile(name)) }

    /// `load` from `base`.safetensors + `base`.json anywhere (a `Path` in the REPL).
    public func load(from base: URL) throws {
        let name = base.lastPathComponent
        var (header, tensors) = try SavedFiles.readPair(base: base, format: "lmlab-learner-save")
        try header.model.check(against: describeModel(), file: base.appendingPathExtension("json"))
        guard let meta = header.checkpoint else { throw LearnError.checkpointMismatch("\(name): no checkpoint metadata") }
        var buffers: [String: Tensor] = [:]
        for k in tensors.keys where k.hasPrefix("buffers.") { buffers[String(k.dropFirst(8))] = tensors.removeValue(forKey: k) }
        // The model's whole state dict as saved (parameters, buffers, aliases repeating their
        // parameter) goes through the one state-dict check before anything changes; `restore`
        // then checks and sets parameters and optimizer state, and `assign` the buffers.
        var stateDict = buffers
        let entries = model.stateDictEntries
        for e in entries where e.role == .parameter {
            if let t = tensors["model.\(e.name)"] { stateDict[e.name] = t }
        }
        for e in entries {
            if case .alias(let of) = e.role, let t = stateDict[of] { stateDict[e.name] = t }
        }
        do { try model.checkStateDict(stateDict, source: base.appendingPathExtension("safetensors").lastPathComponent) } catch let e as ModelError {
            throw LearnError.checkpointMismatch(e.message)
        }
        try restore(TrainingCheckpoint(tensors: tensors, metadata: meta))
        model.assign(checkedStateDict: stateDict)
    }

    /// `models/NAME` for save, save_encoder and load. NAME is one or more plain names joined by
    /// `/`: no absolute path, no `..` or `.`, no empty part, no NUL, so nothing is read or
    /// written outside `models/`. (`export(to:)` takes any folder.)
    public func modelFile(_ name: String) throws -> URL { try Self.modelFile(name, in: modelsDirectory) }

    /// `folder/NAME` under the same rule as `modelFile`.
    public static func modelFile(_ name: String, in folder: URL) throws -> URL {
        guard !name.isEmpty else { throw LearnError.invalidArgument("a model name cannot be empty") }
        guard !name.unicodeScalars.contains("\0") else { throw LearnError.invalidArgument("a model name cannot contain a NUL character") }
        let parts = name.split(separator: "/", omittingEmptySubsequences: false)
        guard !name.hasPrefix("/"), parts.allSatisfy({ !$0.isEmpty && $0 != "." && $0 != ".." }) else {
            throw LearnError.invalidArgument("model name '\(name)' must stay inside models/ (plain names joined by '/', no '..'); use export(path) to write elsewhere")
        }
        return folder.appendingPathComponent(name)
    }
}

/// What the text learners' data adapters share (vocabulary, tokenizer, folder).
public protocol TextLearnerDataProtocol: LearnerData {
    var vocab: Vocab { get }
    var tokenizer: TextTokenizerSettings { get }
    var path: URL { get }
    /// Documents reversed (fastai's `backwards=True`).
    var backwards: Bool { get }
    /// The category names an exported bundle records (classifiers); nil for language models.
    var exportLabels: [String]? { get }
}
extension LMLearnerData: TextLearnerDataProtocol {
    public var exportLabels: [String]? { nil }
}
extension ClassifierLearnerData: TextLearnerDataProtocol {
    public var exportLabels: [String]? { labels }
}

extension Learner where Model: SavableModel, Data: TextLearnerDataProtocol {
    func describeModel() -> SavedModelDescription {
        var d = model.describe()
        d.backwards = data.backwards ? true : nil
        return d
    }
}

// MARK: encoder

extension Learner where Model == AWDLSTMLanguageModel, Data == LMLearnerData {
    /// fastai `save_encoder(name)`: the AWD-LSTM weights only (LM names `0.encoder.weight`,
    /// `0.rnns.…`), no decoder, no optimizer.
    @discardableResult
    public func saveEncoder(_ name: String) throws -> URL { try saveEncoder(to: try modelFile(name)) }

    /// `saveEncoder` to `base`.safetensors + `base`.json anywhere; see `save(to:)`.
    @discardableResult
    public func saveEncoder(to base: URL, overwrite: Bool = false) throws -> URL {
        var t: [String: Tensor] = [:]
        for p in model.encoder.parameters { t[p.name] = p.value }
        let desc = SavedModelDescription(kind: "encoder", vocabSize: model.vocabSize, config: ModelConfigRecord(model.config),
                                         backwards: data.backwards ? true : nil)
        try SavedFiles.writePair(tensors: t, header: { SavedFileHeader(format: "lmlab-encoder", model: desc, crc32: $0) },
                                 base: base, overwrite: overwrite)
        return base
    }
}

extension Learner where Model == TextClassifierModel, Data == ClassifierLearnerData {
    /// fastai `load_encoder(name)`: loads an encoder saved by `saveEncoder` (same vocabulary and
    /// sizes) into the SentenceEncoder and freezes the learner.
    public func loadEncoder(_ name: String) throws { try loadEncoder(from: try modelFile(name)) }

    /// `loadEncoder` from `base`.safetensors + `base`.json anywhere.
    public func loadEncoder(from base: URL) throws {
        let (header, tensors) = try SavedFiles.readPair(base: base, format: "lmlab-encoder")
        let mine = SavedModelDescription(kind: "encoder", vocabSize: model.vocabSize, config: ModelConfigRecord(model.config),
                                         backwards: data.backwards ? true : nil)
        try header.model.check(against: mine, file: base.appendingPathExtension("json"))
        do { try model.loadEncoder(lmStateDict: tensors, source: base.appendingPathExtension("safetensors").lastPathComponent) } catch let e as ModelError {
            throw LearnError.checkpointMismatch(e.message)
        }
        freeze()
    }
}
