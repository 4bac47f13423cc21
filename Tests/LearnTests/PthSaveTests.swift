import Foundation
import Testing
import TestSupport
@testable import Interop
@testable import Learn
import Models
import Tensor
import Text

// learn.save(name, format: .pth): fastai's Learner.save file, read back with the project's own
// readers and held against the layout of the real fastai file model/tiny.pth.

private func message(_ body: () throws -> Void) -> String? {
    do { try body(); return nil } catch { return "\(error)" }
}

private func floats(_ t: StoredTensor?) -> [UInt32]? {
    guard case .float(let f)? = t?.elements else { return nil }
    return f.map(\.bitPattern)
}

/// A language-model learner with the sizes of the fixture's LM (read from the file), trained one
/// epoch on made-up documents so that every parameter has optimizer state, as in the fixture.
private func trainedLikeTheFixture() throws -> (LanguageModelLearner, TorchValue) {
    let ref = try TorchCheckpointReader.load(Fixtures.url("model/tiny.pth"))
    let model = try #require(ref["model"]?.dict)
    let emb = try #require(ref["model"]?["0.encoder.weight"]?.tensor)
    let hid = try #require(ref["model"]?["0.rnns.0.weight_hh_l0_raw"]?.tensor).shape[1]
    let layers = model.filter { $0.key.hasSuffix("weight_hh_l0_raw") }.count
    let V = emb.shape[0]
    let vocab = (0..<V).map { "tok\($0)" }
    let docs = (0..<6).map { d in (0..<24).map { (d * 7 + $0 * 3) % V } }
    let data = try tinyLMData(vocab: vocab, docs: docs)
    let config = AWDLSTMConfig(embSize: emb.shape[1], hiddenSize: hid, layers: layers,
                               outBias: ref["model"]?["1.decoder.bias"] != nil)
    let learn = try languageModelLearner(dls: data, config: config, seed: 5)
    learn.progress = nil; learn.tableOutput = nil
    try learn.fitOneCycle(1, lrMax: .value(1e-2))
    return (learn, ref)
}

@Test func pthSaveOfALanguageModelIsFastaisLayoutBitForBit() throws {
    let (learn, ref) = try trainedLikeTheFixture()
    defer { try? FileManager.default.removeItem(at: learn.data.path) }
    let url = try learn.save("lm", format: .pth)
    #expect(url.path.hasSuffix("models/lm.pth"))
    let v = try TorchCheckpointReader.load(url)

    // The containers and key orders of fastai's file.
    #expect(v.dict?.map(\.key) == ref.dict?.map(\.key))
    let keys = try #require(v["model"]?.dict?.map(\.key))
    #expect(keys == ref["model"]?.dict?.map(\.key))
    #expect(v["opt"]?.dict?.map(\.key) == ref["opt"]?.dict?.map(\.key))
    let state = try #require(v["opt"]?["state"]?.list), refState = try #require(ref["opt"]?["state"]?.list)
    #expect(state.map { $0.dict?.map(\.key) ?? [] } == refState.map { $0.dict?.map(\.key) ?? [] })
    let hypers = try #require(v["opt"]?["hypers"]?.list)
    #expect(hypers.count == learn.optimizer.groups.count)
    for h in hypers { #expect(h.dict?.map(\.key) == ref["opt"]?["hypers"]?.list?.first?.dict?.map(\.key)) }

    // Every value bit for bit, with the fixture's dtypes.
    let sd = learn.model.stateDict()
    for k in keys {
        let t = v["model"]?[k]?.tensor
        #expect(t?.storageType == ref["model"]?[k]?.tensor?.storageType, "\(k)")
        #expect(t?.shape == sd[k]?.shape && floats(t) == sd[k]?.data.map(\.bitPattern), "\(k)")
    }
    for (i, s) in learn.optimizer.states.enumerated() {
        #expect(floats(state[i]["grad_avg"]?.tensor) == s.gradAvg?.data.map(\.bitPattern), "state \(i) grad_avg")
        #expect(floats(state[i]["sqr_avg"]?.tensor) == s.sqrAvg?.data.map(\.bitPattern), "state \(i) sqr_avg")
        if case .int(let step)? = state[i]["step"] { #expect(step == s.step) } else { Issue.record("state \(i): step is not an int") }
    }
    for (h, mine) in zip(hypers, learn.optimizer.hypers) {
        let expected = ["wd": mine.wd, "sqr_mom": mine.sqrMom, "lr": mine.lr, "mom": mine.mom, "eps": mine.eps]
        for (k, x) in h.dict ?? [] { #expect(x.number?.bitPattern == expected[k]?.bitPattern, "hyper \(k)") }
    }
    // Tied weights share one storage, as in PyTorch: 2 aliases fewer storages than model keys.
    let zip = try ZipArchive(contentsOf: url)
    let storages = zip.entries.filter { $0.name.hasPrefix("lm/data/") }.count
    #expect(storages == keys.count - 2 + 2 * learn.optimizer.parameters.count)

    // The project's fastai reader takes it, and the vocabulary pickle lists the vocabulary.
    let ckpt = try FastaiCheckpoint.load(url)
    #expect(ckpt.keys == keys && ckpt.optimizer?.state.count == learn.optimizer.parameters.count)
    let itos = learn.modelsDirectory.appendingPathComponent("itos_lm.pkl")
    #expect(try FastaiVocab.load(itos) == learn.data.vocab.items)
    // What lmlab offers for fastai files, pretrained weights, loads it back (the learner is then frozen).
    let again = try languageModelLearner(dls: learn.data, config: learn.model.config, pretrained: PretrainedWeights(weights: url, vocab: itos))
    #expect(again.model.parameters.map(\.value) == learn.model.parameters.map(\.value))
}

@Test func pthSaveWithoutOptimizerIsTheBareStateDict() throws {
    let (learn, _) = try trainedLikeTheFixture()
    defer { try? FileManager.default.removeItem(at: learn.data.path) }
    let url = try learn.save("weights", withOptimizer: false, format: .pth)
    let v = try TorchCheckpointReader.load(url)
    #expect(v.dict?.map(\.key) == learn.model.stateDictKeys)
    let ckpt = try FastaiCheckpoint.load(url)
    #expect(ckpt.optimizer == nil)
    #expect(ckpt.model == learn.model.stateDict())
}

@Test func pthSaveOfAClassifierHasFastaisKeysAndInt64Buffers() throws {
    let meta = try #require(Fixtures.json("model/clas.json") as? [String: Any])
    let expectedKeys = try Fixtures.field(meta, "state_dict_keys", as: [String].self, in: "clas.json")
    let root = try makeTinyDataset(docsPerClass: 4)
    defer { try? FileManager.default.removeItem(at: root) }
    let tok = ClosureTokenizer(id: "ws") { $0.map { ["xxbos"] + $0.lowercased().split(separator: " ").map(String.init) } }
    let lmDls = try LMDataLoaders.fromFolder(root, tokenizer: tok, bs: 2, seqLen: 5, minFreq: 1,
                                             options: TokenizeOptions(cacheDirectory: nil))
    var cd = ClassifierLearnerData(try ClassifierDataLoaders(corpus: lmDls.corpus, vocab: lmDls.vocab, bs: 2, seqLen: 5))
    cd.path = root
    let config = AWDLSTMConfig(embSize: try Fixtures.field(meta, "emb_sz", in: "clas.json"),
                               hiddenSize: try Fixtures.field(meta, "n_hid", in: "clas.json"),
                               layers: try Fixtures.field(meta, "n_layers", in: "clas.json"))
    let clas = try textClassifierLearner(dls: cd, config: config, dropMult: Float(try Fixtures.field(meta, "drop_mult", as: Double.self, in: "clas.json")),
                                         linFtrs: (meta["lin_ftrs"] as? [Int]) ?? [50])   // fastai's default lin_ftrs
    clas.progress = nil; clas.tableOutput = nil
    try clas.fitOneCycle(1, lrMax: .value(1e-2))
    let url = try clas.save("clas", format: .pth)
    let v = try TorchCheckpointReader.load(url)
    let model = try #require(v["model"]?.dict)
    #expect(model.map(\.key) == expectedKeys)
    let sd = clas.model.stateDict()
    for (k, t) in model {
        let stored = try #require(t.tensor)
        if k.hasSuffix("num_batches_tracked") {
            let bn = try #require(clas.model.head.blocks.first { k.hasPrefix($0.batchNorm.prefix + ".") }?.batchNorm)
            #expect(stored.storageType == "LongStorage" && stored.shape == [] && stored.elements == .int([Int64(bn.numBatchesTracked)]), "\(k)")
            #expect(bn.numBatchesTracked > 0)
        } else {
            #expect(stored.storageType == "FloatStorage" && floats(stored) == sd[k]?.data.map(\.bitPattern), "\(k)")
        }
    }
    // BatchNorm weights and biases are fastai's norm parameters: no weight decay, trained when frozen.
    let flagged = try #require(v["opt"]?["state"]?.list).enumerated().filter { $0.element["force_train"] != nil }.map(\.offset)
    #expect(!flagged.isEmpty && flagged == clas.optimizer.states.indices.filter { clas.optimizer.states[$0].forceTrain })
}

@Test func pthSaveRefusesForeignFilesAndBadNamesWithOneLine() throws {
    let data = try tinyLMData(vocab: (0..<12).map { "t\($0)" }, docs: [[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]])
    defer { try? FileManager.default.removeItem(at: data.path) }
    let learn = try languageModelLearner(dls: data, config: AWDLSTMConfig(embSize: 4, hiddenSize: 6, layers: 1), seed: 1)
    let models = learn.modelsDirectory
    // A name that leaves models/.
    #expect(message { try learn.save("../x", format: .pth) }?.contains("must stay inside models/") == true)
    #expect(!FileManager.default.fileExists(atPath: data.path.appendingPathComponent("x.pth").path))
    // A file that is not LMLab's (here fastai's own file) is not replaced, unless asked.
    try FileManager.default.createDirectory(at: models, withIntermediateDirectories: true)
    let theirs = models.appendingPathComponent("theirs.pth")
    let original = try Fixtures.data("model/tiny.pth")
    try original.write(to: theirs)
    let m = message { try learn.save("theirs", format: .pth) }
    #expect(m == "\(theirs.path) exists and was not written by LMLab; pass overwrite=True to replace it")
    #expect(try Data(contentsOf: theirs) == original)
    #expect(!FileManager.default.fileExists(atPath: models.appendingPathComponent("itos_theirs.pkl").path))
    // A vocabulary pickle without LMLab's .pth beside it is not ours either.
    let notes = models.appendingPathComponent("itos_solo.pkl")
    try Data("my vocabulary".utf8).write(to: notes)
    #expect(message { try learn.save("solo", format: .pth) }?.contains("itos_solo.pkl exists and was not written by LMLab") == true)
    #expect(try Data(contentsOf: notes) == Data("my vocabulary".utf8))
    // Our own file is replaced without asking; a foreign one with overwrite.
    try learn.save("mine", format: .pth)
    try learn.save("mine", format: .pth)
    try learn.save("theirs", format: .pth, overwrite: true)
    #expect(try FastaiCheckpoint.load(theirs).keys == learn.model.stateDictKeys)
    // A folder that cannot be made: a file is in the way.
    let blocker = data.path.appendingPathComponent("blocker")
    try Data("x".utf8).write(to: blocker)
    let e = message { try learn.save(to: blocker.appendingPathComponent("a"), format: .pth) }
    #expect(e?.contains("cannot write \(blocker.path)") == true, "\(e ?? "saved")")
}
