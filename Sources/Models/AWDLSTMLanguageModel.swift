import Foundation
import Tensor

/// What the language model returns for a batch, as fastai's `(logits, raw, dropped)` triple.
public struct LMOutput {
    /// `[bs, T, V]`
    public var logits: Tensor
    /// Last LSTM layer's output before output dropout, `[bs, T, E]` (for TAR).
    public var raw: Tensor
    /// The same after output dropout, `[bs, T, E]` (for AR).
    public var dropped: Tensor
}

/// The terms of a training loss (fastai's `RNNRegularizer` adds AR/TAR after the loss function).
public struct LMLoss: Equatable, Sendable {
    /// Mean cross-entropy over all `bs·T` positions (the reported loss).
    public var crossEntropy: Float
    /// `α · mean(dropped²)`.
    public var ar: Float
    /// `β · mean((raw[:,1:] − raw[:,:-1])²)`; 0 when the batch has one row (fastai quirk) or one step.
    public var tar: Float
    /// The loss the gradient was taken of.
    public var total: Float { crossEntropy + ar + tar }
}

/// fastai's AWD-LSTM language model, `SequentialRNN(AWD_LSTM, LinearDecoder)`, in pure Swift + BLAS.
///
/// Parameters are named like fastai's `state_dict`, so fastai weights load directly and every
/// gradient can be looked up by name. The hidden state is carried from call to call (truncated
/// BPTT) until `reset()`.
///
///     let lm = try AWDLSTMLanguageModel(config: .languageModel.scaled(dropMult: 0.3), vocabSize: 60_008, seed: 42)
///     lm.reset()
///     let loss = try lm.lossAndBackward(x: x, y: y, arAlpha: 2, tarBeta: 1)   // grads in lm.parameters
///     lm.parameter(named: "0.rnns.0.weight_hh_l0_raw")?.grad
public final class AWDLSTMLanguageModel {
    public let config: AWDLSTMConfig
    public let vocabSize: Int
    /// The encoder (`0.` prefix).
    public let encoder: AWDLSTM
    /// The decoder (`1.` prefix); its weight is `encoder.embedding` when tied.
    public let decoder: LinearDecoder
    /// Loss terms of the last `lossAndBackward` call.
    public private(set) var lastLoss = LMLoss(crossEntropy: 0, ar: 0, tar: 0)
    private let dBuffer = FloatBuffer()
    private let logitBuffer = FloatBuffer()

    /// A freshly initialised model (fastai init; decoder bias 0). Dropout masks come from
    /// generators derived from `seed`.
    public init(config: AWDLSTMConfig = .languageModel, vocabSize: Int, seed: UInt64 = 0) throws {
        var rng = SeededGenerator(seed: seed)
        self.config = config
        self.vocabSize = vocabSize
        encoder = try AWDLSTM(config: config, vocabSize: vocabSize, namePrefix: "0.", rng: &rng)
        let weight = config.tieWeights
            ? encoder.embedding
            : Parameter("1.decoder.weight", Tensor.uniform([vocabSize, config.embSize], low: -0.1, high: 0.1, using: &rng))
        let bias = config.outBias ? Parameter("1.decoder.bias", Tensor.zeros([vocabSize])) : nil
        decoder = LinearDecoder(weight: weight, bias: bias, outputP: config.outputP,
                                rng: SeededGenerator(seed: rng.next()))
    }

    /// Training mode (dropouts active) or eval mode.
    public var isTraining: Bool {
        get { encoder.isTraining }
        set { encoder.isTraining = newValue; decoder.isTraining = newValue }
    }

    /// fastai's `named_parameters` order (the tied matrix once, as `0.encoder.weight`).
    public var parameters: [Parameter] {
        var ps = encoder.parameters
        if !config.tieWeights { ps.append(decoder.weight) }
        if let b = decoder.bias { ps.append(b) }
        return ps
    }

    /// fastai's `awd_lstm_lm_split`: one group per LSTM layer, then `[embedding (= tied decoder
    /// weight), decoder bias]` (the embedding sits in the **last** group, with the decoder).
    public var parameterGroups: [[Parameter]] {
        var last = [encoder.embedding]
        if !config.tieWeights { last.append(decoder.weight) }
        if let b = decoder.bias { last.append(b) }
        return encoder.layers.map(\.parameters) + [last]
    }

    /// The parameter with this fastai name (aliases of the tied matrix resolve to it).
    public func parameter(named name: String) -> Parameter? {
        if config.tieWeights, name == "1.decoder.weight" || name == "0.encoder_dp.emb.weight" {
            return encoder.embedding
        }
        if name == "0.encoder_dp.emb.weight" { return encoder.embedding }
        return parameters.first { $0.name == name }
    }

    /// Zeros the carried hidden state of every layer.
    public func reset() { encoder.reset() }

    /// Sets every gradient to zero.
    public func zeroGrad() { for p in parameters { p.zeroGrad() } }

    // MARK: forward

    /// Logits, raw and dropped outputs for `x [bs, T]`, continuing from the carried state.
    /// This materialises the full `[bs, T, V]` logits (1.1 GB for 64×72 at V = 60k): training and
    /// validation should use `lossAndBackward` / `loss`, which never do.
    public func forward(_ x: TokenBatch) throws -> LMOutput {
        try encoder.run(x)
        let T = x.seqLen, bs = x.batchSize, V = vocabSize, E = config.embSize
        decoder.applyDropout(raw: encoder.output, T: T, bs: bs)
        logitBuffer.ensure(T * bs * V)
        decoder.logits(rows: 0..<(T * bs), into: logitBuffer.pointer)
        return LMOutput(logits: batchFirstTensor(logitBuffer.pointer, T: T, bs: bs, features: V),
                        raw: batchFirstTensor(encoder.output, T: T, bs: bs, features: E),
                        dropped: batchFirstTensor(decoder.input, T: T, bs: bs, features: E))
    }

    /// Mean cross-entropy of predicting `y` from `x` (no gradient), continuing from the carried state.
    public func loss(x: TokenBatch, y: TokenBatch) throws -> Float {
        let targets = try prepare(x: x, y: y)
        return Float(decoder.crossEntropy(targets: targets, gradScale: 0, dDropped: nil).loss / Double(targets.count))
    }

    /// Mean cross-entropy and accuracy (fraction of positions whose largest logit is the target,
    /// first maximal index as torch.argmax) of predicting `y` from `x`, without gradient and
    /// without materialising the logits: the decoder's blocked, multi-threaded loss.
    public func lossAndAccuracy(x: TokenBatch, y: TokenBatch) throws -> (loss: Float, accuracy: Float) {
        let targets = try prepare(x: x, y: y)
        let (total, correct) = decoder.crossEntropy(targets: targets, gradScale: 0, dDropped: nil, countCorrect: true)
        return (Float(total / Double(targets.count)), Float(correct) / Float(targets.count))
    }

    /// Forward and backward on one batch: returns the mean cross-entropy and **accumulates** the
    /// gradient of `CE + AR + TAR` into `Parameter.grad` of every parameter that requires it.
    /// `arAlpha`/`tarBeta` are fastai's `alpha`/`beta` (TextLearner uses 2 and 1; 0 turns a term off).
    /// All terms are in `lastLoss`.
    @discardableResult
    public func lossAndBackward(x: TokenBatch, y: TokenBatch, arAlpha: Float = 0, tarBeta: Float = 0) throws -> Float {
        let terms = try evaluate(x: x, y: y, arAlpha: arAlpha, tarBeta: tarBeta, backward: true)
        lastLoss = terms
        return terms.crossEntropy
    }

    /// The loss terms of one batch without any gradient (dropout follows `isTraining`).
    public func lossTerms(x: TokenBatch, y: TokenBatch, arAlpha: Float = 0, tarBeta: Float = 0) throws -> LMLoss {
        try evaluate(x: x, y: y, arAlpha: arAlpha, tarBeta: tarBeta, backward: false)
    }

    private func evaluate(x: TokenBatch, y: TokenBatch, arAlpha: Float, tarBeta: Float, backward: Bool) throws -> LMLoss {
        let targets = try prepare(x: x, y: y)
        let T = x.seqLen, bs = x.batchSize, E = config.embSize, n = T * bs
        dBuffer.ensure(n * E)
        let d = dBuffer.pointer
        let ce = decoder.crossEntropy(targets: targets, gradScale: 1 / Float(n), dDropped: backward ? d : nil).loss / Double(n)

        // AR on the dropped output: α·mean(dropped²) → d dropped += 2α·dropped/(n·E).
        var ar = 0.0
        if arAlpha != 0 {
            let dr = decoder.input
            let k = 2 * arAlpha / Float(n * E)
            var s = 0.0
            for i in 0..<(n * E) {
                s += Double(dr[i] * dr[i])
                if backward { d[i] += k * dr[i] }
            }
            ar = Double(arAlpha) * s / Double(n * E)
        }
        if backward { decoder.backwardDropout(d) }
        // TAR on the raw output, differences along time; skipped for one row (fastai tests len(h) > 1
        // on the batch dimension) and for one step (no differences).
        var tar = 0.0
        if tarBeta != 0 && bs > 1 && T > 1 {
            let raw = encoder.output
            let count = bs * (T - 1) * E
            let k = 2 * tarBeta / Float(count)
            var s = 0.0
            for t in 1..<T {
                for i in 0..<(bs * E) {
                    let cur = t * bs * E + i, prev = (t - 1) * bs * E + i
                    let diff = raw[cur] - raw[prev]
                    s += Double(diff * diff)
                    if backward {
                        d[cur] += k * diff
                        d[prev] -= k * diff
                    }
                }
            }
            tar = Double(tarBeta) * s / Double(count)
        }
        if backward { encoder.backward(dOutput: d) }
        return LMLoss(crossEntropy: Float(ce), ar: Float(ar), tar: Float(tar))
    }

    /// Runs encoder and output dropout, validating targets; returns targets in time-major row order.
    private func prepare(x: TokenBatch, y: TokenBatch) throws -> [Int] {
        guard x.batchSize == y.batchSize && x.seqLen == y.seqLen else {
            throw ModelError("language model: targets shape [\(y.batchSize), \(y.seqLen)] differs from inputs [\(x.batchSize), \(x.seqLen)]")
        }
        try y.validate(vocabSize: vocabSize, role: "target")
        try encoder.run(x)
        let T = x.seqLen, bs = x.batchSize
        decoder.applyDropout(raw: encoder.output, T: T, bs: bs)
        var targets = [Int](repeating: 0, count: T * bs)
        for b in 0..<bs { for t in 0..<T { targets[t * bs + b] = y.ids[b * T + t] } }
        return targets
    }

    // MARK: generation

    /// Feeds `tokens` as a batch of one, continuing the carried state, and returns the logits at
    /// the last position (`[V]`). Call `reset()` first to start from an empty state; feed one token
    /// at a time afterwards to continue.
    public func nextTokenLogits(for tokens: [Int]) throws -> [Float] {
        guard !tokens.isEmpty else { throw ModelError("language model: no tokens to feed") }
        let x = TokenBatch(batchSize: 1, seqLen: tokens.count, ids: tokens)
        try encoder.run(x)
        decoder.applyDropout(raw: encoder.output, T: tokens.count, bs: 1)
        logitBuffer.ensure(vocabSize)
        decoder.logits(rows: (tokens.count - 1)..<tokens.count, into: logitBuffer.pointer)
        return logitBuffer.array(vocabSize)
    }

    // MARK: inspection and cost

    /// Multiply-adds ×2 of one forward pass over `tokens` positions (LSTM GEMMs + decoder).
    public func forwardFlops(tokens: Int) -> Double {
        var f = 2.0 * Double(tokens) * Double(vocabSize) * Double(config.embSize)
        for l in encoder.layers {
            f += 2.0 * Double(tokens) * Double(4 * l.hiddenSize) * Double(l.inputSize + l.hiddenSize)
        }
        return f
    }
}

extension AWDLSTMLanguageModel: StateDictModel {
    /// fastai's `state_dict()`: the encoder's entries, then the decoder's; the tied decoder
    /// weight is an alias of `0.encoder.weight`.
    public var stateDictEntries: [StateDictEntry] {
        var entries = encoder.stateDictEntries
        let w = decoder.weight
        entries.append(config.tieWeights ? StateDictEntry("1.decoder.weight", w.value, .alias(of: encoder.embedding.name))
                                         : StateDictEntry(w.name, w.value, .parameter))
        if let b = decoder.bias { entries.append(StateDictEntry(b.name, b.value, .parameter)) }
        return entries
    }

    public func assign(checkedStateDict stateDict: [String: Tensor]) {
        for p in parameters { p.value = stateDict[p.name]! }
    }
}
