import Foundation

/// fastai's `Learner.save` file, written: `torch.save({'model': state_dict, 'opt':
/// opt.state_dict()}, pickle_protocol=2)`, or the bare state dict (`with_opt=False`). The
/// counterpart of `FastaiCheckpoint.load`.
///
///     let sd = [FastaiStateEntry(key: "0.encoder.weight", tensor: .init(float32: w))]
///     let data = try FastaiCheckpointWriter.serialize(stateDict: sd, optimizer: nil, archiveName: "lm")
public enum FastaiCheckpointWriter {
    /// fastai's `Optimizer.state_dict()`: one state dict per parameter (group order, then
    /// parameter order), one hyper-parameter dict per group. Keys keep the given order.
    public struct OptimizerState: Sendable {
        public var state: [[(key: String, value: TorchSaveValue)]]
        public var hypers: [[(key: String, value: Double)]]
        public init(state: [[(key: String, value: TorchSaveValue)]], hypers: [[(key: String, value: Double)]]) {
            self.state = state; self.hypers = hypers
        }
    }

    /// The file's bytes. `hypers` is written as a plain list (fastai holds an `L`, which
    /// `torch.load(weights_only=True)` refuses; `Optimizer.load_state_dict` takes either).
    public static func serialize(stateDict: [FastaiStateEntry], optimizer: OptimizerState?, archiveName: String) throws -> Data {
        let entries: [(key: String, value: TorchSaveValue)] = stateDict.map { e in
            (e.key, .tensor(e.tensor, storage: e.storage ?? e.key))
        }
        let model = TorchSaveValue.orderedDict(entries)
        guard let optimizer else { return try TorchCheckpointWriter.serialize(model, archiveName: archiveName) }
        let state: [TorchSaveValue] = optimizer.state.map { .dict($0) }
        let hypers: [TorchSaveValue] = optimizer.hypers.map { group in
            .dict(group.map { h -> (key: String, value: TorchSaveValue) in (h.key, .double(h.value)) })
        }
        let opt = TorchSaveValue.dict([("state", .list(state)), ("hypers", .list(hypers))])
        return try TorchCheckpointWriter.serialize(.dict([("model", model), ("opt", opt)]), archiveName: archiveName)
    }
}

/// One entry of a PyTorch `state_dict`, in fastai's names.
public struct FastaiStateEntry: Sendable {
    public var key: String
    public var tensor: StoredTensor
    /// The key of the entry whose storage this one shares (tied weights: `0.encoder_dp.emb.weight`
    /// and `1.decoder.weight` share `0.encoder.weight`'s); nil: its own.
    public var storage: String?
    public init(key: String, tensor: StoredTensor, storage: String? = nil) {
        self.key = key; self.tensor = tensor; self.storage = storage
    }
}

extension FastaiVocab {
    /// The vocabulary pickle fastai pairs with pretrained weights (`itos_wt103.pkl`): a list of
    /// str, pickle protocol 2.
    public static func serialized(_ itos: [String]) -> [UInt8] {
        var p = PickleWriter()
        p.list(count: itos.count) { p, i in p.string(itos[i]) }
        return p.finish()
    }
}
