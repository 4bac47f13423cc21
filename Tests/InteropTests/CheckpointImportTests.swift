import Foundation
import Testing
@testable import Interop
import Tensor
import TestSupport

// Parity of the .pth importer with the tensors fastai/PyTorch saved next to it.
// Values are compared bit for bit: the importer copies float32 bytes, no arithmetic.

private func reference() throws -> TestSafeTensors {
    try TestSafeTensors(Fixtures.url("model/checkpoint_tensors.safetensors"))
}

private func checkpointJSON() throws -> [String: Any] {
    try #require(Fixtures.json("model/checkpoint.json") as? [String: Any])
}

@Test func learnSaveModelAndOptimizerMatchReference() throws {
    let ckpt = try FastaiCheckpoint.load(Fixtures.url("model/tiny.pth"))
    let ref = try reference()
    let meta = try checkpointJSON()
    // Keys in file order, as listed by PyTorch.
    #expect(ckpt.keys == (meta["tiny.pth_model_keys"] as? [String]))
    var compared = 0
    for (name, entry) in ref.entries where name.hasPrefix("model.") {
        let key = String(name.dropFirst("model.".count))
        let t = try #require(ckpt.model[key], "missing \(key)")
        #expect(t.shape == entry.shape, "\(key)")
        #expect(t.data == entry.floats, "\(key)")
        compared += 1
    }
    #expect(compared == ckpt.model.count)

    let opt = try #require(ckpt.optimizer)
    let index = try #require(meta["opt_state_index_to_param"] as? [String])
    #expect(opt.state.count == index.count)
    for (name, entry) in ref.entries where name.hasPrefix("opt.state.") {
        let parts = name.split(separator: ".")
        let i = try #require(Int(parts[2])), field = String(parts[3])
        let t = try #require(opt.state[i].tensors[field], "missing \(name)")
        #expect(t.shape == entry.shape && t.data == entry.floats, "\(name)")
        // Each optimizer state has the shape of the parameter it belongs to.
        #expect(t.shape == ckpt.model[index[i]]?.shape, "\(name) vs \(index[i])")
    }
    let entries = try #require(meta["tiny.pth_opt_state_entries"] as? [[String: Any]])
    #expect(entries.count == opt.state.count)
    for (i, e) in entries.enumerated() {
        // Each entry is {field: [type, value] or shape}; `step` is a number.
        let step = try Fixtures.field(e, "step", as: [Any].self, in: "state \(i)")
        let v = try #require((step.last as? NSNumber)?.doubleValue, "state \(i): step \(step)")
        #expect(opt.state[i].numbers["step"] == v, "step of state \(i)")
    }
    let hypers = try #require(meta["tiny.pth_opt_hypers"] as? [[String: [Any]]])
    #expect(opt.hypers.count == hypers.count)
    for (i, h) in hypers.enumerated() {
        for (k, pair) in h {
            let want = try #require(pair.last as? Double)
            // Relative 1e-15: the file holds the exact double; Foundation's JSON number
            // parsing on Linux can be one ulp off the shortest repr Python wrote.
            let got = try #require(opt.hypers[i][k], "hyper \(i).\(k)")
            #expect(abs(got - want) <= 1e-15 * abs(want), "hyper \(i).\(k)")
        }
    }
}

@Test func saveEncoderStateDictMatchesReference() throws {
    let ckpt = try FastaiCheckpoint.load(Fixtures.url("model/tiny_enc.pth"))
    let ref = try reference()
    let meta = try checkpointJSON()
    #expect(ckpt.optimizer == nil)
    #expect(ckpt.keys == (meta["tiny_enc.pth_keys"] as? [String]))
    let encRefs = ref.entries.filter { $0.key.hasPrefix("enc.") }
    #expect(encRefs.count == ckpt.model.count)
    for (name, entry) in encRefs {
        let key = String(name.dropFirst("enc.".count))
        let t = try #require(ckpt.model[key], "missing \(key)")
        #expect(t.shape == entry.shape && t.data == entry.floats, "\(key)")
    }
}

@Test func vocabularyPicklesBothProtocols() throws {
    let p2 = try FastaiVocab.load(Fixtures.url("model/tiny_vocab_p2.pkl"))
    let p4 = try FastaiVocab.load(Fixtures.url("model/tiny_vocab_p4.pkl"))
    #expect(p2 == p4)
    // README section "Vocabulary pickles": an index → token list, fastai's 9 special tokens first.
    // Its length is the pickle's own (it need not match any other fixture's vocabulary).
    let specials = ["xxunk", "xxpad", "xxbos", "xxeos", "xxfld", "xxrep", "xxwrep", "xxup", "xxmaj"]
    #expect(p2.count > specials.count)
    #expect(Array(p2.prefix(specials.count)) == specials)
    #expect(Set(p2).count == p2.count, "duplicate entries")
}

@Test func exportedLearnerGivesVocabAndWeightsWithoutRunningCode() throws {
    let export = try FastaiExport.inspect(Fixtures.url("model/tiny_export.pkl"))
    let vocab = try #require(export.vocab)
    #expect(Array(vocab.prefix(2)) == ["xxunk", "xxpad"])
    // The exported learner is the one saved as tiny.pth: same weights under the same keys.
    let ckpt = try FastaiCheckpoint.load(Fixtures.url("model/tiny.pth"))
    #expect(export.keys == ckpt.keys)   // module-tree walk reproduces state_dict() order exactly
    for key in ckpt.keys { #expect(export.model[key] == ckpt.model[key], "\(key)") }
    #expect(vocab.count == ckpt.model["0.encoder.weight"]?.shape[0])
    #expect(export.learnerClass == "fastai.text.learner.LMLearner")
    #expect(export.modelClass == "fastai.text.models.core.SequentialRNN")
}
