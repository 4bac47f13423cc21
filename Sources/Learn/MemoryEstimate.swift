import Foundation
import Files
import Models
import Tensor

/// How many bytes an AWD-LSTM learner needs while training, estimated from its sizes alone
/// (nothing is allocated), so an impossible configuration is refused with one line before the
/// model is built, instead of the kernel killing the process halfway through initialisation.
///
///     let need = MemoryEstimate.languageModel(config: cfg, vocabSize: 60_000, bs: 64, bptt: 72)
///     try MemoryEstimate.ensureFits(need, what: "language_model_learner")
///
/// The estimate counts float32 storage: parameters, their gradients, Adam's two moments, the
/// learner's copy of the last good weights, the dropped hidden-to-hidden weights
/// (`WeightDropout`), the LSTM activations kept for the backward pass of one `bs × bptt` batch,
/// and the decoder's fused loss chunk. It is approximate (buffers reused between layers, the
/// allocator and the data are not modelled): it is meant to stop configurations that are off by
/// a large factor before they allocate, not to judge a model close to the limit.
public struct MemoryEstimate: Sendable, Equatable {
    /// Number of trainable floats.
    public var parameters: Double
    /// Bytes per component, in the order shown by `summary`.
    public var parameterBytes, gradientBytes, optimizerBytes, snapshotBytes, activationBytes, decoderBytes: Double
    /// What was estimated, for the message: `AWD-LSTM emb 400, hidden 1152, 3 layers, vocab 60000, bs 64 × bptt 72`.
    public var description: String

    /// The total in bytes.
    public var total: Double {
        parameterBytes + gradientBytes + optimizerBytes + snapshotBytes + activationBytes + decoderBytes
    }

    /// An AWD-LSTM language model (tied decoder unless the config says otherwise).
    public static func languageModel(config c: AWDLSTMConfig, vocabSize v: Int, bs: Int, bptt: Int) -> MemoryEstimate {
        let (encoder, dropped, activations) = encoderSizes(c, vocabSize: v, rows: Double(bs) * Double(bptt))
        let V = Double(v), E = Double(c.embSize)
        let decoder = V + (c.tieWeights ? 0 : V * E)
        let rows = Double(bs) * Double(bptt)
        // The fused decoder keeps one chunk of logits (at most 64 Mi floats) plus the dropped output.
        let chunk = min(rows * V, Double(64 << 20)) + rows * E
        return make(parameters: encoder + decoder, dropped: dropped, activations: activations, decoder: chunk,
                    description: "\(ModelConfigRecord(c).summary), vocab \(v), bs \(bs) × bptt \(bptt)")
    }

    /// An AWD-LSTM text classifier (SentenceEncoder + pooling head with `linFtrs` hidden sizes).
    public static func classifier(config c: AWDLSTMConfig, vocabSize v: Int, classes: Int, bs: Int, bptt: Int,
                                  linFtrs: [Int] = [50]) -> MemoryEstimate {
        let (encoder, dropped, activations) = encoderSizes(c, vocabSize: v, rows: Double(bs) * Double(bptt))
        var head = 0.0
        var width = 3 * Double(c.embSize)
        for n in linFtrs + [classes] {
            head += width * Double(n) + Double(n) + 2 * width   // linear + bias + BatchNorm
            width = Double(n)
        }
        return make(parameters: encoder + head, dropped: dropped, activations: activations, decoder: 0,
                    description: "\(ModelConfigRecord(c).summary), vocab \(v), \(classes) classes, bs \(bs) × bptt \(bptt)")
    }

    /// (parameter floats, dropped-weight floats, activation floats) of the embedding + LSTMs.
    private static func encoderSizes(_ c: AWDLSTMConfig, vocabSize v: Int, rows: Double) -> (Double, Double, Double) {
        var params = Double(v) * Double(c.embSize)
        var dropped = 0.0
        var activations = rows * Double(c.embSize) * 2   // embedding output and its dropout
        for l in 0..<max(c.layers, 0) {
            let i = Double(c.inputSize(ofLayer: l)), h = Double(c.hiddenSize(ofLayer: l))
            params += 4 * h * i + 4 * h * h + 8 * h
            dropped += 4 * h * h
            // Kept per time step and row for the backward pass: the input, four gates, the cell,
            // tanh(cell), the output and its dropout mask.
            activations += rows * (i + 8 * h)
        }
        return (params, dropped, activations)
    }

    private static func make(parameters p: Double, dropped: Double, activations: Double, decoder: Double,
                             description: String) -> MemoryEstimate {
        MemoryEstimate(parameters: p, parameterBytes: 4 * (p + dropped), gradientBytes: 4 * p, optimizerBytes: 8 * p,
                       snapshotBytes: 4 * p, activationBytes: 4 * activations, decoderBytes: 4 * decoder,
                       description: description)
    }

    /// Throws `InsufficientMemory` when `estimate` exceeds `available` (default: what the system
    /// says is available now; no check when that cannot be read).
    public static func ensureFits(_ estimate: MemoryEstimate, what: String,
                                  available: AvailableMemory? = AvailableMemory.current()) throws {
        guard let available, estimate.total > Double(available.bytes) else { return }
        throw InsufficientMemory(what: what, estimate: estimate, available: available)
    }
}

/// Memory the process may still use: `MemAvailable` from /proc/meminfo, lowered to the cgroup's
/// remaining allowance when a limit is set (containers).
public struct AvailableMemory: Sendable, Equatable {
    public var bytes: Int
    /// Where the figure came from: `MemAvailable`, `cgroup memory.max`, …
    public var source: String

    public init(bytes: Int, source: String) { self.bytes = bytes; self.source = source }

    /// The smallest of the known limits, or nil when none can be read (not Linux).
    public static func current() -> AvailableMemory? {
        var best: AvailableMemory?
        func consider(_ bytes: Int?, _ source: String) {
            guard let bytes, bytes >= 0 else { return }
            if best == nil || bytes < best!.bytes { best = AvailableMemory(bytes: bytes, source: source) }
        }
        if let info = try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8),
           let line = info.split(separator: "\n").first(where: { $0.hasPrefix("MemAvailable:") }) {
            let parts = line.split(separator: " ")
            if parts.count >= 2, let kb = Int(parts[1]) { consider(kb * 1024, "MemAvailable") }
        }
        // cgroup v2, then v1: limit minus current usage.
        if let limit = number("/sys/fs/cgroup/memory.max"), let used = number("/sys/fs/cgroup/memory.current") {
            consider(limit - used, "cgroup memory.max")
        } else if let limit = number("/sys/fs/cgroup/memory/memory.limit_in_bytes"),
                  let used = number("/sys/fs/cgroup/memory/memory.usage_in_bytes"), limit < 1 << 60 {
            consider(limit - used, "cgroup memory.limit_in_bytes")
        }
        return best
    }

    /// An integer file (`max` and unreadable files give nil).
    private static func number(_ path: String) -> Int? {
        guard let s = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        return Int(s.trimmingCharacters(in: .whitespacesAndNewlines))
    }
}

/// A model that cannot be trained in the memory available. The description is one line
/// (without `what`, which callers such as the REPL already put in front of errors).
public struct InsufficientMemory: Error, CustomStringConvertible, Equatable {
    /// The function that refused (`language_model_learner`).
    public var what: String
    public var estimate: MemoryEstimate
    public var available: AvailableMemory

    public var description: String {
        "\(estimate.description) needs about \(AtomicFile.byteCount(Int(min(estimate.total, 9e18)))) "
            + "(weights, gradients, Adam state, activations), but only \(AtomicFile.byteCount(available.bytes)) is available "
            + "(\(available.source)); use a smaller vocabulary, emb_sz, n_hid, n_layers or batch"
    }
}
