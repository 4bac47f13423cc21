import Files
import Foundation
import Tensor

/// A fastai checkpoint read without Python: `learn.save` files (`{'model': state_dict,
/// 'opt': optimizer state}`), bare state dicts (`learn.save(with_opt=False)`,
/// `save_encoder`), with tensors keyed exactly as in fastai's `state_dict`.
///
///     let ckpt = try FastaiCheckpoint.load(Fixtures.url("model/tiny.pth"))
///     ckpt.model["0.encoder.weight"]          // Tensor [vocab, emb]
///     ckpt.optimizer?.state[0].tensors["grad_avg"]
public struct FastaiCheckpoint: Sendable {
    /// Model weights and buffers by state_dict key (integer buffers such as BatchNorm's
    /// `num_batches_tracked` are converted to float32, which is exact for the small values used).
    public var model: [String: Tensor]
    /// The state_dict keys in file order.
    public var keys: [String]
    /// The optimizer state, when the file has one.
    public var optimizer: FastaiOptimizerState?

    /// Reads a `.pth` file written by `learn.save` or `learn.save_encoder`.
    public static func load(_ url: URL) throws -> FastaiCheckpoint {
        try interpret(TorchCheckpointReader.load(url), source: url.lastPathComponent)
    }

    /// Interprets an already decoded checkpoint value.
    public static func interpret(_ value: TorchValue, source: String) throws -> FastaiCheckpoint {
        guard let top = value.dict else { throw ArchiveError("\(source): top level is not a dict") }
        let topKeys = Set(top.map(\.key))
        // learn.save with an optimizer: exactly {'model', 'opt'}; otherwise the dict is the state_dict.
        if topKeys == ["model", "opt"], let modelValue = value["model"], let opt = value["opt"] {
            var ckpt = try stateDict(modelValue, source: source)
            ckpt.optimizer = try FastaiOptimizerState(opt, source: source)
            return ckpt
        }
        return try stateDict(value, source: source)
    }

    static func stateDict(_ value: TorchValue, source: String) throws -> FastaiCheckpoint {
        guard let entries = value.dict else { throw ArchiveError("\(source): state_dict is not a dict") }
        var model: [String: Tensor] = [:]
        var keys: [String] = []
        for (k, v) in entries {
            guard let t = v.tensor else { throw ArchiveError("\(source): state_dict entry '\(k)' is not a tensor") }
            model[k] = try t.floatTensor(name: "\(source): \(k)")
            keys.append(k)
        }
        return FastaiCheckpoint(model: model, keys: keys, optimizer: nil)
    }
}

/// fastai's `Optimizer.state_dict()`: per-parameter state in parameter-group order,
/// then parameter order within a group, and one hyper-parameter dict per group.
public struct FastaiOptimizerState: Sendable {
    /// State of one parameter: tensors (`grad_avg`, `sqr_avg`), numbers (`step`) and
    /// flags (`do_wd`, `force_train`).
    public struct ParameterState: Sendable {
        public var tensors: [String: Tensor] = [:]
        public var numbers: [String: Double] = [:]
        public var flags: [String: Bool] = [:]
    }
    public var state: [ParameterState]
    /// `lr`, `mom`, `sqr_mom`, `eps`, `wd` per group.
    public var hypers: [[String: Double]]

    init(_ value: TorchValue, source: String) throws {
        guard let st = value["state"]?.list, let hy = value["hypers"]?.list else {
            throw ArchiveError("\(source): optimizer state lacks 'state' or 'hypers' lists")
        }
        state = try st.enumerated().map { i, entry in
            guard let d = entry.dict else { throw ArchiveError("\(source): optimizer state \(i) is not a dict") }
            var p = ParameterState()
            for (k, v) in d {
                switch v {
                case .tensor(let t): p.tensors[k] = try t.floatTensor(name: "\(source): opt state \(i).\(k)")
                case .bool(let b): p.flags[k] = b
                case .int, .double: p.numbers[k] = v.number
                default: throw ArchiveError("\(source): optimizer state \(i).\(k) has an unsupported type")
                }
            }
            return p
        }
        hypers = try hy.enumerated().map { i, entry in
            guard let d = entry.dict else { throw ArchiveError("\(source): hypers \(i) is not a dict") }
            var h: [String: Double] = [:]
            for (k, v) in d {
                guard let x = v.number else { throw ArchiveError("\(source): hyper-parameter \(i).\(k) is not a number") }
                h[k] = x
            }
            return h
        }
    }
}

/// A fastai vocabulary pickle (`itos`): a pickled Python list of strings, any protocol ≤ 5.
public enum FastaiVocab {
    /// Reads the token list from a vocabulary pickle.
    ///
    ///     let itos = try FastaiVocab.load(url)   // ["xxunk", "xxpad", ...]
    public static func load(_ url: URL) throws -> [String] {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw ArchiveError("\(url.path): cannot read file (\(FileErrors.reason(error)))")
        }
        return try parse([UInt8](data), source: url.lastPathComponent)
    }

    /// Parses vocabulary pickle bytes (no globals allowed).
    public static func parse(_ bytes: [UInt8], source: String = "vocab") throws -> [String] {
        let doc = try PickleMachine(policy: .allowList([]), source: source).run(bytes)
        guard let list = doc.root.node, list.kind == .list || list.kind == .tuple else {
            throw ArchiveError("\(source): expected a list of strings, found \(doc.root.kindName)")
        }
        return try list.items.enumerated().map { i, v in
            guard let s = v.string else { throw ArchiveError("\(source): vocab entry \(i) is a \(v.kindName), not a string") }
            return s
        }
    }
}
