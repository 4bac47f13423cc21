import Foundation
import Testing
import Tensor
import TestSupport
@testable import Models

/// Largest absolute difference and the worst violation of `|a − e| ≤ atol + rtol·|e|`.
struct Closeness {
    var maxAbsDiff: Float = 0
    var worstExcess: Float = -.infinity
    var ok: Bool { worstExcess <= 0 }
}

func closeness(_ actual: [Float], _ expected: [Float], rtol: Float, atol: Float) -> Closeness {
    var c = Closeness()
    for (a, e) in zip(actual, expected) {
        let d = abs(a - e)
        c.maxAbsDiff = max(c.maxAbsDiff, d.isNaN ? .infinity : d)
        c.worstExcess = max(c.worstExcess, d.isNaN ? .infinity : d - (atol + rtol * abs(e)))
    }
    return c
}

/// Checks shape and values, printing the largest difference (llm.c style).
func expectClose(_ actual: Tensor, _ expected: Tensor, rtol: Float, atol: Float, _ what: String,
                 sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(actual.shape == expected.shape, "\(what): shape \(actual.shape) vs \(expected.shape)", sourceLocation: sourceLocation)
    guard actual.shape == expected.shape else { return }
    let c = closeness(actual.data, expected.data, rtol: rtol, atol: atol)
    #expect(c.ok, "\(what): max |diff| \(c.maxAbsDiff)", sourceLocation: sourceLocation)
}

/// The tiny LM fixture: config from `lm.json`, weights, forward and backward tensors.
struct LMFixture {
    let json: [String: Any]
    let config: AWDLSTMConfig
    let vocab: Int
    let weights: SafeTensors
    let forward: SafeTensors
    let backward: SafeTensors

    init() throws {
        json = try #require(try Fixtures.json("model/lm.json") as? [String: Any])
        let f = try #require(json["forward"] as? [String: Any])
        func int(_ k: String) throws -> Int { try #require((f[k] as? NSNumber)?.intValue, "lm.json forward.\(k)") }
        vocab = try int("vocab")
        // The fixtures were made with drop_mult = 0 (every dropout off, also in training mode).
        config = AWDLSTMConfig(embSize: try int("emb_sz"), hiddenSize: try int("n_hid"), layers: try int("n_layers"),
                               padToken: try int("pad_token"),
                               tieWeights: (f["tie_weights"] as? Bool) ?? true,
                               outBias: (f["out_bias"] as? Bool) ?? true).scaled(dropMult: 0)
        weights = try SafeTensors(contentsOf: Fixtures.url("model/lm_weights.safetensors"))
        forward = try SafeTensors(contentsOf: Fixtures.url("model/lm_forward.safetensors"))
        backward = try SafeTensors(contentsOf: Fixtures.url("model/lm_backward.safetensors"))
    }

    func model() throws -> AWDLSTMLanguageModel {
        let lm = try AWDLSTMLanguageModel(config: config, vocabSize: vocab, seed: 1)
        try lm.load(stateDict: weights.floats)
        return lm
    }

    func double(_ key: String) throws -> Double {
        try #require((json[key] as? NSNumber)?.doubleValue, "lm.json \(key)")
    }
}

func tokenIDs(_ t: IntTensor) throws -> TokenBatch {
    TokenBatch(batchSize: t.shape[0], seqLen: t.shape[1], ids: t.data)
}
