import Lab
import Foundation
import Learn
import Tensor

/// `ensemble([learn_fwd, learn_bwd])`: ULMFiT's forward + backward classifiers with their
/// probabilities averaged (Learn's `ClassifierEnsemble`).
enum EnsembleBindings {
    /// Two tiny classifiers, one per direction, for the help examples.
    static let sample = "f = sample_clas_data(sample_lm_data(n_texts=20, bs=4, seq_len=8), n_texts=20, bs=4); "
        + "b = sample_clas_data(sample_lm_data(n_texts=20, bs=4, seq_len=8, backwards=True), n_texts=20, bs=4); "
        + "learn_fwd = text_classifier_learner(f, emb_sz=8, n_hid=16, n_layers=2); "
        + "learn_bwd = text_classifier_learner(b, emb_sz=8, n_hid=16, n_layers=2)"

    static func install(in s: Session, _ types: LearnTypes) {
        let ensembleType = ObjectType<ClassifierEnsemble>("Ensemble", summary: "text classifiers whose class probabilities are averaged (ULMFiT's forward + backward model)")
        let dls = Param("dls", default: nil, "classifier data whose validation texts are read (either direction); None: the first learner's")
        func data(_ a: Arguments) throws -> ClassifierLearnerData? {
            let v = try a.value("dls")
            return v.isNone ? nil : try LearnData.clasData(v, a)
        }
        ensembleType
            .sample(sample + "; ens = ensemble([learn_fwd, learn_bwd])")
            .method("accuracy", "accuracy of the averaged probabilities on the validation texts of dls; each classifier reads them in its own direction",
                    [dls], example: "ens.accuracy(f)") { e, a in
                .float(try e.accuracy(on: try data(a)))
            }
            .method("get_preds", "(probabilities, targets) of the validation texts, as fastai's get_preds: the averaged probabilities [n, classes] and the label ids",
                    [dls], example: "probs, targs = ens.get_preds(); probs.shape") { e, a in
                let p = try e.predictions(on: try data(a))
                return .tuple([.tensor(p.mean), .tensor(Tensor(shape: [p.targets.count], data: p.targets.map(Float.init)))])
            }
            .method("accuracies", "[each classifier's accuracy…, the ensemble's] on the validation texts of dls",
                    [dls], example: "ens.accuracies()") { e, a in
                let p = try e.predictions(on: try data(a))
                return .list((p.memberAccuracies + [p.accuracy]).map { .float($0) })
            }
            .method("predict", "(label, label index, averaged probabilities) for one text",
                    [Param("text", .str, "the text to classify")],
                    example: "ens.predict('I really liked that movie!')") { e, a in
                let (label, probs) = try e.predict(text: try a.string("text"))
                return .tuple([.string(label), .int(e.labels.firstIndex(of: label) ?? 0),
                               .tensor(Tensor(shape: [probs.count], data: probs))])
            }
            .attribute("n_learners", "how many classifiers are averaged") { .int($0.learners.count) }
            .display { e in
                let directions = e.learners.map { $0.data.backwards ? "backwards" : "forwards" }.joined(separator: ", ")
                return "Ensemble: \(e.learners.count) text classifiers (\(directions)), classes \(pyList(e.labels)); probabilities averaged"
            }
        s.register(type: ensembleType)
        s.register(Builtin("ensemble", [Param("learners", "a list of text classifier learners, like [learn_fwd, learn_bwd]")],
                           summary: "average the class probabilities of text classifiers (a forward and a backward one, as in the ULMFiT paper); same vocabulary and classes",
                           example: sample + "; ens = ensemble([learn_fwd, learn_bwd]); ens.accuracy(f)",
                           topic: "learn") { a in
            let v = try a.value("learners")
            guard case .list(let items) = v else {
                throw a.error("'learners' must be a list of text classifier learners, like [learn_fwd, learn_bwd], got \(v.typeName)")
            }
            let learners = try items.enumerated().map { i, x -> TextClassifierLearner in
                if let l = types.clas.unwrap(x) { return l }
                if types.lm.unwrap(x) != nil {
                    throw a.error("learners[\(i)] is a language-model learner; ensemble averages text classifiers (text_classifier_learner)")
                }
                throw a.error("learners[\(i)] must be a text classifier learner, got \(x.typeName)")
            }
            return ensembleType.wrap(try ClassifierEnsemble(learners))
        })
    }
}
