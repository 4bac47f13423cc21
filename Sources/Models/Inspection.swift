import Tensor

// Read-only views of what the last forward call computed, for tracing and teaching
// (`trace(learn, x, y)` in the REPL). They copy the internal time-major buffers into
// batch-first tensors, the layout PyTorch users know; none of this is on a hot path.
//
// Validity: every view describes the **last forward call** and is meant to be read right
// after it. The gates are overwritten by their gradients during backward, so `lastGates` is
// only meaningful between a forward call and the next backward. A mask is reported only when
// the last forward call drew it.

extension LSTMLayer {
    /// Time steps `T` and batch rows `bs` of the last forward call (0 before any call).
    public var lastCallShape: (steps: Int, batchSize: Int) { (steps, batch) }

    /// Activated gates of the last forward call, batch-first `[bs, T, 4H]`, in PyTorch's order
    /// along the last dimension: `i` (input, sigmoid), `f` (forget, sigmoid), `g` (cell
    /// candidate, tanh), `o` (output, sigmoid), each `H` wide. So for row `b` and step `t`,
    /// `c_t = f ⊙ c_{t−1} + i ⊙ g` and `h_t = o ⊙ tanh(c_t)`.
    /// Only valid before the next backward pass, which overwrites the buffer with gradients.
    ///
    ///     try lm.forward(x)
    ///     let gates = lm.encoder.layers[0].lastGates      // [bs, T, 4H]
    public var lastGates: Tensor {
        guard steps > 0, batch > 0 else { return Tensor.zeros([0, 0, 4 * hiddenSize]) }
        return batchFirstTensor(gates.pointer, T: steps, bs: batch, features: 4 * hiddenSize)
    }

    /// Hidden states of the last forward call, batch-first `[bs, T+1, H]`: step 0 is the state
    /// the call started from, step `t+1` the output at time `t`.
    public var lastHiddenStates: Tensor {
        guard batch > 0 else { return Tensor.zeros([0, 0, hiddenSize]) }
        return batchFirstTensor(hs.pointer, T: steps + 1, bs: batch, features: hiddenSize)
    }

    /// Cell states of the last forward call, `[bs, T+1, H]`, laid out as `lastHiddenStates`.
    public var lastCellStates: Tensor {
        guard batch > 0 else { return Tensor.zeros([0, 0, hiddenSize]) }
        return batchFirstTensor(cs.pointer, T: steps + 1, bs: batch, features: hiddenSize)
    }

    /// The DropConnect mask on `weight_hh` drawn by the last forward call, `[4H, H]`, each entry
    /// 0 or `1/(1−p)`; nil when that call drew none (eval mode, or `weightP` 0).
    public var lastWeightMask: Tensor? {
        let n = 4 * hiddenSize * hiddenSize
        guard maskUsed, steps > 0, weightMask.capacity >= n else { return nil }
        return Tensor(shape: [4 * hiddenSize, hiddenSize], data: weightMask.array(n))
    }
}

/// The dropout masks of an AWD-LSTM's last forward call. Every mask holds 0 (dropped) or
/// `1/(1−p)` (kept, rescaled), as fastai's `dropout_mask`; nil where that dropout was off.
public struct DropoutMasks {
    /// `EmbeddingDropout`: one entry per vocabulary row `[V]`; a 0 zeroes every occurrence of
    /// that token in the batch.
    public var embedding: Tensor?
    /// Input `RNNDropout` on the embeddings, `[bs, E]`: the same mask at every time step.
    public var input: Tensor?
    /// `RNNDropout` between layers: for each layer but the last, `[bs, H]`.
    public var hidden: [Tensor?]
    /// `WeightDropout` (DropConnect) on each layer's `weight_hh`, `[4H, H]`.
    public var weight: [Tensor?]
    /// The language model's output `RNNDropout` before the decoder, `[bs, E]` (nil for an encoder alone).
    public var output: Tensor?
}

extension AWDLSTM {
    /// Time steps and batch rows of the last forward call (0 before any call).
    public var lastCallShape: (steps: Int, batchSize: Int) { (steps, batch) }

    /// The dropout masks of the last forward call (see ``DropoutMasks``).
    public var lastDropoutMasks: DropoutMasks {
        let bs = batch, E = config.embSize
        func mask(_ buffer: FloatBuffer, _ used: Bool, _ shape: [Int]) -> Tensor? {
            let n = shape.reduce(1, *)
            guard used, steps > 0, n > 0, buffer.capacity >= n else { return nil }
            return Tensor(shape: shape, data: buffer.array(n))
        }
        return DropoutMasks(
            embedding: mask(embeddingMask, embeddingMaskUsed, [vocabSize]),
            input: mask(inputMask, inputMaskUsed, [bs, E]),
            hidden: hiddenMasks.enumerated().map { l, m in mask(m, hiddenMaskUsed[l], [bs, layers[l].hiddenSize]) },
            weight: layers.map(\.lastWeightMask),
            output: nil)
    }

    /// The input of layer `l` in the last forward call, `[bs, T, nIn]`: the embeddings after
    /// embedding and input dropout for layer 0, the previous layer's output after hidden dropout
    /// above it.
    public func lastInput(ofLayer l: Int) -> Tensor {
        if l == 0 { return batchFirstTensor(input(ofLayer: 0), T: steps, bs: batch, features: config.embSize) }
        return output(ofLayer: l - 1)
    }
}

extension LinearDecoder {
    /// The output dropout mask of the last forward call, `[bs, E]`; nil when no mask was drawn.
    public var lastOutputMask: Tensor? {
        let n = batch * embSize
        guard maskUsed, n > 0, mask.capacity >= n else { return nil }
        return Tensor(shape: [batch, embSize], data: mask.array(n))
    }

    /// The decoder's input after output dropout in the last forward call, `[bs, T, E]`.
    public var lastDropped: Tensor { batchFirstTensor(input, T: steps, bs: batch, features: embSize) }
}

extension AWDLSTMLanguageModel {
    /// Every dropout mask of the last forward call, the decoder's output dropout included.
    public var lastDropoutMasks: DropoutMasks {
        var m = encoder.lastDropoutMasks
        m.output = decoder.lastOutputMask
        return m
    }
}
