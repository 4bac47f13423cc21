import Foundation
import Tensor
import Text

/// A language model seen from text generation: stateful, fed ids, returns the logits for the next
/// token. In eval mode; fastai re-feeds the whole sequence after a reset at each step, which gives
/// the same distribution as feeding only the new ids (../shared/spec/training.md 7).
public protocol NextTokenPredictor: AnyObject {
    /// Clears the hidden state.
    func reset()
    /// Feeds `ids` (continuing the current state) and returns the logits `[V]` after the last one.
    func nextLogits(feeding ids: [Int]) throws -> [Float]
}

/// Options of fastai's `LMLearner.predict`.
public struct GenerationOptions: Sendable {
    /// Number of tokens to generate.
    public var nWords: Int
    /// Removes `xxunk` from the distribution.
    public var noUnk: Bool
    /// Probabilities are raised to `1/temperature`; 0 means greedy (argmax).
    public var temperature: Double
    /// Zeroes probabilities below this (unless that removes all).
    public var minP: Float?
    /// How rule tokens are decoded in the text.
    public var decoding: SpecTokenDecoding
    /// The model was trained on reversed documents (fastai's `backwards=True`): the prompt is fed
    /// last token first, the model writes what comes *before* it, and the result is turned back
    /// into reading order.
    public var backwards: Bool

    public init(nWords: Int = 1, noUnk: Bool = true, temperature: Double = 1, minP: Float? = nil,
                decoding: SpecTokenDecoding = .corrected, backwards: Bool = false) {
        self.nWords = nWords; self.noUnk = noUnk; self.temperature = temperature; self.minP = minP
        self.decoding = decoding; self.backwards = backwards
    }
}

/// The outcome of a generation: ids (prompt included) and the decoded text.
public struct Generation: Sendable, Equatable {
    /// Prompt ids followed by generated ids, in reading order (for a backward model the
    /// generated ids come first, last generated first).
    public var ids: [Int]
    /// Tokens without `xxbos`/`xxpad`, after `decodeSpecTokens`, joined by spaces.
    public var text: String
}

/// The next-token probabilities fastai's predict samples from: softmax (float32), `xxunk` set to
/// 0, `min_p` filter, then `p^(1/T)` when T ≠ 1. Not renormalised (sampling does that).
public func nextTokenProbabilities(logits: [Float], unkIndex: Int?, minP: Float? = nil,
                                   temperature: Double = 1) -> [Float] {
    var probs = Softmax.softmax(logits)
    if let u = unkIndex, probs.indices.contains(u) { probs[u] = 0 }
    if let minP, probs.contains(where: { $0 >= minP }) {
        for i in probs.indices where probs[i] < minP { probs[i] = 0 }
    }
    if temperature != 1 && temperature > 0 {
        let e = Float(1 / temperature)
        for i in probs.indices { probs[i] = Foundation.pow(probs[i], e) }
    }
    return probs
}

/// Draws an index with probability proportional to `weights` (what `torch.multinomial` does,
/// with a different random stream). Throws when the weights sum to ≤ 0 or are not finite.
public func sampleIndex(_ weights: [Float], using rng: inout SeededGenerator, step: Int = 0) throws -> Int {
    var total = 0.0
    for w in weights {
        guard w.isFinite, w >= 0 else { throw LearnError.invalidDistribution(step: step) }
        total += Double(w)
    }
    guard total > 0 else { throw LearnError.invalidDistribution(step: step) }
    let u = Double(rng.next() >> 11) * (1.0 / Double(1 << 53)) * total
    var acc = 0.0
    var last = 0
    for (i, w) in weights.enumerated() where w > 0 {
        acc += Double(w)
        last = i
        if u < acc { return i }
    }
    return last
}

/// fastai's `LMLearner.predict` on ids: resets the model, feeds the prompt, then `nWords` times
/// picks the next id (greedy when `temperature == 0`, else sampled with `rng`) and feeds it.
/// `vocab` maps ids to tokens for the text; `unkIndex` is `xxunk`'s id. `prompt` is in reading
/// order; with `options.backwards` it is fed reversed (as the backward model was trained).
///
///     var rng = SeededGenerator(seed: 42)
///     let g = try generate(model, prompt: ids, vocab: vocab, unkIndex: 0,
///                          options: GenerationOptions(nWords: 40, temperature: 0.75), using: &rng)
public func generate(_ model: NextTokenPredictor, prompt: [Int], vocab: [String], unkIndex: Int?,
                     options: GenerationOptions, using rng: inout SeededGenerator) throws -> Generation {
    guard !prompt.isEmpty else { throw LearnError.invalidArgument("predict: empty prompt (expected at least xxbos)") }
    guard options.nWords >= 0 else { throw LearnError.invalidArgument("predict: n_words must be >= 0") }
    guard options.temperature >= 0, options.temperature.isFinite else {
        throw LearnError.invalidHyperParameter("temperature", "\(options.temperature) must be >= 0")
    }
    for id in prompt where !vocab.indices.contains(id) {
        throw LearnError.invalidArgument("predict: prompt id \(id) outside the vocabulary of \(vocab.count)")
    }
    model.reset()
    var ids = options.backwards ? reverseText(prompt) : prompt
    var feed = ids
    for step in 0..<options.nWords {
        let logits = try model.nextLogits(feeding: feed)
        guard logits.count == vocab.count else {
            throw LearnError.invalidArgument("predict: model returned \(logits.count) logits for a vocabulary of \(vocab.count)")
        }
        let probs = nextTokenProbabilities(logits: logits, unkIndex: options.noUnk ? unkIndex : nil,
                                           minP: options.minP, temperature: options.temperature)
        let next: Int
        if options.temperature == 0 {
            // torch.argmax semantics: the first maximal index.
            guard probs.allSatisfy(\.isFinite),
                  let best = probs.indices.max(by: { probs[$0] < probs[$1] || (probs[$0] == probs[$1] && $0 > $1) }),
                  probs[best] > 0
            else { throw LearnError.invalidDistribution(step: step) }
            next = best
        } else {
            next = try sampleIndex(probs, using: &rng, step: step)
        }
        ids.append(next)
        feed = [next]
    }
    if options.backwards { ids = reverseText(ids) }
    return Generation(ids: ids, text: decodeIds(ids, vocab: vocab, decoding: options.decoding))
}

/// Ids → text as fastai's predict: drop `xxbos`/`xxpad`, decode rule tokens, join with spaces.
public func decodeIds(_ ids: [Int], vocab: [String], decoding: SpecTokenDecoding = .corrected) -> String {
    let toks = ids.compactMap { vocab.indices.contains($0) ? vocab[$0] : nil }
        .filter { $0 != "xxbos" && $0 != "xxpad" }
    return decodeSpecTokens(toks, mode: decoding).joined(separator: " ")
}
