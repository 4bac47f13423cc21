import ArgumentParser
import Foundation
import Learn
import Models
import Tensor
import Text

/// `lmlab bench clas`: time of the ULMFiT classifier's training and evaluation batches, on random
/// documents batched as the recipe batches them (`SortedDataLoader`: similar lengths together,
/// padded in whole chunks), with the parts of a training step timed apart.
struct BenchClas: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "clas",
        abstract: "Time text-classifier training and evaluation batches on random padded documents.",
        discussion: """
        Documents of random tokens with log-normal lengths (median --median-len, σ 0.6 in log \
        space, 10 to 3,000 tokens: about IMDb's reviews) go through the recipe's SortedDataLoader \
        (shuffled, bs as given) and the classifier of `text_classifier_learner` (classifier \
        dropouts times --drop-mult, head [50], Adam with wd 0.01 over fastai's parameter groups, \
        AR 2 / TAR 1). A training step is forward + loss + backward + Adam step + zero_grad, every \
        group unfrozen (or only the head with --frozen); an evaluation step is forward + loss in \
        eval mode. Prints seconds per batch (wall and CPU) and per part: encoder forward, the whole \
        forward-backward, Adam.
        """)

    @Option(help: "Vocabulary size.") var vocab = 8_000
    @Option(help: "Embedding size.") var emb = 128
    @Option(help: "Hidden size.") var hid = 256
    @Option(help: "Number of LSTM layers.") var layers = 2
    @Option(help: "Batch size.") var bs = 32
    @Option(help: "Chunk length (bptt).") var bptt = 72
    @Option(help: "Median document length in tokens.") var medianLen = 230
    @Option(help: "Batches to time in each phase.") var batches = 20
    @Option(name: .customLong("drop-mult"), help: "drop_mult applied to the classifier dropouts.") var dropMult: Float = 0.5
    @Flag(help: "Train only the head (freeze_to(-1)), as the recipe's first stage.") var frozen = false
    @Option(parsing: .unconditional, help: "OpenBLAS threads (default: OpenBLAS's own choice).") var threads: Int?

    func validate() throws {
        for (name, v) in [("vocab", vocab), ("emb", emb), ("hid", hid), ("layers", layers), ("bs", bs), ("bptt", bptt),
                          ("median-len", medianLen), ("batches", batches)] where v <= 0 {
            throw ValidationError("--\(name) must be positive, got \(v)")
        }
        guard bs > 1 else { throw ValidationError("--bs must be at least 2 (BatchNorm in training mode)") }
        guard dropMult >= 0, dropMult.isFinite else { throw ValidationError("--drop-mult must be a finite number ≥ 0, got \(dropMult)") }
        try checkThreads(threads)
        // Model, gradients, Adam state and activations, estimated as the learner does.
        let config = AWDLSTMConfig(embSize: emb, hiddenSize: hid, layers: layers)
        let estimate = MemoryEstimate.classifier(config: config, vocabSize: vocab, classes: 2, bs: bs, bptt: bptt)
        try ensureBenchFits(bytes: estimate.total, "bench clas: \(estimate.description)")
    }

    func run() throws {
        if let threads { BLAS.threads = threads }
        print("bench clas: vocab \(vocab), emb \(emb), hid \(hid), layers \(layers), bs \(bs), bptt \(bptt), median length \(medianLen), drop_mult \(dropMult)\(frozen ? ", head only" : "")")
        print("BLAS: OpenBLAS core \(BLAS.coreName), \(BLAS.threads) threads; LMLab's AVX-512 GEMM \(GEMM.usesAVX512 ? "on" : "off")")
        var rng = SeededGenerator(seed: 3)
        let docCount = bs * (batches + 2)
        let docs: [[Int]] = (0..<docCount).map { _ in
            let len = min(3000, max(10, Int((Double(medianLen) * Foundation.exp(0.6 * Double(rng.nextNormal()))).rounded())))
            return (0..<len).map { _ in 2 + Int(rng.next() % UInt64(vocab - 2)) }   // no pad (1) inside a text
        }
        let labels = (0..<docCount).map { $0 % 2 }
        let loader = try SortedDataLoader(documents: docs, labels: labels, bs: bs, seqLen: bptt, shuffle: true, seed: 4)
        // Batch 0 of an epoch is the one with the longest text; time the others, as most of an epoch.
        let epochBatches = loader.epoch(0)
        let timedBatches = (1..<epochBatches.count).map { epochBatches[$0] }
        let tokens = timedBatches.reduce(0) { $0 + $1.x.batchSize * $1.x.seqLen }
        print("batches: \(timedBatches.count), padded length \(timedBatches.map(\.x.seqLen).min()!)–\(timedBatches.map(\.x.seqLen).max()!), mean \(tokens / timedBatches.count / bs) tokens a row")

        var config = AWDLSTMConfig.classifier
        config.embSize = emb; config.hiddenSize = hid; config.layers = layers
        let model = try TextClassifierModel(config: config.scaled(dropMult: dropMult), vocabSize: vocab, classes: 2,
                                            bptt: bptt, seed: 1)
        let optimizer = try Optimizer(parameters: model.parameters, split: .awdLSTMClassifier(layers: layers),
                                      hypers: GroupHypers(lr: 1e-3, wd: 0.01))
        if frozen { optimizer.freeze() } else { optimizer.unfreeze() }

        model.isTraining = true
        var forward = 0.0, step = 0.0, adam = 0.0
        func trainStep(_ b: (x: TokenBatch, y: [Int]), parts: Bool) throws {
            if parts {
                // The forward alone, untimed in the step itself (it runs again below).
                let t0 = wallSeconds()
                _ = try model.forward(b.x)
                forward += wallSeconds() - t0
            }
            let t1 = wallSeconds()
            _ = try model.lossAndBackward(x: b.x, y: b.y, arAlpha: TextRegularization.alpha, tarBeta: TextRegularization.beta)
            let t2 = wallSeconds()
            optimizer.step()
            optimizer.zeroGrad()
            step += t2 - t1
            adam += wallSeconds() - t2
        }
        try trainStep(timedBatches[0], parts: false)   // warm-up: buffers reach their size
        step = 0; adam = 0
        let (w0, c0) = (wallSeconds(), processCPUSeconds())
        for b in timedBatches { try trainStep(b, parts: false) }
        let (trainWall, trainCPU) = (wallSeconds() - w0, processCPUSeconds() - c0)
        step = 0; adam = 0
        for b in timedBatches { try trainStep(b, parts: true) }
        let n = Double(timedBatches.count)

        model.isTraining = false
        _ = try model.forward(timedBatches[0].x)
        let (w1, c1) = (wallSeconds(), processCPUSeconds())
        for b in timedBatches {
            let logits = try model.forward(b.x)
            _ = try TextClassifierModel.crossEntropy(logits: logits, targets: b.y)
        }
        let (evalWall, evalCPU) = (wallSeconds() - w1, processCPUSeconds() - c1)

        func ms(_ s: Double) -> String { String(format: "%.1f ms", 1000 * s / n) }
        print(String(format: "train: %.1f ms/batch wall, %.1f ms/batch CPU (%.0f%% of wall), %.0f padded tokens/s",
                     1000 * trainWall / n, 1000 * trainCPU / n, 100 * trainCPU / trainWall, Double(tokens) / trainWall))
        print("  parts (second pass): forward \(ms(forward)) (training mode, alone), forward+loss+backward \(ms(step)), Adam step + zero_grad \(ms(adam))")
        print(String(format: "eval:  %.1f ms/batch wall, %.1f ms/batch CPU (%.0f%% of wall), %.0f padded tokens/s",
                     1000 * evalWall / n, 1000 * evalCPU / n, 100 * evalCPU / evalWall, Double(tokens) / evalWall))
    }
}
