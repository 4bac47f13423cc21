import Tensor

/// fastai's `PoolingLinearClassifier`: masked concat pooling of the SentenceEncoder output
/// followed by `LinBnDrop` blocks (ReLU on all but the last), giving raw class logits.
///
/// Interface expected from the SentenceEncoder (built on the AWD-LSTM elsewhere):
/// `outputs [bs, T, emb]` — the kept chunks' outputs, zero rows where a chunk did not run a
/// row — and `padMask [bs*T]` (row-major, true where the input token is `xxpad`) for the same
/// columns. `bptt` must be the encoder's chunk length (it decides which position is "last").
///
/// Parameters carry fastai's state_dict names (`1.layers.{j}.0.weight` …) with the default
/// `prefix` `"1.layers"` (the head is module 1 of `SequentialRNN`).
///
/// Layers follow the language model's style: each keeps what its backward pass needs from its
/// last forward call, `backward(outputGradient:)` accumulates into its parameters and returns the
/// gradient of its input; the module holds the training flag and the dropout generator.
///
///     var rng = SeededGenerator(seed: 0)
///     let head = PoolingLinearClassifier(embeddingSize: 400, classes: 2, bptt: 72, rng: &rng)
///     let logits = try head.forward(outputs, padMask: mask)
///     let dOutputs = try head.backward(outputGradient: dLogits)   // fills every head Parameter's grad
public final class PoolingLinearClassifier {
    public let pool: MaskedConcatPool
    public let blocks: [LinBnDrop]
    public var bptt: Int { pool.bptt }
    /// Training mode (dropouts, BatchNorm batch statistics) or eval mode.
    public var isTraining = true
    /// Random source of the blocks' dropout masks.
    public var rng: SeededGenerator

    /// - Parameters:
    ///   - embeddingSize: the encoder's output size E; the first block takes 3E features.
    ///   - hidden: `lin_ftrs` (fastai default `[50]`).
    ///   - dropouts: one per block; fastai uses `[output_p · drop_mult] + ps` with `ps` 0.1 each
    ///     (default here: `[0.4 · 0.5, 0.1, …]`, the classifier config with drop_mult 0.5).
    ///   - rng: draws the Linear weights, then the seed of the dropout generator.
    public init(embeddingSize: Int, hidden: [Int] = [50], classes: Int, dropouts: [Float]? = nil,
                bptt: Int, prefix: String = "1.layers", rng: inout SeededGenerator) {
        let dims = [3 * embeddingSize] + hidden + [classes]
        let ps = dropouts ?? ([0.4 * 0.5] + hidden.map { _ in Float(0.1) })
        precondition(ps.count == dims.count - 1, "need \(dims.count - 1) dropout values, got \(ps.count)")
        var made: [LinBnDrop] = []
        for j in 0 ..< dims.count - 1 {
            made.append(LinBnDrop(inputs: dims[j], outputs: dims[j + 1], p: ps[j], relu: j < dims.count - 2,
                                  prefix: "\(prefix).\(j)", rng: &rng))
        }
        blocks = made
        pool = MaskedConcatPool(bptt: bptt)
        self.rng = SeededGenerator(seed: rng.next())
    }

    /// Trainable parameters in fastai's `parameters()` order.
    public var parameters: [Parameter] {
        blocks.flatMap { [$0.batchNorm.weight, $0.batchNorm.bias, $0.linear] }
    }

    /// - Parameters:
    ///   - outputs: `[bs, T, E]` SentenceEncoder outputs.
    ///   - padMask: `[bs*T]`, true at padding.
    /// - Returns: logits `[bs, classes]`; each layer keeps what `backward` needs.
    public func forward(_ outputs: Tensor, padMask: [Bool]) throws -> Tensor {
        guard outputs.rank == 3, outputs.shape[2] * 3 == blocks[0].batchNorm.features else {
            throw ClassifierError("classifier head expects [bs, T, \(blocks[0].batchNorm.features / 3)] outputs, got \(outputs.shape)")
        }
        guard padMask.count == outputs.shape[0] * outputs.shape[1] else {
            throw ClassifierError("pad mask has \(padMask.count) entries for outputs \(outputs.shape)")
        }
        var x = pool.forward(outputs, padMask: padMask)
        for b in blocks { x = try b.forward(x, training: isTraining, rng: &rng) }
        return x
    }

    /// Pooled features `[bs, 3E]` of the last forward call.
    public var lastPooled: Tensor? { pool.lastPooled }

    /// Backward from dL/dlogits `[bs, classes]` through the last forward call: accumulates every
    /// head parameter's gradient and returns dL/doutputs `[bs, T, E]` for the encoder.
    public func backward(outputGradient dLogits: Tensor) throws -> Tensor {
        var g = dLogits
        for b in blocks.reversed() { g = try b.backward(outputGradient: g) }
        return try pool.backward(outputGradient: g)
    }
}

extension PoolingLinearClassifier: StateDictModel {
    /// Weights and BatchNorm buffers under fastai's state_dict keys, block by block.
    public var stateDictEntries: [StateDictEntry] {
        blocks.flatMap { $0.batchNorm.stateDictEntries + [StateDictEntry($0.linear.name, $0.linear.value, .parameter)] }
    }

    public func assign(checkedStateDict stateDict: [String: Tensor]) {
        for b in blocks {
            b.batchNorm.assign(checkedStateDict: stateDict)
            b.linear.value = stateDict[b.linear.name]!
        }
    }
}
