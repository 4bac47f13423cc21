import Foundation
import Testing
import Interop
@testable import Models
import Tensor
import TestSupport

@Suite struct LMWeightsTests {
    @Test func configConstantsAreFastais() {
        let lm = AWDLSTMConfig.languageModel, clas = AWDLSTMConfig.classifier
        let sizes: [Int] = [lm.embSize, lm.hiddenSize, lm.layers, lm.padToken]
        #expect(sizes == [400, 1152, 3, 1])
        let lmP: [Float] = [lm.outputP, lm.hiddenP, lm.inputP, lm.embedP, lm.weightP]
        let clasP: [Float] = [clas.outputP, clas.hiddenP, clas.inputP, clas.embedP, clas.weightP]
        #expect(lmP == [0.1, 0.15, 0.25, 0.02, 0.2])
        #expect(clasP == [0.4, 0.3, 0.4, 0.05, 0.5])
        let book = lm.scaled(dropMult: 0.3)
        // Float products: 0.2 × 0.3 within 1e-7.
        #expect(abs(book.weightP - 0.06) < 1e-7 && abs(book.outputP - 0.03) < 1e-7)
    }

    @Test func parameterCountOfTheDefaultModel() throws {
        // ../shared/spec/model.md 2.1: 44,336,488 parameters for V = 60,008. Count from shapes (no allocation of the real model).
        let c = AWDLSTMConfig.languageModel
        var n = 60_008 * c.embSize + 60_008
        for l in 0..<c.layers {
            let h = c.hiddenSize(ofLayer: l), i = c.inputSize(ofLayer: l)
            n += 4 * h * (i + h) + 8 * h
        }
        #expect(n == 44_336_488)
        let small = try AWDLSTMLanguageModel(config: AWDLSTMConfig(embSize: 4, hiddenSize: 6, layers: 3), vocabSize: 10, seed: 0)
        #expect(small.parameters.count == 14)
        let total = small.parameters.map { $0.value.count }.reduce(0, +)
        let expected: Int = 10 * 4 + 10 + (24 * (4 + 6) + 48) + (24 * 12 + 48) + (16 * (6 + 4) + 32)
        #expect(total == expected)
    }

    @Test func stateDictKeysMatchFastaiAndRoundTrip() throws {
        let fx = try LMFixture()
        let lm = try fx.model()
        #expect(lm.stateDictKeys == (fx.json["state_dict_keys"] as? [String]))
        #expect(Set(lm.stateDict().keys) == Set(fx.weights.floats.keys))
        let bytes = SafeTensors(floats: lm.stateDict()).serialized()
        let other = try AWDLSTMLanguageModel(config: fx.config, vocabSize: fx.vocab, seed: 99)
        try other.load(stateDict: SafeTensors(data: bytes).floats)
        for (k, v) in lm.stateDict() { #expect(other.stateDict()[k] == v, "\(k)") }
        #expect(lm.parameter(named: "1.decoder.weight") === lm.parameter(named: "0.encoder.weight"))
    }

    @Test func parameterGroupsFollowAwdLstmLmSplit() throws {
        let lm = try AWDLSTMLanguageModel(config: AWDLSTMConfig(embSize: 4, hiddenSize: 6, layers: 3), vocabSize: 10, seed: 0)
        let names = lm.parameterGroups.map { $0.map(\.name) }
        #expect(names.map(\.count) == [4, 4, 4, 2])
        #expect(names[3] == ["0.encoder.weight", "1.decoder.bias"])
        #expect(names[1] == ["0.rnns.1.weight_hh_l0_raw", "0.rnns.1.module.weight_ih_l0",
                             "0.rnns.1.module.bias_ih_l0", "0.rnns.1.module.bias_hh_l0"])
    }

    @Test func encoderStateDictRoundTripsWithAnyPrefix() throws {
        let fx = try LMFixture()
        let lm = try fx.model()
        // save_encoder: the AWD_LSTM keys without the "0." prefix.
        var encoderDict: [String: Tensor] = [:]
        for (k, v) in lm.encoder.stateDict() { encoderDict[String(k.dropFirst(2))] = v }
        let enc = try AWDLSTM(config: fx.config, vocabSize: fx.vocab, namePrefix: "", seed: 4)
        #expect(Set(enc.stateDictKeys) == Set(encoderDict.keys))
        try enc.load(stateDict: encoderDict)
        #expect(enc.stateDict() == encoderDict)
        encoderDict.removeValue(forKey: "rnns.0.module.weight_ih_l0")
        #expect(throws: ModelError("load: missing key 'rnns.0.module.weight_ih_l0' in state dict")) {
            try enc.load(stateDict: encoderDict)
        }
    }

    @Test func loadErrorsNameTheTensor() throws {
        let fx = try LMFixture()
        let lm = try fx.model()
        func message(_ sd: [String: Tensor]) -> String {
            do { try lm.load(stateDict: sd); return "" } catch { return "\(error)" }
        }
        var sd = fx.weights.floats
        sd.removeValue(forKey: "0.rnns.1.module.bias_hh_l0")
        #expect(message(sd) == "load: missing key '0.rnns.1.module.bias_hh_l0' in state dict")
        sd = fx.weights.floats
        sd["0.rnns.9.module.bias_hh_l0"] = Tensor.zeros([3])
        #expect(message(sd) == "load: unexpected key '0.rnns.9.module.bias_hh_l0' in state dict")
        sd = fx.weights.floats
        sd["1.decoder.bias"] = Tensor.zeros([3])
        #expect(message(sd) == "load: '1.decoder.bias' has shape [3], the model expects [\(fx.vocab)]")
        sd = fx.weights.floats
        sd["1.decoder.weight"] = sd["1.decoder.weight"]! * 2
        #expect(message(sd).contains("'1.decoder.weight' differs"))
        // Nothing changed by failed loads.
        #expect(lm.stateDict()["1.decoder.bias"] == fx.weights.floats["1.decoder.bias"])
    }

    @Test func badTokenIdsAreErrors() throws {
        let lm = try AWDLSTMLanguageModel(config: AWDLSTMConfig(embSize: 4, hiddenSize: 6, layers: 2), vocabSize: 10, seed: 0)
        func message(_ body: () throws -> Void) -> String {
            do { try body(); return "" } catch { return "\(error)" }
        }
        #expect(message { _ = try lm.forward(try TokenBatch(rows: [[1, 2], [3, 10]])) }
                == "input token id 10 at [1, 1] is outside the vocabulary 0..<10")
        #expect(message { _ = try lm.loss(x: try TokenBatch(rows: [[1, 2]]), y: try TokenBatch(rows: [[-1, 2]])) }
                == "target token id -1 at [0, 0] is outside the vocabulary 0..<10")
        #expect(message { _ = try TokenBatch(rows: [[1, 2], [3]]) } == "token batch: row 1 has 1 ids, row 0 has 2")
        #expect(message { _ = try lm.nextTokenLogits(for: []) } == "language model: no tokens to feed")
        #expect(message { _ = try AWDLSTMLanguageModel(config: AWDLSTMConfig(weightP: 1), vocabSize: 10) }
                == "config: weight_p must be in [0, 1), got 1.0")
    }
}
