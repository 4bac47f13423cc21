import Tensor

/// A Python value from a PyTorch checkpoint, after tensors have been rebuilt.
/// Nesting is bounded (see `TorchCheckpointReader.maxDepth`).
public indirect enum TorchValue: Sendable {
    case none
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case bytes([UInt8])
    case tensor(StoredTensor)
    /// Lists, tuples, sets and fastcore `L`s.
    case list([TorchValue])
    /// Dicts and `OrderedDict`s, keys in insertion order (non-string keys are shown as text).
    case dict([(key: String, value: TorchValue)])

    /// The value under `key` when this is a dict.
    public subscript(key: String) -> TorchValue? {
        if case .dict(let d) = self { return d.first { $0.key == key }?.value }
        return nil
    }

    public var tensor: StoredTensor? { if case .tensor(let t) = self { return t } else { return nil } }
    public var list: [TorchValue]? { if case .list(let l) = self { return l } else { return nil } }
    public var dict: [(key: String, value: TorchValue)]? { if case .dict(let d) = self { return d } else { return nil } }
    public var string: String? { if case .string(let s) = self { return s } else { return nil } }
    /// Ints, bools and floats as a Double.
    public var number: Double? {
        switch self {
        case .int(let i): Double(i)
        case .double(let d): d
        case .bool(let b): b ? 1 : 0
        default: nil
        }
    }
}

/// A tensor read from a checkpoint, made contiguous. Floating-point storages become
/// `Float` elements, integer and bool storages keep exact `Int64` elements.
public struct StoredTensor: Sendable, Equatable {
    public enum Elements: Sendable, Equatable {
        case float([Float])
        case int([Int64])
    }
    public let shape: [Int]
    public let elements: Elements
    /// The storage's PyTorch type name, e.g. `FloatStorage`.
    public let storageType: String

    /// The values as a float32 `Tensor`. Integer values must be exactly representable
    /// (|x| ≤ 2^24); otherwise this throws, naming `name`.
    public func floatTensor(name: String = "tensor") throws -> Tensor {
        switch elements {
        case .float(let f): return Tensor(shape: shape, data: f)
        case .int(let ints):
            var out = [Float](repeating: 0, count: ints.count)
            for (i, v) in ints.enumerated() {
                guard abs(v) <= 1 << 24 else {
                    throw ArchiveError("\(name): integer value \(v) (\(storageType)) is not exact as float32")
                }
                out[i] = Float(v)
            }
            return Tensor(shape: shape, data: out)
        }
    }
}
