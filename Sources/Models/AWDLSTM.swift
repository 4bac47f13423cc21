import Tensor

/// fastai's `AWD_LSTM` encoder: embedding (with `EmbeddingDropout`), input `RNNDropout`, a stack
/// of weight-dropped LSTM layers with `RNNDropout` between them, and a carried hidden state.
///
/// The language model puts a `LinearDecoder` on top; the classifier (later) wraps it in a
/// `SentenceEncoder`. Parameter names carry the prefix of the enclosing model (`"0."` in the LM,
/// so `0.encoder.weight`, `0.rnns.1.weight_hh_l0_raw`, …).
///
///     let enc = try AWDLSTM(config: cfg, vocabSize: 100, namePrefix: "", seed: 1)
///     let out = try enc.forward(try TokenBatch(rows: [[2, 5, 7]]))   // [1, 3, E]
public final class AWDLSTM {
    public let config: AWDLSTMConfig
    public let vocabSize: Int
    /// `encoder.weight [V, E]` (also `encoder_dp.emb.weight`; the LM's tied decoder weight).
    public let embedding: Parameter
    public let layers: [LSTMLayer]
    /// Prefix of every parameter name (`"0."` in the LM, `"0.module."` in the classifier, `""` alone).
    public let namePrefix: String
    /// Training mode: dropouts active. Eval: every dropout is the identity.
    public var isTraining = true
    /// Random source for every dropout mask of this encoder.
    public var rng: SeededGenerator

    // Last call, time-major: what `backward` reads (with each layer's caches), handed over as a
    // whole by `exchangeActivations`.
    private(set) var steps = 0
    private(set) var batch = 0
    private var ids: [Int] = []            // [T*bs] time-major
    private(set) var embeddingMask = FloatBuffer()   // [V]
    private(set) var embeddingMaskUsed = false
    private(set) var embedded = FloatBuffer()        // [T, bs, E] lookup output (after embedding dropout)
    private(set) var inputMask = FloatBuffer()       // [bs, E]
    private(set) var inputMaskUsed = false
    private(set) var layerInput0 = FloatBuffer()     // [T, bs, E] after input dropout, when a mask was drawn
    private(set) var hiddenMasks: [FloatBuffer]      // per layer but the last, [bs, H]
    private(set) var hiddenMaskUsed: [Bool]
    private(set) var layerOutputs: [FloatBuffer]     // per layer but the last, [T, bs, H] after hidden dropout (when drawn)
    private let gradA = FloatBuffer(), gradB = FloatBuffer()

    /// A freshly initialised encoder (fastai init: embedding U(−0.1, 0.1) on every row,
    /// LSTM weights U(−1/√H, 1/√H)).
    public convenience init(config: AWDLSTMConfig, vocabSize: Int, namePrefix: String = "", seed: UInt64) throws {
        var rng = SeededGenerator(seed: seed)
        try self.init(config: config, vocabSize: vocabSize, namePrefix: namePrefix, rng: &rng)
    }

    init(config: AWDLSTMConfig, vocabSize: Int, namePrefix: String, rng: inout SeededGenerator) throws {
        try config.validate()
        guard vocabSize > 0 else { throw ModelError("model: vocabulary size must be positive, got \(vocabSize)") }
        guard config.padToken >= 0 && config.padToken < vocabSize else {
            throw ModelError("model: pad token \(config.padToken) is outside the vocabulary 0..<\(vocabSize)")
        }
        self.config = config
        self.vocabSize = vocabSize
        self.namePrefix = namePrefix
        embedding = Parameter(namePrefix + "encoder.weight",
                              Tensor.uniform([vocabSize, config.embSize], low: -0.1, high: 0.1, using: &rng))
        var ls: [LSTMLayer] = []
        for l in 0..<config.layers {
            let layer = LSTMLayer(inputSize: config.inputSize(ofLayer: l), hiddenSize: config.hiddenSize(ofLayer: l),
                                  weightP: config.weightP, namePrefix: "\(namePrefix)rnns.\(l).")
            layer.initialize(using: &rng)
            ls.append(layer)
        }
        layers = ls
        hiddenMasks = (0..<max(config.layers - 1, 0)).map { _ in FloatBuffer() }
        hiddenMaskUsed = Array(repeating: false, count: max(config.layers - 1, 0))
        layerOutputs = (0..<max(config.layers - 1, 0)).map { _ in FloatBuffer() }
        self.rng = SeededGenerator(seed: rng.next())
        dropout = (config.embedP, config.inputP, config.hiddenP)
    }

    /// fastai's `named_parameters` order: embedding, then per layer raw W_hh, W_ih, b_ih, b_hh.
    public var parameters: [Parameter] { [embedding] + layers.flatMap(\.parameters) }

    /// Zeros every layer's carried state (fastai `reset()`).
    public func reset() { for l in layers { l.reset() } }

    /// The embedding, input and hidden dropout probabilities (`weight_p` lives on each layer).
    public let dropout: (embed: Float, input: Float, hidden: Float)

    // MARK: forward

    /// Runs the encoder on `x [bs, T]` from the carried state.
    /// - Returns: the last layer's output `[bs, T, E]` (before any output dropout).
    @discardableResult
    public func forward(_ x: TokenBatch) throws -> Tensor {
        try run(x)
        return batchFirstTensor(output, T: steps, bs: batch, features: config.embSize)
    }

    /// The forward pass proper; leaves the output time-major in `output`.
    func run(_ x: TokenBatch) throws {
        try x.validate(vocabSize: vocabSize)
        let T = x.seqLen, bs = x.batchSize, E = config.embSize, n = T * bs
        steps = T
        batch = bs
        ids = Array(repeating: 0, count: n)
        for b in 0..<bs { for t in 0..<T { ids[t * bs + b] = x.ids[b * T + t] } }

        // Embedding lookup, with whole-word dropout (one mask per vocabulary row, fresh every call).
        embeddingMaskUsed = isTraining && dropout.embed > 0
        if embeddingMaskUsed {
            embeddingMask.ensure(vocabSize)
            drawDropoutMask(embeddingMask.pointer, count: vocabSize, p: dropout.embed, rng: &rng)
        }
        embedded.ensure(n * E)
        embedding.withValue { w in
            EmbeddingDropout.forward(weight: w, ids: ids, mask: embeddingMaskUsed ? embeddingMask.pointer : nil, E: E,
                                     into: embedded.pointer)
        }
        // Input dropout: one [bs, E] mask for all time steps.
        inputMaskUsed = isTraining && dropout.input > 0
        if inputMaskUsed {
            layerInput0.ensure(n * E)
            applyRNNDropout(src: embedded.pointer, dst: layerInput0.pointer, mask: inputMask,
                            p: dropout.input, T: T, bs: bs, F: E)
        }
        for (l, layer) in layers.enumerated() {
            layer.forward(input(ofLayer: l), T: T, bs: bs, training: isTraining, rng: &rng)
            if l < layers.count - 1 {
                let H = layer.hiddenSize
                hiddenMaskUsed[l] = isTraining && dropout.hidden > 0
                if hiddenMaskUsed[l] {
                    layerOutputs[l].ensure(n * H)
                    applyRNNDropout(src: layer.output, dst: layerOutputs[l].pointer, mask: hiddenMasks[l],
                                    p: dropout.hidden, T: T, bs: bs, F: H)
                }
            }
        }
    }

    /// The input of layer `l` in the last call, time-major: the output of the dropout in front
    /// of it, or that dropout's source itself when no mask was drawn (eval: no copies).
    func input(ofLayer l: Int) -> UnsafePointer<Float> {
        if l == 0 { return UnsafePointer(inputMaskUsed ? layerInput0.pointer : embedded.pointer) }
        return UnsafePointer(hiddenMaskUsed[l - 1] ? layerOutputs[l - 1].pointer : layers[l - 1].output)
    }

    /// `RNNDropout`: `dst = src ⊙ mask[b, f]` with a fresh `[bs, F]` mask.
    private func applyRNNDropout(src: UnsafePointer<Float>, dst: UnsafeMutablePointer<Float>, mask: FloatBuffer,
                                 p: Float, T: Int, bs: Int, F: Int) {
        mask.ensure(bs * F)
        drawDropoutMask(mask.pointer, count: bs * F, p: p, rng: &rng)
        RNNDropout.apply(src, mask: mask.pointer, into: dst, T: T, bs: bs, F: F)
    }

    /// The last layer's output of the last call, time-major `[T, bs, E]`.
    var output: UnsafeMutablePointer<Float> { layers[layers.count - 1].output }

    // MARK: backward

    /// Backpropagates a gradient w.r.t. the last forward call's output, time-major `[T, bs, E]`
    /// (destroyed), accumulating into every parameter that requires a gradient.
    func backward(dOutput: UnsafeMutablePointer<Float>) {
        let T = steps, bs = batch, n = T * bs, E = config.embSize
        let widest = max(config.embSize, config.hiddenSize)
        gradA.ensure(n * widest)
        gradB.ensure(n * widest)
        var dOut = dOutput
        var spare = gradA.pointer
        for l in stride(from: layers.count - 1, through: 0, by: -1) {
            let layer = layers[l]
            let x = input(ofLayer: l)
            // Stop once nothing below this layer trains (frozen groups in gradual unfreezing).
            let needInput = embedding.requiresGrad
                || layers[..<l].contains { $0.parameters.contains(where: \.requiresGrad) }
            let dIn = spare
            layer.backward(dOutput: dOut, x: x, dInput: needInput ? dIn : nil)
            guard needInput else { return }
            // Through the dropout that produced this layer's input.
            let F = layer.inputSize
            let (mask, used) = l == 0 ? (inputMask, inputMaskUsed) : (hiddenMasks[l - 1], hiddenMaskUsed[l - 1])
            if used { RNNDropout.apply(dIn, mask: mask.pointer, into: dIn, T: T, bs: bs, F: F) }
            spare = (dIn == gradA.pointer) ? gradB.pointer : gradA.pointer
            dOut = dIn
        }
        // Embedding lookup: scatter-add, no gradient for the padding row (PyTorch padding_idx),
        // scaled by the embedding-dropout mask of the row.
        embedding.withGrad { g in
            EmbeddingDropout.backward(dOutput: dOut, ids: ids, mask: embeddingMaskUsed ? embeddingMask.pointer : nil,
                                      padToken: config.padToken, E: E, into: g)
        }
    }

    /// Backpropagates `outputGradient [bs, T, E]` (batch-first) through the last forward call.
    public func backward(outputGradient: Tensor) throws {
        let E = config.embSize
        guard outputGradient.shape == [batch, steps, E] else {
            throw ModelError("encoder backward: gradient shape \(outputGradient.shape) does not match the last output [\(batch), \(steps), \(E)]")
        }
        let buf = FloatBuffer(batch * steps * E)
        outputGradient.data.withUnsafeBufferPointer { src in
            copyToTimeMajor(src.baseAddress!, buf.pointer, T: steps, bs: batch, features: E)
        }
        backward(dOutput: buf.pointer)
    }

    // MARK: inspection

    /// Embedding output of the last call `[bs, T, E]` (after embedding dropout, before input dropout).
    public var embeddingOutput: Tensor { batchFirstTensor(embedded.pointer, T: steps, bs: batch, features: config.embSize) }

    /// Raw output of layer `l` in the last call, `[bs, T, H_l]` (before hidden dropout).
    public func rawOutput(ofLayer l: Int) -> Tensor {
        batchFirstTensor(layers[l].output, T: steps, bs: batch, features: layers[l].hiddenSize)
    }

    /// Output of layer `l` after hidden dropout (`[bs, T, H_l]`); the last layer has none, so its raw output.
    public func output(ofLayer l: Int) -> Tensor {
        guard l < layers.count - 1 else { return rawOutput(ofLayer: l) }
        return batchFirstTensor(input(ofLayer: l + 1), T: steps, bs: batch, features: layers[l].hiddenSize)
    }

    /// Everything a later call depends on: the carried state of every layer and the dropout
    /// generator. Restoring a snapshot and running the same input again recomputes exactly the
    /// same activations and masks, e.g. to backpropagate through an earlier chunk of a
    /// `SentenceEncoder` by recomputation (the state is detached between chunks anyway).
    public struct Snapshot {
        public let batchSize: Int
        public let h: [[Float]]
        public let c: [[Float]]
        public let rng: SeededGenerator
    }

    /// The current state and generator.
    public func snapshot() -> Snapshot {
        let bs = layers[0].stateBatch
        return Snapshot(batchSize: bs,
                        h: layers.map { $0.h0.array($0.stateBatch * $0.hiddenSize) },
                        c: layers.map { $0.c0.array($0.stateBatch * $0.hiddenSize) },
                        rng: rng)
    }

    /// Puts back a state and generator taken with `snapshot()`.
    public func restore(_ s: Snapshot) {
        for (l, layer) in layers.enumerated() { layer.setState(h: s.h[l], c: s.c[l], batchSize: s.batchSize) }
        rng = s.rng
    }

    /// Everything `backward` reads of one forward call: the lookup, the dropout masks and every
    /// layer's gates and states. A `SentenceEncoder` keeps one per chunk so that its backward
    /// does not run the chunks again.
    public struct Activations {
        fileprivate var steps = 0, batch = 0
        fileprivate var ids: [Int] = []
        fileprivate var embeddingMask = FloatBuffer(), embedded = FloatBuffer(), inputMask = FloatBuffer()
        fileprivate var layerInput0 = FloatBuffer()
        fileprivate var embeddingMaskUsed = false, inputMaskUsed = false
        fileprivate var hiddenMasks: [FloatBuffer] = [], layerOutputs: [FloatBuffer] = []
        fileprivate var hiddenMaskUsed: [Bool] = []
        fileprivate var layers: [LSTMLayer.Activations] = []

        /// Empty buffers, for a forward call to fill.
        public init() {}

        /// The memory the buffers hold.
        public var bytes: Int {
            let buffers = [embeddingMask, embedded, inputMask, layerInput0] + hiddenMasks + layerOutputs
            return 4 * buffers.reduce(0) { $0 + $1.capacity } + 8 * ids.capacity + layers.reduce(0) { $0 + $1.bytes }
        }
    }

    /// Installs `other` as the activations of the last forward call (so `backward` runs
    /// through that call) and returns the ones the encoder held. The carried state and the
    /// generator are not part of it (see `snapshot`).
    public func exchangeActivations(_ other: Activations) -> Activations {
        let n = max(config.layers - 1, 0)
        var mine = Activations()
        (mine.steps, mine.batch, mine.ids) = (steps, batch, ids)
        (mine.embeddingMask, mine.embedded, mine.inputMask, mine.layerInput0) = (embeddingMask, embedded, inputMask, layerInput0)
        (mine.embeddingMaskUsed, mine.inputMaskUsed) = (embeddingMaskUsed, inputMaskUsed)
        (mine.hiddenMasks, mine.layerOutputs, mine.hiddenMaskUsed) = (hiddenMasks, layerOutputs, hiddenMaskUsed)
        mine.layers = layers.enumerated().map { l, layer in
            layer.exchangeActivations(l < other.layers.count ? other.layers[l] : LSTMLayer.Activations())
        }
        (steps, batch, ids) = (other.steps, other.batch, other.ids)
        embeddingMask = other.embeddingMask; embedded = other.embedded
        inputMask = other.inputMask; layerInput0 = other.layerInput0
        (embeddingMaskUsed, inputMaskUsed) = (other.embeddingMaskUsed, other.inputMaskUsed)
        // Empty activations (a fresh set) get one buffer per dropout between layers.
        hiddenMasks = other.hiddenMasks.count == n ? other.hiddenMasks : (0..<n).map { _ in FloatBuffer() }
        layerOutputs = other.layerOutputs.count == n ? other.layerOutputs : (0..<n).map { _ in FloatBuffer() }
        hiddenMaskUsed = other.hiddenMaskUsed.count == n ? other.hiddenMaskUsed : Array(repeating: false, count: n)
        return mine
    }

    /// Carried `(h, c)` of every layer, each `[1, bs, H_l]`.
    public var hiddenState: [(h: Tensor, c: Tensor)] { layers.map(\.state) }
}

extension AWDLSTM: StateDictModel {
    /// The encoder's state dict in fastai's order (`encoder.weight`, its alias
    /// `encoder_dp.emb.weight`, then per layer `rnns.l.…`), with `namePrefix`; fastai's
    /// `save_encoder` writes it with an empty prefix.
    public var stateDictEntries: [StateDictEntry] {
        [StateDictEntry(embedding.name, embedding.value, .parameter),
         StateDictEntry(namePrefix + "encoder_dp.emb.weight", embedding.value, .alias(of: embedding.name))]
            + layers.flatMap { $0.parameters.map { StateDictEntry($0.name, $0.value, .parameter) } }
    }

    public func assign(checkedStateDict stateDict: [String: Tensor]) {
        for p in parameters { p.value = stateDict[p.name]! }
    }
}
