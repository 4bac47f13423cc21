import Tensor

/// How a model's parameters are divided into fastai parameter groups, and which of them skip
/// weight decay or keep training when frozen — given as data (name patterns), not code.
///
/// Patterns are matched against `Parameter.name`; `*` matches any run of characters
/// (dots included), everything else is literal. A parameter belongs to the first group with a
/// matching pattern. The same `Parameter` object appearing twice (tied weights) is kept once.
///
///     let split = ParameterSplit.awdLSTMLanguageModel(layers: 3)
///     let groups = try split.groups(of: model.parameters)   // 4 groups: rnn0, rnn1, rnn2, embedding+decoder
public struct ParameterSplit: Sendable, Equatable {
    /// One list of name patterns per group, first group first.
    public var groupPatterns: [[String]]
    /// Parameters that are never weight-decayed (fastai `wd_bn_bias=False`: norm layers and
    /// attributes named exactly `bias`).
    public var noWeightDecayPatterns: [String]
    /// Parameters that keep training when their group is frozen (fastai `train_bn=True`: norm layers).
    public var forceTrainPatterns: [String]

    public init(groupPatterns: [[String]], noWeightDecayPatterns: [String] = ["*.bias", "bias"],
                forceTrainPatterns: [String] = []) {
        self.groupPatterns = groupPatterns
        self.noWeightDecayPatterns = noWeightDecayPatterns
        self.forceTrainPatterns = forceTrainPatterns
    }

    /// fastai's `awd_lstm_lm_split`: one group per LSTM layer, then embedding (= tied decoder
    /// weight) with the decoder bias. Names are fastai's state-dict keys (`0.rnns.1.…`).
    public static func awdLSTMLanguageModel(layers: Int) -> ParameterSplit {
        var groups = (0..<layers).map { ["0.rnns.\($0).*"] }
        groups.append(["0.encoder.*", "0.encoder_dp.*", "1.decoder.*"])
        return ParameterSplit(groupPatterns: groups)
    }

    /// fastai's `awd_lstm_clas_split`: embedding, one group per LSTM layer, then the whole head.
    /// Head blocks are `1.layers.<i>.{0: BatchNorm1d, 1: Dropout, 2: Linear}`, so `1.layers.*.0.*`
    /// are the norm-layer parameters (no weight decay, always trained).
    public static func awdLSTMClassifier(layers: Int) -> ParameterSplit {
        var groups = [["0.module.encoder.*", "0.module.encoder_dp.*"]]
        groups += (0..<layers).map { ["0.module.rnns.\($0).*"] }
        groups.append(["1.*"])
        return ParameterSplit(groupPatterns: groups,
                              noWeightDecayPatterns: ["*.bias", "bias", "1.layers.*.0.*"],
                              forceTrainPatterns: ["1.layers.*.0.*"])
    }

    /// Every parameter in one group (fastai's default when a model has no splitter).
    public static let single = ParameterSplit(groupPatterns: [["*"]])

    /// The parameters divided into groups, in group order then model order.
    /// Throws if a parameter matches no group or a group ends up empty.
    public func groups(of parameters: [Parameter]) throws -> [[Parameter]] {
        var groups = [[Parameter]](repeating: [], count: groupPatterns.count)
        var seen = Set<ObjectIdentifier>()
        for p in parameters where seen.insert(ObjectIdentifier(p)).inserted {
            guard let g = groupPatterns.firstIndex(where: { pats in pats.contains { Self.matches(p.name, $0) } })
            else { throw LearnError.ungroupedParameter(p.name) }
            groups[g].append(p)
        }
        if let empty = groups.firstIndex(where: \.isEmpty) { throw LearnError.emptyGroup(empty) }
        return groups
    }

    /// Whether `parameter` is weight-decayed (fastai's `do_wd`).
    public func decays(_ name: String) -> Bool {
        !noWeightDecayPatterns.contains { Self.matches(name, $0) }
    }

    /// Whether `parameter` keeps training in a frozen group (fastai's `force_train`).
    public func forcesTraining(_ name: String) -> Bool {
        forceTrainPatterns.contains { Self.matches(name, $0) }
    }

    /// Glob match where `*` stands for any (possibly empty) run of characters.
    public static func matches(_ name: String, _ pattern: String) -> Bool {
        let n = Array(name.utf8), p = Array(pattern.utf8)
        var i = 0, j = 0, star = -1, mark = 0
        while i < n.count {
            if j < p.count, p[j] != UInt8(ascii: "*"), p[j] == n[i] { i += 1; j += 1 }
            else if j < p.count, p[j] == UInt8(ascii: "*") { star = j; mark = i; j += 1 }
            else if star >= 0 { j = star + 1; mark += 1; i = mark }
            else { return false }
        }
        while j < p.count, p[j] == UInt8(ascii: "*") { j += 1 }
        return j == p.count
    }
}
