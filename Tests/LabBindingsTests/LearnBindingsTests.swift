import Foundation
import Testing
import Tensor
import Learn
@testable import Lab
@testable import LabBindings

/// The learner bindings on a very small slice of the embedded sample (seconds, not minutes).
@Suite(.serialized) struct LearnBindingsTests {
    /// A session in its own temporary folder with tiny LM data and learner.
    static func session() throws -> (Session, URL) {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("lmlab-learn-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let s = Session()
        s.directory = dir.path
        let r = s.run("""
        dls_lm = sample_lm_data(n_texts=12, bs=4, seq_len=8, max_vocab=200)
        learn = language_model_learner(dls_lm, drop_mult=0.3, metrics=[accuracy, Perplexity()], emb_sz=8, n_hid=16, n_layers=2)
        """)
        #expect(r.error == nil, "\(r.text)")
        return (s, dir)
    }

    @Test func badInputGivesOneLineErrorsAndTheSessionGoesOn() throws {
        let (s, dir) = try Self.session()
        defer { try? FileManager.default.removeItem(at: dir) }
        let cases: [(String, String)] = [
            ("learn.fit_one_cycle(1, 0)", "lr must be a positive number"),
            ("learn.fit_one_cycle(1, -1e-3)", "lr must be a positive number"),
            ("learn.fit_one_cycle(1, slice(0, 1e-2))", "slice start must be a positive number"),
            ("learn.fit_one_cycle(0, 1e-2)", "n_epoch must be at least 1"),
            ("learn.fit_one_cycle('a')", "'n_epoch' must be an integer, got str"),
            ("learn.load('no_such_checkpoint')", "no saved model"),
            ("learn.load(3)", "'name' must be a str (a name inside models/) or a Path, got int"),
            ("learn.freeze_to(7)", "n must be between"),
            ("language_model_learner(3)", "'dls' must be language-model data"),
            ("language_model_learner(dls_lm, metrics=[3])", "unknown metric 3"),
            ("learn.predict('hello', 3, temperature=0)", "temperature must be positive"),
            ("learn.model['no.such.weight']", "no parameter or submodule"),
            ("trace(learn, tensor([[1, 2]]), tensor([[1, 2, 3]]))", "same shape"),
            ("trace(learn, tensor([[1, 100000]]), tensor([[1, 2]]))", "not a token id"),
            ("load_learner('nowhere')", "load_learner"),
        ]
        for (source, fragment) in cases {
            let r = s.run(source)
            let e = try #require(r.error, "\(source) should fail")
            #expect(e.message.contains(fragment), "\(source): \(e.message)")
            #expect(!e.message.contains("\n"), "\(source): error should be one line")
        }
        #expect(show("1 + 1", in: s) == "2")
        #expect(s.variables["learn"] != nil)
    }

    @Test func saveThenLoadRestoresTheWeights() throws {
        let (s, dir) = try Self.session()
        defer { try? FileManager.default.removeItem(at: dir) }
        let r = s.run("""
        learn.save('before')
        w0 = learn.model['0.encoder.weight'].data
        learn.fit_one_cycle(1, 1e-2)
        w1 = learn.model.encoder.weight.data
        learn.load('before')
        w2 = learn.model[0].encoder.weight.data
        """)
        #expect(r.error == nil, "\(r.text)")
        let w0 = try #require(s.variables["w0"]?.asTensor), w1 = try #require(s.variables["w1"]?.asTensor)
        let w2 = try #require(s.variables["w2"]?.asTensor)
        #expect(w0 != w1, "training should change the embedding")
        #expect(w0 == w2, "load should put back exactly the saved weights")
        #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent("models/before.safetensors").path))
        // The epoch table went to the session output: a header and one row.
        #expect(r.text.contains("train_loss  valid_loss  accuracy  perplexity"))
    }

    @Test func savePthForFastaiAndPretrainedFnamesReadItBack() throws {
        let (s, dir) = try Self.session()
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(show("learn.save('lm', format='pth')", in: s) == "'models/lm.pth'")
        #expect(show("learn.save('bare', with_opt=False, format='pth')", in: s) == "'models/bare.pth'")
        for f in ["models/lm.pth", "models/itos_lm.pkl", "models/bare.pth", "models/itos_bare.pkl"] {
            #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent(f).path), "\(f)")
        }
        let r = s.run("""
        back = language_model_learner(dls_lm, pretrained_fnames=['lm', 'itos_lm'], emb_sz=8, n_hid=16, n_layers=2)
        a = back.model['0.rnns.0.weight_hh_l0_raw'].data
        b = learn.model['0.rnns.0.weight_hh_l0_raw'].data
        """)
        #expect(r.error == nil, "\(r.text)")
        #expect(s.variables["a"]?.asTensor != nil && s.variables["a"]?.asTensor == s.variables["b"]?.asTensor)
        let cases: [(String, String)] = [
            ("learn.save('x', format='onnx')", "format must be 'safetensors' or 'pth', got 'onnx'"),
            ("language_model_learner(dls_lm, pretrained_fnames=['nope', 'itos_lm'], emb_sz=8, n_hid=16, n_layers=2)", "pretrained_fnames: no file"),
            ("language_model_learner(dls_lm, pretrained_fnames='lm', emb_sz=8, n_hid=16, n_layers=2)", "pretrained_fnames must be a list of two names"),
            ("language_model_learner(dls_lm, pretrained_fnames=['../lm', 'itos_lm'], emb_sz=8, n_hid=16, n_layers=2)", "must stay inside models/"),
            ("language_model_learner(dls_lm, pretrained_fnames=['lm', 'itos_lm'], emb_sz=4, n_hid=16, n_layers=2)", "do not fit"),
        ]
        for (source, fragment) in cases {
            let e = try #require(s.run(source).error, "\(source) should fail")
            #expect(e.message.contains(fragment) && !e.message.contains("\n"), "\(source): \(e.message)")
        }
    }

    @Test func predictIsSeededAndTraceFillsGradients() throws {
        let (s, dir) = try Self.session()
        defer { try? FileManager.default.removeItem(at: dir) }
        let a = show("learn.predict('I liked this movie because', 6, temperature=0.75, seed=3)", in: s)
        let b = show("learn.predict('I liked this movie because', 6, temperature=0.75, seed=3)", in: s)
        #expect(a == b)
        #expect(a.hasPrefix("'i ") && a.contains("this movie because"))
        let r = s.run("x, y = dls_lm.one_batch(); trace(learn, x[:2], y[:2]); g = learn.model.encoder.weight.grad")
        #expect(r.error == nil, "\(r.text)")
        #expect(r.text.contains("loss: cross-entropy"))
        #expect(r.text.contains("layer 1 hidden h  Tensor [2, 8]"))
        let g = try #require(s.variables["g"]?.asTensor)
        #expect(g.shape == [dls(s), 8])
        #expect(g.data.contains { $0 != 0 }, "a traced backward pass leaves a gradient")
        #expect(show("learn.model.hidden_state(0).shape", in: s).hasPrefix("("))
    }

    private func dls(_ s: Session) -> Int {
        if case .list(let v)? = try? s.evaluate("dls_lm.vocab") { return v.count }
        return -1
    }

    @Test func classifierLoadsTheEncoderAndPredictsProbabilities() throws {
        let (s, dir) = try Self.session()
        defer { try? FileManager.default.removeItem(at: dir) }
        let r = s.run("""
        learn.save_encoder('finetuned')
        dls_clas = sample_clas_data(dls_lm, n_texts=8, bs=4, seq_len=8)
        clas = text_classifier_learner(dls_clas, drop_mult=0.5, metrics=accuracy, emb_sz=8, n_hid=16, n_layers=2)
        clas.load_encoder('finetuned')
        frozen = clas.frozen_groups
        clas.freeze_to(-2)
        clas.fit_one_cycle(1, slice(1e-2/(2.6**4), 1e-2))
        p = clas.predict('What a wonderful film')
        clas.export('export')
        inf = load_learner('export')
        q = inf.predict('What a wonderful film')
        """)
        #expect(r.error == nil, "\(r.text)")
        #expect(show("frozen == clas.n_groups - 1", in: s) == "True", "load_encoder freezes all but the last group")
        let p = show("(p[0] == 'neg' or p[0] == 'pos'), abs(p[2].sum() - 1) < 1e-5, p[2].shape", in: s)
        #expect(p == "(True, True, (2,))")
        #expect(show("p[0] == q[0]", in: s) == "True")
        #expect(show("clas.load_encoder('nothing')", in: s).hasPrefix("error: "))
        // An encoder of other sizes is refused with a one-line error.
        let bad = s.run("clas2 = text_classifier_learner(dls_clas, emb_sz=12, n_hid=16, n_layers=2); clas2.load_encoder('finetuned')")
        #expect(bad.error != nil)
    }

    /// A backward language model and classifier (fastai's backwards=True), the ensemble of both
    /// directions, and its one-line errors.
    @Test func backwardClassifierAndEnsemble() throws {
        let (s, dir) = try Self.session()
        defer { try? FileManager.default.removeItem(at: dir) }
        let r = s.run("""
        dls_bwd = sample_lm_data(n_texts=12, bs=4, seq_len=8, max_vocab=200, backwards=True)
        learn_bwd = language_model_learner(dls_bwd, drop_mult=0.3, emb_sz=8, n_hid=16, n_layers=2)
        g = learn_bwd.predict('I liked this movie because', 3, seed=1)
        learn_bwd.save_encoder('bwd')
        learn.save_encoder('fwd')
        dls_clas = sample_clas_data(dls_lm, n_texts=8, bs=4, seq_len=8)
        dls_clas_bwd = sample_clas_data(dls_bwd, n_texts=8, bs=4, seq_len=8)
        clas = text_classifier_learner(dls_clas, emb_sz=8, n_hid=16, n_layers=2).load_encoder('fwd')
        clas_bwd = text_classifier_learner(dls_clas_bwd, emb_sz=8, n_hid=16, n_layers=2).load_encoder('bwd')
        ens = ensemble([clas, clas_bwd])
        acc = ens.accuracy(dls_clas)
        accs = ens.accuracies(dls_clas_bwd)
        p = ens.predict('What a wonderful film')
        """)
        #expect(r.error == nil, "\(r.text)")
        #expect(show("dls_bwd", in: s).hasSuffix(", backwards"))
        #expect(show("dls_clas_bwd", in: s).hasSuffix(", backwards"))
        #expect(show("clas_bwd", in: s).hasSuffix("; backwards"))
        // Reading order: the prompt comes last, after the three generated words.
        #expect(show("g", in: s).hasSuffix(" this movie because'") && !show("g", in: s).hasPrefix("'i liked"))
        #expect(show("ens", in: s) == "Ensemble: 2 text classifiers (forwards, backwards), classes ['neg', 'pos']; probabilities averaged")
        #expect(show("len(accs), accs[2] == acc, 0 <= acc <= 1", in: s) == "(3, True, True)")
        #expect(show("p[0] == ['neg', 'pos'][p[1]], abs(p[2].sum() - 1) < 1e-5", in: s) == "(True, True)")
        let cases: [(String, String)] = [
            ("ensemble([clas])", "ensemble: needs at least two classifiers, got 1"),
            ("ensemble(clas)", "'learners' must be a list of text classifier learners"),
            ("ensemble([clas, learn])", "learners[1] is a language-model learner"),
            ("ensemble([clas, 3])", "learners[1] must be a text classifier learner, got int"),
            ("ens.accuracy(dls_lm)", "'dls' must be classifier data"),
            ("text_classifier_learner(dls_clas, emb_sz=8, n_hid=16, n_layers=2).load_encoder('bwd')", "reads backwards, this learner reads forwards"),
        ]
        for (source, fragment) in cases {
            let e = try #require(s.run(source).error, "\(source) should fail")
            #expect(e.message.contains(fragment), "\(source): \(e.message)")
            #expect(!e.message.contains("\n"), "\(source): error should be one line")
        }
    }

    /// Asks the session to stop right after the first batch (what Ctrl-C does, without a timer).
    final class StopAfterFirstBatch: LearnerCallback {
        let session: Session
        init(_ s: Session) { session = s }
        func beforeFit(_ state: TrainingState) {}
        func beforeEpoch(_ state: TrainingState) {}
        func beforeBatch(_ state: TrainingState) {}
        func afterBatch(_ state: TrainingState) { if state.batch == 0 { session.cancellation.request() } }
        func afterEpoch(_ state: TrainingState) {}
        func afterFit(_ state: TrainingState) {}
    }

    @Test func interruptStopsAtABatchBoundaryAndTheSessionGoesOn() throws {
        let (s, dir) = try Self.session()
        defer { try? FileManager.default.removeItem(at: dir) }
        s.cancellation = Cancellation()
        let learn = try #require(s.variables["learn"].flatMap { s.objectType("LMLearner", LanguageModelLearner.self)?.unwrap($0) })
        learn.callbacks.append(StopAfterFirstBatch(s))
        let r = s.run("learn.fit_one_cycle(1, 1e-2)")
        #expect(r.error == nil, "\(r.text)")
        // The learner polls the session's flag before each batch: the request made after batch 0
        // stops training before batch 1, and no epoch row is written.
        #expect(r.text.contains("interrupted at epoch 0, batch 1"), "\(r.text)")
        #expect(learn.recorder.losses.count == 1)
        #expect(!s.cancellation.requested)
        #expect(show("1 + 1", in: s) == "2")
    }

    @Test func lrFindAndRecorderPlotsAreSavedAsSVG() throws {
        let (s, dir) = try Self.session()
        defer { try? FileManager.default.removeItem(at: dir) }
        let r = s.run("""
        r = learn.lr_find(num_it=5)
        savefig(r, 'lr.svg')
        learn.fit_one_cycle(1, 1e-2)
        savefig(learn.recorder.plot_loss(), 'loss.svg')
        savefig(learn.recorder.plot_sched(), 'sched.svg')
        n = len(learn.recorder.losses)
        """)
        #expect(r.error == nil, "\(r.text)")
        for f in ["lr.svg", "loss.svg", "sched.svg"] {
            let text = try String(contentsOf: dir.appendingPathComponent(f), encoding: .utf8)
            #expect(text.hasPrefix("<svg") && text.contains("<polyline"), "\(f)")
        }
        #expect(show("r", in: s).hasPrefix("SuggestedLRs(valley="))
        #expect(show("n == dls_lm.n_train_batches", in: s) == "True", "lr_find records nothing in the recorder; one epoch does")
    }
}
