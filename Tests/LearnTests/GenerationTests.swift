import Foundation
import Testing
import Tensor
import TestSupport
import Models
import Text
@testable import Learn

/// Replays the logits fastai's model produced at each predict step and checks it is fed the
/// same ids (prompt first, then one new id per step).
final class ReplayPredictor: NextTokenPredictor {
    let steps: [(ids: [Int], logits: [Float])]
    var fed: [Int] = []
    var calls = 0
    var resets = 0
    init(steps: [(ids: [Int], logits: [Float])]) { self.steps = steps }
    func reset() { fed = []; resets += 1 }
    func nextLogits(feeding ids: [Int]) throws -> [Float] {
        fed += ids
        guard calls < steps.count else { throw TestError("more steps than recorded") }
        guard fed == steps[calls].ids else { throw TestError("step \(calls): fed \(fed), fastai had \(steps[calls].ids)") }
        defer { calls += 1 }
        return steps[calls].logits
    }
}

@Suite struct GenerationTests {
    func load() throws -> (meta: [String: Any], steps: [(ids: [Int], logits: [Float])], probs: [[Float]]) {
        let meta = try Fixtures.json("model/predict.json") as! [String: Any]
        let st = try TestSafeTensors("model/predict.safetensors")
        let n = (meta["greedy_steps"] as! [Any]).count
        var steps: [(ids: [Int], logits: [Float])] = [], probs: [[Float]] = []
        for s in 0..<n {
            steps.append((try st.ints("step\(s).input_ids").values, try st.tensor("step\(s).logits_last").data))
            probs.append(try st.tensor("step\(s).probs").data)
        }
        return (meta, steps, probs)
    }

    /// predict.json greedy run: same ids each step, same softmax probabilities (the fixture stores
    /// them before unk removal; unk must then be exactly 0),
    /// same text (fastai-parity decoding; the corrected decoding agrees when no xxrep/xxwrep occurs).
    @Test func greedyMatchesFixture() throws {
        let (meta, steps, probs) = try load()
        let vocab = meta["vocab"] as! [String], unk = meta["unk_idx"] as! Int
        let repeats = try Fixtures.field(meta, "greedy_tokens_no_bos_pad", as: [String].self, in: "predict.json")
            .contains { $0 == "xxrep" || $0 == "xxwrep" }
        for (s, p) in probs.enumerated() {
            let mine = nextTokenProbabilities(logits: steps[s].logits, unkIndex: nil)
            // atol 1e-6: float32 softmax over the vocabulary.
            #expect(zip(mine, p).allSatisfy { abs($0 - $1) < 1e-6 }, "probs step \(s)")
            #expect(nextTokenProbabilities(logits: steps[s].logits, unkIndex: unk)[unk] == 0)
        }
        let model = ReplayPredictor(steps: steps)
        var rng = SeededGenerator(seed: 0)
        for decoding in repeats ? [SpecTokenDecoding.fastai] : [.fastai, .corrected] {
            model.calls = 0
            let g = try generate(model, prompt: meta["input_ids"] as! [Int], vocab: vocab, unkIndex: unk,
                                 options: GenerationOptions(nWords: steps.count, temperature: 0, decoding: decoding),
                                 using: &rng)
            let wantIds = (meta["greedy_steps"] as! [[String: Any]]).map { $0["next_id"] as! Int }
            #expect(Array(g.ids.suffix(wantIds.count)) == wantIds)
            #expect(g.text == meta["greedy_text"] as! String)
        }
        #expect(model.resets == (repeats ? 1 : 2))
    }

    /// fastai's predict end to end on the fixture's trained LM (predict_weights.safetensors; sizes
    /// from its shapes): the prompt and predict.json's tokenize_examples numericalised as fastai's
    /// test_dl does, every step's last logits at the forward tolerance (1e-5 + 1e-4 relative) from
    /// the carried state (fastai re-runs the prefix; predict.json:refeed_equals_stateful_step1), and
    /// the same greedy ids and text through both of our paths.
    @Test func predictOnFixtureWeightsMatchesFastai() throws {
        let (meta, steps, _) = try load()
        let vocab = Vocab(items: try Fixtures.field(meta, "vocab", as: [String].self, in: "predict.json"))
        let st = try TestSafeTensors("model/predict_weights.safetensors")
        var weights: [String: Tensor] = [:]
        for k in st.keys { weights[k] = try st.tensor(k) }
        let embedding = try #require(weights["0.encoder.weight"], "predict_weights: no 0.encoder.weight")
        let layers = st.keys.filter { $0.hasPrefix("0.rnns.") && $0.hasSuffix(".weight_hh_l0_raw") }.count
        let hidden = try #require(weights["0.rnns.0.weight_hh_l0_raw"], "predict_weights: no layer 0").shape[1]
        let decoder = try #require(weights["1.decoder.weight"], "predict_weights: no decoder")
        let config = AWDLSTMConfig(embSize: embedding.shape[1], hiddenSize: hidden, layers: layers,
                                   padToken: vocab.id(of: SpecialTokens.pad), tieWeights: decoder.data == embedding.data,
                                   outBias: weights["1.decoder.bias"] != nil).scaled(dropMult: 0)
        #expect(embedding.shape[0] == vocab.count)
        let lm = try AWDLSTMLanguageModel(config: config, vocabSize: vocab.count, seed: 1)
        try lm.load(stateDict: weights)

        let tokenizer = TextTokenizerSettings()
        let text = try Fixtures.field(meta, "text", as: String.self, in: "predict.json")
        let prompt = try Fixtures.field(meta, "input_ids", as: [Int].self, in: "predict.json")
        #expect(try promptIDs(text, vocab: vocab, tokenizer: tokenizer) == prompt)
        let examples = try Fixtures.field(meta, "tokenize_examples", as: [String: [Int]].self, in: "predict.json")
        #expect(!examples.isEmpty)
        for (t, ids) in examples { #expect(try promptIDs(t, vocab: vocab, tokenizer: tokenizer) == ids, "\(t)") }

        lm.isTraining = false
        lm.reset()
        var worst: Float = 0
        for (s, step) in steps.enumerated() {
            let got = try lm.nextTokenLogits(for: s == 0 ? step.ids : [step.ids.last!])
            #expect(got.count == step.logits.count)
            for (a, e) in zip(got, step.logits) {
                worst = max(worst, abs(a - e))
                #expect(abs(a - e) <= 1e-5 + 1e-4 * abs(e), "step \(s): logit \(a) vs fastai's \(e)")
            }
        }
        if ProcessInfo.processInfo.environment["LMLAB_TEST_REPORT"] != nil {
            print("predict step logits: worst absolute error \(worst)")
        }
        let wantIds = try Fixtures.field(meta, "greedy_steps", as: [[String: Any]].self, in: "predict.json")
            .map { try Fixtures.field($0, "next_id", as: Int.self, in: "greedy_steps") }
        let wantText = try Fixtures.field(meta, "greedy_text", as: String.self, in: "predict.json")
        for rerun in [false, true] {
            let g = try predictText(model: lm, vocab: vocab, tokenizer: tokenizer, text: text, nWords: wantIds.count,
                                    temperature: 0, decoding: .fastai, seed: 0, rerunPrefix: rerun)
            #expect(g.ids == prompt + wantIds, "rerunPrefix \(rerun)")
            #expect(g.text == wantText, "rerunPrefix \(rerun)")
        }
    }

    /// The distribution predict samples from, numerically, on every recorded step's logits, at
    /// T = 0.1, 0.75 and 1.5, with and without `min_p` (spec training.md 7): after normalising,
    /// `p^(1/T)` is `softmax(logits/T)` over the words that survive unk removal and the min_p filter.
    /// Reference in double. Tolerance 1e-4 relative with a floor of 1e-6 of the largest
    /// probability: float32 `pow(p, 1/T)` of a float32 softmax is within a few ulp of p^(1/T)
    /// relatively (measured worst: see the README's testing section), except where p^(1/T)
    /// underflows float32, i.e. far below that floor.
    @Test(arguments: [0.1, 0.75, 1.5])
    func temperatureAndMinPMatchTheSpec(temperature: Double) throws {
        let (meta, steps, _) = try load()
        let unk = try Fixtures.field(meta, "unk_idx", as: Int.self, in: "predict.json")
        var worst = 0.0
        for (s, step) in steps.enumerated() {
            let m = Double(step.logits.max()!)
            let z = step.logits.reduce(0.0) { $0 + Foundation.exp(Double($1) - m) }
            let p = step.logits.map { Foundation.exp(Double($0) - m) / z }
            // min_p: none; halfway between the two middle probabilities (filters half, and no
            // probability sits on the threshold); above the largest (would zero everything, so
            // nothing is filtered).
            let sorted = p.enumerated().filter { $0.offset != unk }.map(\.element).sorted()
            let half = sorted.count / 2
            for minP in [nil, (sorted[half - 1] + sorted[half]) / 2, sorted.last! * 1.5] as [Double?] {
                var keep = p.indices.map { $0 != unk }
                if let minP, p.enumerated().contains(where: { $0.offset != unk && $0.element >= Double(Float(minP)) }) {
                    for i in p.indices where p[i] < Double(Float(minP)) { keep[i] = false }
                }
                // softmax(logits / T) over the kept words.
                let scaled = step.logits.map { (Double($0) - m) / temperature }
                let zk = p.indices.filter { keep[$0] }.reduce(0.0) { $0 + Foundation.exp(scaled[$1]) }
                let want = p.indices.map { keep[$0] ? Foundation.exp(scaled[$0]) / zk : 0 }
                let got = nextTokenProbabilities(logits: step.logits, unkIndex: unk, minP: minP.map(Float.init),
                                                 temperature: temperature)
                let sum = got.reduce(0.0) { $0 + Double($1) }
                let floor = 1e-6 * want.max()!
                for i in want.indices {
                    if !keep[i] { #expect(got[i] == 0, "step \(s) T \(temperature) min_p \(String(describing: minP)): [\(i)] kept"); continue }
                    let r = abs(Double(got[i]) / sum - want[i]) / max(want[i], floor)
                    worst = max(worst, r)
                    #expect(r <= 1e-4, "step \(s) T \(temperature) min_p \(String(describing: minP)) [\(i)]: \(Double(got[i]) / sum) vs \(want[i])")
                }
            }
        }
        if ProcessInfo.processInfo.environment["LMLAB_TEST_REPORT"] != nil {
            print("sampling T=\(temperature): worst relative error \(worst)")
        }
    }

    /// fastai fails with "invalid multinomial distribution" at a tiny temperature (float32
    /// underflow of p^(1/T)); so do we, with a clear error.
    @Test func tinyTemperatureUnderflowIsAnError() throws {
        let (meta, steps, _) = try load()
        let low = meta["predict_low_temperature"] as! [String: String]
        #expect(!low.isEmpty)
        for (t, outcome) in low where outcome.hasPrefix("ERROR") {
            var rng = SeededGenerator(seed: 1)
            #expect(throws: LearnError.self) {
                try generate(ReplayPredictor(steps: steps), prompt: meta["input_ids"] as! [Int],
                             vocab: meta["vocab"] as! [String], unkIndex: (meta["unk_idx"] as! Int),
                             options: GenerationOptions(nWords: steps.count, temperature: Double(t)!), using: &rng)
            }
        }
    }

    /// Sampling is reproducible for one seed and follows the distribution.
    @Test func samplingIsSeededAndProportional() throws {
        var a = SeededGenerator(seed: 7), b = SeededGenerator(seed: 7)
        let w: [Float] = [0, 1, 3, 0]
        var counts = [0, 0, 0, 0]
        for _ in 0..<4000 {
            let i = try sampleIndex(w, using: &a)
            #expect(i == (try sampleIndex(w, using: &b)))
            counts[i] += 1
        }
        #expect(counts[0] == 0 && counts[3] == 0)
        // 3:1 odds, 4000 draws: the share of index 2 is 0.75 ± 0.03 (≈ 4.4 standard deviations).
        #expect(abs(Double(counts[2]) / 4000 - 0.75) < 0.03)
        #expect(throws: LearnError.self) { try sampleIndex([0, 0], using: &a) }
        #expect(throws: LearnError.self) { try sampleIndex([.nan, 1], using: &a) }
    }

    /// predict.json decode examples with fastai's exact decoder.
    @Test func fastaiDecodingMatchesFixture() throws {
        let meta = try Fixtures.json("model/predict.json") as! [String: Any]
        let examples = meta["decode_spec_tokens_examples"] as! [[String: Any]]
        #expect(!examples.isEmpty)
        for ex in examples {
            let out = decodeSpecTokens(ex["tokens"] as! [String], mode: .fastai)
            #expect(out == ex["decoded"] as! [String])
            #expect(out.joined(separator: " ") == ex["joined"] as! String)
        }
    }

    /// The spec's bug cases: fastai's state machine versus the corrected one.
    @Test func decodingBugCases() {
        let a = ["xxmaj", "hello", "xxrep", "4", "!", "movie"]
        #expect(decodeSpecTokens(a, mode: .fastai).joined(separator: " ") == "Hello !!!! moviemoviemoviemovie")
        #expect(decodeSpecTokens(a, mode: .corrected).joined(separator: " ") == "Hello !!!! movie")
        let b = ["xxrep", "3", "a", "xxmaj", "b", "xxrep", "2", "c"]
        #expect(decodeSpecTokens(b, mode: .fastai).joined(separator: " ") == "aaa B 222 ccc")
        #expect(decodeSpecTokens(b, mode: .corrected).joined(separator: " ") == "aaa B cc")
        let c = ["a", "xxwrep", "3", "very", "good"]
        #expect(decodeSpecTokens(c, mode: .fastai) == ["a", "very", "very", "very", "good", "good", "good"])
        #expect(decodeSpecTokens(c, mode: .corrected) == ["a", "very", "very", "very", "good"])
        // Normal cases agree: capitalisation, upper-case, bad count, trailing rule.
        for mode in [SpecTokenDecoding.fastai, .corrected] {
            #expect(decodeSpecTokens(["xxmaj", "wORLD", "xxup", "abc", "xxrep", "x", "y", "xxmaj"], mode: mode)
                    == ["World", "ABC", "y"])
        }
        #expect(decodeIds([2, 8, 3, 1, 4], vocab: ["xxunk", "xxpad", "xxbos", "the", "end", "", "", "", "xxmaj"])
                == "The end")
    }
}
