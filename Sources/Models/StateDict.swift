import Tensor

/// One entry of a model's state dict: a name in fastai's (PyTorch's) spelling, the tensor, and
/// what the entry is, which decides how `load(stateDict:)` checks it.
public struct StateDictEntry: Sendable {
    public enum Role: Sendable, Equatable {
        /// A trained weight (a `Parameter`): required, with the model's shape.
        case parameter
        /// Saved state that is not trained (BatchNorm's running mean and variance): required,
        /// with the model's shape.
        case buffer
        /// BatchNorm's `num_batches_tracked`, an integer count PyTorch saves as an int64 scalar.
        /// Optional on load: LMLab's BatchNorm uses a fixed momentum of 0.1, so the count never
        /// enters the maths, and LMLab's own saves before fastai export did not keep it. When
        /// present it must be one whole number ≥ 0.
        case counter
        /// The same tensor as the entry `of` (tied weights, e.g. `encoder_dp.emb.weight`):
        /// required, and equal to that entry.
        case alias(of: String)
    }

    public let name: String
    public let tensor: Tensor
    public let role: Role

    public init(_ name: String, _ tensor: Tensor, _ role: Role) {
        self.name = name; self.tensor = tensor; self.role = role
    }
}

/// A model whose weights and buffers have fastai's `state_dict()` names, so it can be saved,
/// loaded and exchanged with fastai without anyone knowing its type.
///
///     let entries = lm.stateDictEntries           // fastai order, aliases and buffers included
///     try other.load(stateDict: lm.stateDict(), source: "lm.safetensors")
public protocol StateDictModel: AnyObject {
    /// fastai's `state_dict()`: every entry in PyTorch's order (tied weights under each name,
    /// BatchNorm buffers beside their weights).
    var stateDictEntries: [StateDictEntry] { get }

    /// Sets the parameters, buffers and counters from a state dict that `load(stateDict:source:)`
    /// has already checked against `stateDictEntries` (so every required key is there with the
    /// right shape). Call `load`, not this.
    func assign(checkedStateDict: [String: Tensor])
}

extension StateDictModel {
    /// The state dict by name.
    public func stateDict() -> [String: Tensor] {
        Dictionary(stateDictEntries.map { ($0.name, $0.tensor) }, uniquingKeysWith: { a, _ in a })
    }

    /// The state-dict names in fastai's order.
    public var stateDictKeys: [String] { stateDictEntries.map(\.name) }

    /// Loads a fastai state dict after one check shared by every model: no unexpected key, no
    /// missing one, every shape the model's, aliases equal to what they repeat, counters whole
    /// numbers. The first problem is thrown as one line naming the key (and `source`, the file,
    /// when given); nothing changes when it throws.
    public func load(stateDict: [String: Tensor], source: String? = nil) throws {
        try checkStateDict(stateDict, source: source)
        assign(checkedStateDict: stateDict)
    }

    /// The check `load(stateDict:source:)` makes, without loading.
    public func checkStateDict(_ stateDict: [String: Tensor], source: String? = nil) throws {
        try StateDictEntry.check(stateDict, against: stateDictEntries, source: source)
    }
}

extension StateDictEntry {
    /// Checks `stateDict` against a model's `entries`; the one check behind every load.
    public static func check(_ stateDict: [String: Tensor], against entries: [StateDictEntry], source: String? = nil) throws {
        let place = source.map { "\($0): " } ?? "load: "
        let known = Set(entries.map(\.name))
        if let extra = stateDict.keys.sorted().first(where: { !known.contains($0) }) {
            throw ModelError("\(place)unexpected key '\(extra)' in state dict")
        }
        for e in entries {
            guard let t = stateDict[e.name] else {
                if e.role == .counter { continue }
                throw ModelError("\(place)missing key '\(e.name)' in state dict")
            }
            if e.role == .counter {
                guard t.count == 1, let n = t.data.first, n >= 0, n == n.rounded() else {
                    throw ModelError("\(place)'\(e.name)' must be one whole number ≥ 0, got shape \(t.shape)")
                }
                continue
            }
            guard t.shape == e.tensor.shape else {
                throw ModelError("\(place)'\(e.name)' has shape \(t.shape), the model expects \(e.tensor.shape)")
            }
        }
        for e in entries {
            guard case .alias(let of) = e.role, let original = stateDict[of] else { continue }
            guard stateDict[e.name]! == original else {
                throw ModelError("\(place)'\(e.name)' differs from '\(of)' but the weights are tied")
            }
        }
    }
}
