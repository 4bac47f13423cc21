import Foundation
import Tensor

/// fastai's text classifier, `SequentialRNN(SentenceEncoder(AWD_LSTM), PoolingLinearClassifier)`,
/// with forward, cross-entropy (+ AR/TAR on the encoder outputs, as TextLearner does) and backward.
///
/// Parameter names are fastai's classifier state-dict keys: `0.module.encoder.weight`,
/// `0.module.rnns.<l>.…`, `1.layers.<j>.<k>.…`.
///
///     let clas = try TextClassifierModel(config: .classifier.scaled(dropMult: 0.5), vocabSize: v, classes: 2)
///     let loss = try clas.lossAndBackward(x: x, y: labels, arAlpha: 2, tarBeta: 1)
public final class TextClassifierModel {
    public let config: AWDLSTMConfig
    public let vocabSize: Int
    public let classes: Int
    public let encoder: SentenceEncoder
    public let head: PoolingLinearClassifier
    private var lastOutputs: Tensor?

    /// - Parameters:
    ///   - config: the encoder config, already scaled by `drop_mult` (its `outputP` is the
    ///     first head dropout; the others are 0.1 each, not scaled, as fastai).
    ///   - bptt: chunk length (fastai `seq_len`, 72); `maxLen` defaults to `20·bptt`.
    ///   - linFtrs: hidden sizes of the head (fastai default `[50]`).
    public init(config: AWDLSTMConfig, vocabSize: Int, classes: Int, bptt: Int = 72, maxLen: Int? = nil,
                linFtrs: [Int] = [50], seed: UInt64 = 0) throws {
        guard classes >= 1 else { throw ModelError("classifier: need at least one class, got \(classes)") }
        guard bptt >= 1 else { throw ModelError("classifier: bptt must be positive, got \(bptt)") }
        guard linFtrs.allSatisfy({ $0 > 0 }) else { throw ModelError("classifier: lin_ftrs must be positive, got \(linFtrs)") }
        var r = SeededGenerator(seed: seed)
        self.config = config
        self.vocabSize = vocabSize
        self.classes = classes
        let awd = try AWDLSTM(config: config, vocabSize: vocabSize, namePrefix: "0.module.", rng: &r)
        encoder = SentenceEncoder(module: awd, bptt: bptt, maxLen: maxLen ?? 20 * bptt)
        head = PoolingLinearClassifier(embeddingSize: config.embSize, hidden: linFtrs, classes: classes,
                                       dropouts: [config.outputP] + linFtrs.map { _ in Float(0.1) },
                                       bptt: bptt, rng: &r)
    }

    /// Training mode (dropouts, BatchNorm batch statistics) or eval mode.
    public var isTraining: Bool = true {
        didSet { encoder.module.isTraining = isTraining; head.isTraining = isTraining }
    }

    /// fastai's `named_parameters` order: encoder, then head.
    public var parameters: [Parameter] { encoder.module.parameters + head.parameters }

    /// The parameter with this fastai name (`0.module.encoder_dp.emb.weight` resolves to the embedding).
    public func parameter(named name: String) -> Parameter? {
        if name == "0.module.encoder_dp.emb.weight" { return encoder.module.embedding }
        return parameters.first { $0.name == name }
    }

    /// Resets the encoder state (the SentenceEncoder also resets at every forward).
    public func reset() { encoder.module.reset() }

    // MARK: forward / backward

    /// Logits `[bs, classes]` for a padded batch; keeps what `backward` needs.
    public func forward(_ x: TokenBatch) throws -> Tensor {
        try forward(x, keepsActivations: false)
    }

    /// `keepsActivations`: the encoder keeps its chunks' activations for a backward.
    /// The head's small products run inside the same `WorkSplit` scope as the encoder, so with
    /// OpenBLAS single-threaded: a threaded `sgemm` there woke OpenBLAS's own worker, which then
    /// spun in `sched_yield` for about 0.1 s after every call, taking 8% of both cores from the
    /// encoder's workers (perf, `bench clas`).
    private func forward(_ x: TokenBatch, keepsActivations: Bool) throws -> Tensor {
        try WorkSplit.run { _ in
            let (outs, mask) = try encoder.forward(x, keepsActivations: keepsActivations)
            let logits = try head.forward(outs, padMask: mask)
            lastOutputs = outs
            return logits
        }
    }

    /// Pooled features `[bs, 3E]` of the last forward.
    public var lastPooled: Tensor? { head.lastPooled }
    /// SentenceEncoder outputs `[bs, T', E]` of the last forward.
    public var lastEncoderOutputs: Tensor? { lastOutputs }

    /// Mean cross-entropy of `y` (one class id per row) under the last forward's logits, and its
    /// gradient w.r.t. the logits.
    public static func crossEntropy(logits: Tensor, targets y: [Int]) throws -> (loss: Float, grad: Tensor) {
        let bs = logits.shape[0], c = logits.shape[1]
        guard y.count == bs else { throw ModelError("classifier: \(y.count) targets for \(bs) rows") }
        if let bad = y.first(where: { $0 < 0 || $0 >= c }) {
            throw ModelError("classifier: target \(bad) outside 0..<\(c)")
        }
        var g = logits
        var total = 0.0
        g.data.withUnsafeMutableBufferPointer { p in
            for b in 0..<bs {
                total += Softmax.crossEntropyBackward(p.baseAddress! + b * c, count: c, target: y[b], scale: 1 / Float(bs))
            }
        }
        return (Float(total / Double(bs)), g)
    }

    /// Forward + backward on one batch: returns the mean cross-entropy and **accumulates** the
    /// gradient of `CE + α·mean(outs²) + β·mean(Δ_t outs²)` into every parameter that requires it
    /// (AR and TAR act on the kept encoder outputs, as fastai's callbacks on the classifier; TAR
    /// is skipped for a single-row batch, fastai's quirk).
    @discardableResult
    public func lossAndBackward(x: TokenBatch, y: [Int], arAlpha: Float = 0, tarBeta: Float = 0) throws -> Float {
        try WorkSplit.run { _ in try lossAndBackwardInScope(x: x, y: y, arAlpha: arAlpha, tarBeta: tarBeta) }
    }

    private func lossAndBackwardInScope(x: TokenBatch, y: [Int], arAlpha: Float, tarBeta: Float) throws -> Float {
        // A frozen encoder (the head-only stage of gradual unfreezing) takes no gradient, and AR
        // and TAR act only through it: its backward would change nothing (it leaves the state
        // and the generator as it found them), so its activations are not kept either.
        let encoderTrains = encoder.module.parameters.contains(where: \.requiresGrad)
        let logits = try forward(x, keepsActivations: encoderTrains)
        let (loss, dLogits) = try Self.crossEntropy(logits: logits, targets: y)
        guard let outs = lastOutputs else { throw ModelError("classifier: no forward state") }
        var dOuts = try head.backward(outputGradient: dLogits)
        guard encoderTrains else { return loss }
        let bs = outs.shape[0], T = outs.shape[1], E = outs.shape[2], n = bs * T * E
        if arAlpha != 0 && n > 0 {
            let k = 2 * arAlpha / Float(n)
            for i in 0..<n { dOuts.data[i] += k * outs.data[i] }
        }
        if tarBeta != 0 && bs > 1 && T > 1 {
            let k = 2 * tarBeta / Float(bs * (T - 1) * E)
            outs.data.withUnsafeBufferPointer { o in
                dOuts.data.withUnsafeMutableBufferPointer { d in
                    for b in 0..<bs {
                        for t in 1..<T {
                            let cur = (b * T + t) * E, prev = cur - E
                            for f in 0..<E {
                                let diff = k * (o[cur + f] - o[prev + f])
                                d[cur + f] += diff
                                d[prev + f] -= diff
                            }
                        }
                    }
                }
            }
        }
        try encoder.backward(outputGradient: dOuts)
        return loss
    }

    // MARK: weights

    /// Loads only the encoder weights given under LM names (`0.encoder.weight`, `0.rnns.…`),
    /// as fastai's `load_encoder` (the LM's `encoder` state dict), through the same check as
    /// every state dict. LMLab's encoder files hold the parameters only, so the embedding's
    /// alias `0.encoder_dp.emb.weight` may be absent (it is the same tensor).
    public func loadEncoder(lmStateDict: [String: Tensor], source: String? = nil) throws {
        let module = encoder.module
        func lmName(_ name: String) -> String { "0." + name.dropFirst(module.namePrefix.count) }
        let entries = module.stateDictEntries.map { e -> StateDictEntry in
            if case .alias(let of) = e.role { return StateDictEntry(lmName(e.name), e.tensor, .alias(of: lmName(of))) }
            return StateDictEntry(lmName(e.name), e.tensor, e.role)
        }
        var given = lmStateDict
        let alias = lmName(module.namePrefix + "encoder_dp.emb.weight")
        if given[alias] == nil { given[alias] = given[lmName(module.embedding.name)] }
        try StateDictEntry.check(given, against: entries, source: source)
        for p in module.parameters { p.value = given[lmName(p.name)]! }
    }
}

extension TextClassifierModel: StateDictModel {
    /// fastai's `state_dict()`: the encoder's entries (`0.module.…`, the embedding alias
    /// included), then the head's (`1.layers.…`, BatchNorm buffers beside their weights).
    public var stateDictEntries: [StateDictEntry] { encoder.module.stateDictEntries + head.stateDictEntries }

    public func assign(checkedStateDict stateDict: [String: Tensor]) {
        encoder.module.assign(checkedStateDict: stateDict)
        head.assign(checkedStateDict: stateDict)
    }
}
