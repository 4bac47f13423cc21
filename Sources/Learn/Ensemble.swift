import Foundation
import Models
import Tensor
import Text

/// ULMFiT's bidirectional classifier: text classifiers (one reading forwards, one backwards)
/// whose class probabilities are averaged, as the ULMFiT paper does for its best IMDb result.
/// fastai has no object for it; the book's words are `get_preds` on each learner and the mean.
///
/// ```swift
/// let ens = try ClassifierEnsemble([learnFwd, learnBwd])
/// let preds = try ens.predictions()         // the first learner's validation texts
/// print(preds.accuracy, preds.memberAccuracies)
/// let (label, probs) = try ens.predict(text: "I really liked that movie!")
/// ```
public struct ClassifierEnsemble {
    public let learners: [TextClassifierLearner]

    /// Checks that the classifiers can be averaged: at least two, with one vocabulary and one
    /// list of classes (a one-line error names the first that differs).
    public init(_ learners: [TextClassifierLearner]) throws {
        guard learners.count >= 2 else {
            throw LearnError.invalidArgument("ensemble: needs at least two classifiers, got \(learners.count)")
        }
        let first = learners[0].data
        for (i, l) in learners.enumerated().dropFirst() {
            try Self.check(l.data.vocab, l.data.labels, against: first.vocab, first.labels,
                           what: "classifier \(i)", reference: "classifier 0")
        }
        self.learners = learners
    }

    public var labels: [String] { learners[0].data.labels }
    public var vocab: Vocab { learners[0].data.vocab }

    private static func check(_ vocab: Vocab, _ labels: [String], against refVocab: Vocab, _ refLabels: [String],
                              what: String, reference: String) throws {
        guard vocab.items == refVocab.items else {
            throw LearnError.invalidArgument("ensemble: \(what) has another vocabulary (\(vocab.count) tokens) than \(reference) (\(refVocab.count) tokens)")
        }
        guard labels == refLabels else {
            throw LearnError.invalidArgument("ensemble: \(what) has the classes \(labels.joined(separator: ", ")) but \(reference) has \(refLabels.joined(separator: ", "))")
        }
    }

    /// Every classifier's probabilities for the validation texts of `data` (default: the first
    /// learner's data) and their mean. Each classifier reads the texts in its own direction
    /// (they are reversed when it and `data` differ), so either direction's data will do.
    public func predictions(on data: ClassifierLearnerData? = nil) throws -> EnsemblePredictions {
        let data = data ?? learners[0].data
        try Self.check(data.vocab, data.labels, against: vocab, labels, what: "the data", reference: "the classifiers")
        let valid = data.valid
        guard !valid.documents.isEmpty else { throw LearnError.emptyValidationSet }
        let members = try learners.map { l -> Tensor in
            let docs = l.data.backwards == data.backwards ? valid.documents : valid.documents.map(reverseText)
            let loader = try SortedDataLoader(documents: docs, labels: valid.labels, bs: valid.bs, seqLen: valid.seqLen,
                                              padIndex: Int(valid.padIndex), padFirst: valid.padFirst)
            return try Self.probabilities(l.model, loader)
        }
        var mean = [Float](repeating: 0, count: members[0].count)
        for m in members { for i in mean.indices { mean[i] += m.data[i] } }
        let k = Float(members.count)
        for i in mean.indices { mean[i] /= k }
        return EnsemblePredictions(members: members, mean: Tensor(shape: members[0].shape, data: mean),
                                   targets: valid.labels)
    }

    /// Accuracy of the averaged probabilities on the validation texts of `data`.
    public func accuracy(on data: ClassifierLearnerData? = nil) throws -> Double {
        try predictions(on: data).accuracy
    }

    /// The averaged class probabilities of one text, and the most probable label.
    public func predict(text: String) throws -> (label: String, probabilities: [Float]) {
        var mean = [Float](repeating: 0, count: labels.count)
        for l in learners {
            let (_, p) = try l.predict(text: text)
            for i in mean.indices { mean[i] += p[i] / Float(learners.count) }
        }
        let best = mean.indices.max { mean[$0] < mean[$1] } ?? 0
        return (labels[best], mean)
    }

    /// Softmax probabilities `[n, classes]` of every document of `loader`, in dataset order
    /// (eval mode; the model's mode is restored afterwards).
    private static func probabilities(_ model: TextClassifierModel, _ loader: SortedDataLoader) throws -> Tensor {
        let c = model.classes
        var out = [Float](repeating: 0, count: loader.documents.count * c)
        let was = model.isTraining
        model.isTraining = false
        defer { model.isTraining = was }
        model.reset()
        let epoch = loader.epoch(0)
        for (b, indices) in epoch.batches.enumerated() {
            let (x, _) = epoch[b]
            let probs = Softmax.softmax(try model.forward(x))
            for (r, doc) in indices.enumerated() {
                for j in 0..<c { out[doc * c + j] = probs.data[r * c + j] }
            }
        }
        return Tensor(shape: [loader.documents.count, c], data: out)
    }
}

/// What `ClassifierEnsemble.predictions` computes: each classifier's probabilities
/// `[n, classes]`, their mean and the targets, in the data's dataset order.
public struct EnsemblePredictions: Sendable {
    public var members: [Tensor]
    public var mean: Tensor
    public var targets: [Int]

    /// Accuracy of the mean (ties go to the first class, as `torch.argmax`).
    public var accuracy: Double { Self.accuracy(mean, targets) }
    /// Accuracy of each classifier alone.
    public var memberAccuracies: [Double] { members.map { Self.accuracy($0, targets) } }

    static func accuracy(_ probs: Tensor, _ targets: [Int]) -> Double {
        // The shapes are made together in `predictions`, so this cannot fail.
        Double(try! Learn.accuracy(logits: probs, targets: targets))
    }
}
