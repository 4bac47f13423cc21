import ArgumentParser
import Foundation
import Learn
import Models
import Tensor
#if canImport(Glibc)
import Glibc
#endif

/// `lmlab bench generate`: milliseconds per generated word for LMLearner.predict's two paths:
/// our carried-state generation (each step feeds one token) against fastai's loop (reset and
/// re-run the whole prefix every step).
struct BenchGenerate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Time text generation: carried state versus re-running the prefix (ms per word).")

    @Option(help: "Vocabulary size.") var vocab = 60_000
    @Option(help: "Embedding size.") var emb = 400
    @Option(help: "Hidden size.") var hid = 1152
    @Option(help: "Number of LSTM layers.") var layers = 3
    @Option(help: "Prompt length in tokens.") var prompt = 6
    @Option(help: "Words to generate.") var words = 40
    @Option(parsing: .unconditional, help: "OpenBLAS threads.") var threads: Int?

    func validate() throws {
        for (name, v) in [("vocab", vocab), ("emb", emb), ("hid", hid), ("layers", layers), ("prompt", prompt), ("words", words)] where v <= 0 {
            throw ValidationError("--\(name) must be positive, got \(v)")
        }
        try checkThreads(threads)
    }

    func run() throws {
        if let threads { BLAS.threads = threads }
        let lm = try AWDLSTMLanguageModel(config: AWDLSTMConfig(embSize: emb, hiddenSize: hid, layers: layers),
                                          vocabSize: vocab, seed: 1)
        lm.isTraining = false
        let tokens = (0..<vocab).map { "w\($0)" }
        let ids = [2] + (1..<prompt).map { 9 + $0 % max(1, vocab - 9) }
        print("bench generate: vocab \(vocab), emb \(emb), hid \(hid), layers \(layers), prompt \(prompt) tokens, \(words) words")
        var texts: [String] = []
        for (name, predictor) in [("carried state", lm as NextTokenPredictor), ("re-run prefix", RerunPrefixPredictor(lm))] {
            var rng = SeededGenerator(seed: 7)
            let (w0, c0) = (Date(), processCPUSeconds())
            let g = try generate(predictor, prompt: ids, vocab: tokens, unkIndex: 0,
                                 options: GenerationOptions(nWords: words, temperature: 0.75), using: &rng)
            let wall = Date().timeIntervalSince(w0), cpu = processCPUSeconds() - c0
            texts.append(g.text)
            print(String(format: "%-14@ %8.2f ms/word wall, %8.2f ms/word cpu", name as NSString,
                         1000 * wall / Double(words), 1000 * cpu / Double(words)))
        }
        print("same text from both paths: \(texts[0] == texts[1])")
    }
}
