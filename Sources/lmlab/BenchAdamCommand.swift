import ArgumentParser
import Foundation
import Learn
import Tensor

/// `lmlab bench adam`: time of one fastai-Adam optimizer step over `--floats` parameters.
struct BenchAdam: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "adam", abstract: "Time Learn's Adam step (ms per step) over a given number of floats.")

    @Option(help: "Number of parameters (floats), split into 4 tensors.") var floats = 24_000_000
    @Option(help: "Steps to time.") var steps = 10

    func validate() throws {
        guard floats > 0 else { throw ValidationError("--floats must be positive, got \(floats)") }
        guard steps > 0 else { throw ValidationError("--steps must be positive, got \(steps)") }
        // Parameters, gradients and Adam's two moments: 16 bytes a float.
        try ensureBenchFits(bytes: 16 * Double(floats), "bench adam: \(floats) floats")
    }

    func run() throws {
        let per = max(1, floats / 4)
        var rng = SeededGenerator(seed: 1)
        let params = (0..<4).map { i -> Parameter in
            let p = Parameter("p\(i)", Tensor.uniform([per], low: -0.1, high: 0.1, using: &rng))
            p.grad = Tensor.uniform([per], low: -0.01, high: 0.01, using: &rng)
            p.hasGrad = true
            return p
        }
        let opt = Optimizer(groups: [params], hypers: [GroupHypers(lr: 1e-3)])
        opt.step()   // allocates the moments
        let (t0, c0) = (Date(), clock())
        for _ in 0..<steps { opt.step() }
        let ms = 1000 * Date().timeIntervalSince(t0) / Double(steps)
        let cpu = 1000 * Double(clock() - c0) / Double(CLOCKS_PER_SEC) / Double(steps)
        print(String(format: "adam: %d floats, %.1f ms/step wall, %.1f ms/step cpu", 4 * per, ms, cpu))
    }
}
