import ArgumentParser
import Foundation
import Learn
import Models
import Tensor

/// `lmlab bench recipe`: runs the chapter's ULMFiT recipe (`ChapterRecipe`) on a dataset folder
/// and prints the time per stage (wall and CPU), LM perplexity/accuracy and classifier accuracy.
struct BenchRecipe: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "recipe",
        abstract: "Run the chapter's ULMFiT recipe on a folder dataset and time every stage.")

    @Option(help: "Dataset folder (train/<label>, valid/<label>).") var path = "Datasets/imdb_sample"
    @Option(help: "Output folder (token cache, models/, export).") var output = "/tmp/lmlab-recipe"
    @Option(help: "Embedding size.") var emb: Int?
    @Option(help: "Hidden size.") var hid: Int?
    @Option(help: "LSTM layers.") var layers: Int?
    @Option(help: "LM batch size.") var bs: Int?
    @Option(help: "LM sequence length.") var seqLen: Int?
    @Option(help: "Classifier batch size.") var clasBs: Int?
    @Option(help: "Unfrozen LM epochs.") var lmEpochs: Int?
    @Option(help: "Maximum vocabulary size.") var maxVocab: Int?
    @Option(help: "Epochs of the last classifier stage.") var clasEpochs: Int?
    @Option(parsing: .unconditional, help: "OpenBLAS threads.") var threads: Int?
    @Option(help: "Classifier stages as freeze_to:epochs:lr, comma-separated (e.g. -1:1:2e-2,0:4:5e-3).") var clasStages: String?
    @Option(help: "LM learning rate after unfreeze.") var lmLr: Double?
    @Option(help: "Classifier drop_mult.") var clasDropMult: Float?
    @Option(help: "Top/bottom learning-rate ratio of the later classifier stages (book: 2.6^4; 1 = same for all).") var sliceDivisor: Double?
    @Flag(help: "Reuse output/models/finetuned (and finetuned-bwd) from an earlier run: only the classifier stages train.") var reuseEncoder = false
    @Flag(help: "Then the same recipe on the texts read backwards (fastai's backwards=True), and the accuracy of both classifiers' probabilities averaged.") var bidirectional = false
    @Option(help: "Pretrained fastai LM weights (.pth, e.g. from Scripts/fetch-wt103); needs --pretrained-vocab and matching sizes.") var pretrainedWeights: String?
    @Option(help: "Vocabulary pickle of the pretrained weights (.pkl).") var pretrainedVocab: String?

    func validate() throws { try checkThreads(threads) }

    func run() throws {
        if let threads { BLAS.threads = threads }
        var c = ChapterRecipeConfig.sample
        if let emb { c.model.embSize = emb }
        if let hid { c.model.hiddenSize = hid }
        if let layers { c.model.layers = layers }
        if let bs { c.bs = bs }
        if let seqLen { c.seqLen = seqLen }
        if let clasBs { c.clasBS = clasBs }
        if let lmEpochs { c.lmEpochs = lmEpochs }
        if let maxVocab { c.maxVocab = maxVocab }
        if let w = pretrainedWeights, let v = pretrainedVocab {
            c.pretrained = PretrainedWeights(weights: URL(fileURLWithPath: w), vocab: URL(fileURLWithPath: v))
        }
        if let clasStages {
            c.clasStages = try clasStages.split(separator: ",").map { item in
                let f = item.split(separator: ":")
                guard f.count == 3, let a = Int(f[0]), let b = Int(f[1]), let lr = Double(f[2]) else {
                    throw ValidationError("--clas-stages: '\(item)' is not freeze_to:epochs:lr")
                }
                return (a, b, lr)
            }
        }
        if let lmLr { c.lmLR = lmLr }
        if let clasDropMult { c.clasDropMult = clasDropMult }
        c.reuseSavedEncoder = reuseEncoder
        c.bidirectional = bidirectional
        if let sliceDivisor { c.clasSliceDivisor = sliceDivisor }
        if let clasEpochs, !c.clasStages.isEmpty { c.clasStages[c.clasStages.count - 1].epochs = clasEpochs }
        print("recipe: emb \(c.model.embSize), hid \(c.model.hiddenSize), layers \(c.model.layers), bs \(c.bs), seq_len \(c.seqLen), clas bs \(c.clasBS), LM epochs \(c.lmFirstEpochs)+\(c.lmEpochs), stages \(c.clasStages.map { "\($0.freezeTo):\($0.epochs)x\($0.lr)" })\(bidirectional ? ", then backwards and the ensemble" : "")")
        let report = try ChapterRecipe.run(datasetPath: URL(fileURLWithPath: path), config: c,
                                           output: URL(fileURLWithPath: output))
        print(report.summary)
    }
}
