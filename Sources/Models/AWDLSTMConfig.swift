/// Hyper-parameters of fastai's `AWD_LSTM` (fastai 2.8.12 `awd_lstm_lm_config` /
/// `awd_lstm_clas_config`).
///
///     let cfg = AWDLSTMConfig.languageModel.scaled(dropMult: 0.3)   // the book's LM
///     cfg.weightP   // 0.06
public struct AWDLSTMConfig: Equatable, Sendable {
    /// Embedding size `E` (also the last LSTM layer's hidden size).
    public var embSize: Int
    /// Hidden size `N` of every LSTM layer but the last.
    public var hiddenSize: Int
    /// Number of stacked LSTM layers.
    public var layers: Int
    /// Padding token id: its embedding row gets no gradient through the lookup.
    public var padToken: Int
    /// Dropout before the decoder (LM) / first head dropout (classifier).
    public var outputP: Float
    /// Dropout between LSTM layers (`RNNDropout`, one mask per sequence and feature).
    public var hiddenP: Float
    /// Dropout on the embedded inputs (`RNNDropout`).
    public var inputP: Float
    /// Whole-word embedding dropout (`EmbeddingDropout`).
    public var embedP: Float
    /// DropConnect on the hidden-to-hidden weights (`WeightDropout`).
    public var weightP: Float
    /// The decoder shares the embedding matrix.
    public var tieWeights: Bool
    /// The decoder has a bias.
    public var outBias: Bool

    public init(embSize: Int = 400, hiddenSize: Int = 1152, layers: Int = 3, padToken: Int = 1,
                outputP: Float = 0.1, hiddenP: Float = 0.15, inputP: Float = 0.25,
                embedP: Float = 0.02, weightP: Float = 0.2,
                tieWeights: Bool = true, outBias: Bool = true) {
        self.embSize = embSize
        self.hiddenSize = hiddenSize
        self.layers = layers
        self.padToken = padToken
        self.outputP = outputP
        self.hiddenP = hiddenP
        self.inputP = inputP
        self.embedP = embedP
        self.weightP = weightP
        self.tieWeights = tieWeights
        self.outBias = outBias
    }

    /// fastai's `awd_lstm_lm_config`: 400/1152/3, output .1, hidden .15, input .25, embed .02, weight .2.
    public static let languageModel = AWDLSTMConfig()

    /// fastai's `awd_lstm_clas_config`: 400/1152/3, output .4, hidden .3, input .4, embed .05, weight .5.
    public static let classifier = AWDLSTMConfig(outputP: 0.4, hiddenP: 0.3, inputP: 0.4,
                                                 embedP: 0.05, weightP: 0.5)

    /// The config with every `_p` entry multiplied by `dropMult`, as fastai does before building the model.
    public func scaled(dropMult: Float) -> AWDLSTMConfig {
        var c = self
        c.outputP *= dropMult
        c.hiddenP *= dropMult
        c.inputP *= dropMult
        c.embedP *= dropMult
        c.weightP *= dropMult
        return c
    }

    /// Hidden size of layer `l`: `hiddenSize`, except the last layer which is `embSize`.
    public func hiddenSize(ofLayer l: Int) -> Int { l == layers - 1 ? embSize : hiddenSize }

    /// Input size of layer `l`: `embSize` for the first layer, `hiddenSize` after.
    public func inputSize(ofLayer l: Int) -> Int { l == 0 ? embSize : hiddenSize }

    /// Checks sizes and probabilities; throws a `ModelError` naming the bad value.
    public func validate() throws {
        guard embSize > 0 else { throw ModelError("config: emb_sz must be positive, got \(embSize)") }
        guard hiddenSize > 0 else { throw ModelError("config: n_hid must be positive, got \(hiddenSize)") }
        guard layers > 0 else { throw ModelError("config: n_layers must be positive, got \(layers)") }
        for (name, p) in [("output_p", outputP), ("hidden_p", hiddenP), ("input_p", inputP),
                          ("embed_p", embedP), ("weight_p", weightP)] {
            guard p >= 0, p < 1 else { throw ModelError("config: \(name) must be in [0, 1), got \(p)") }
        }
    }
}

/// A model error with a one-line description naming what was wrong.
public struct ModelError: Error, CustomStringConvertible, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
