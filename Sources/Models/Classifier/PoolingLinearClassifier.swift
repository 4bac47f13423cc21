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
///     var rng = SeededGenerator(seed: 0)
///     let head = PoolingLinearClassifier(embeddingSize: 400, classes: 2, bptt: 72, rng: &rng)
///     let (logits, cache) = try head.forward(outputs, padMask: mask, training: true, rng: &rng)
///     let dOutputs = head.backward(dLogits, cache)   // fills every head Parameter's grad
public final class PoolingLinearClassifier {
    public let blocks: [LinBnDrop]
    public let bptt: Int

    /// - Parameters:
    ///   - embeddingSize: the encoder's output size E; the first block takes 3E features.
    ///   - hidden: `lin_ftrs` (fastai default `[50]`).
    ///   - dropouts: one per block; fastai uses `[output_p · drop_mult] + ps` with `ps` 0.1 each
    ///     (default here: `[0.4 · 0.5, 0.1, …]`, the classifier config with drop_mult 0.5).
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
        self.bptt = bptt
    }

    /// Trainable parameters in fastai's `parameters()` order.
    public var parameters: [Parameter] {
        blocks.flatMap { [$0.batchNorm.weight, $0.batchNorm.bias, $0.linear] }
    }

    /// Cache of one forward pass.
    public struct Cache: Sendable {
        public let pooled: Tensor
        let pool: MaskedConcatPool.Cache
        let padMask: [Bool]
        let blocks: [LinBnDrop.Cache]
    }

    /// - Parameters:
    ///   - outputs: `[bs, T, E]` SentenceEncoder outputs.
    ///   - padMask: `[bs*T]`, true at padding.
    /// - Returns: logits `[bs, classes]` and the cache (which also holds the pooled features).
    public func forward(_ outputs: Tensor, padMask: [Bool], training: Bool,
                        rng: inout SeededGenerator) throws -> (Tensor, Cache) {
        guard outputs.rank == 3, outputs.shape[2] * 3 == blocks[0].batchNorm.features else {
            throw ClassifierError("classifier head expects [bs, T, \(blocks[0].batchNorm.features / 3)] outputs, got \(outputs.shape)")
        }
        guard padMask.count == outputs.shape[0] * outputs.shape[1] else {
            throw ClassifierError("pad mask has \(padMask.count) entries for outputs \(outputs.shape)")
        }
        let (pooled, poolCache) = MaskedConcatPool.forward(outputs, padMask: padMask, bptt: bptt)
        var x = pooled
        var caches: [LinBnDrop.Cache] = []
        for b in blocks {
            let (y, c) = try b.forward(x, training: training, rng: &rng)
            caches.append(c)
            x = y
        }
        return (x, Cache(pooled: pooled, pool: poolCache, padMask: padMask, blocks: caches))
    }

    /// Backward from dL/dlogits `[bs, classes]`: accumulates every head parameter's gradient
    /// and returns dL/doutputs `[bs, T, E]` for the encoder.
    public func backward(_ dLogits: Tensor, _ cache: Cache) -> Tensor {
        var g = dLogits
        for (b, c) in zip(blocks, cache.blocks).reversed() { g = b.backward(g, c) }
        return MaskedConcatPool.backward(g, cache.pool, padMask: cache.padMask)
    }

    /// Weights and BatchNorm buffers under fastai's state_dict keys.
    public var stateDict: [String: Tensor] {
        var d: [String: Tensor] = [:]
        for b in blocks {
            d.merge(b.batchNorm.stateDict) { a, _ in a }
            d[b.linear.name] = b.linear.value
        }
        return d
    }

    /// Loads weights and buffers by fastai key (e.g. from `FastaiCheckpoint.model`); every head
    /// key must be present with the right shape. Keys of other modules are ignored.
    public func load(_ state: [String: Tensor]) throws {
        func take(_ key: String, _ shape: [Int]) throws -> Tensor {
            guard let t = state[key] else { throw ClassifierError("state dict lacks '\(key)'") }
            guard t.shape == shape else { throw ClassifierError("'\(key)' has shape \(t.shape), expected \(shape)") }
            return t
        }
        for b in blocks {
            let bn = b.batchNorm, c = [bn.features]
            bn.weight.value = try take(bn.prefix + ".weight", c)
            bn.bias.value = try take(bn.prefix + ".bias", c)
            bn.runningMean = try take(bn.prefix + ".running_mean", c)
            bn.runningVar = try take(bn.prefix + ".running_var", c)
            if let n = state[bn.prefix + ".num_batches_tracked"], n.count == 1 { bn.numBatchesTracked = Int(n.data[0]) }
            b.linear.value = try take(b.linear.name, b.linear.shape)
        }
    }
}
