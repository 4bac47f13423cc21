import ArgumentParser
import Foundation
import Learn
import Models
import Tensor
#if canImport(Glibc)
import Glibc
#endif

/// `lmlab bench lm`: training and evaluation throughput of the AWD-LSTM language model on random
/// tokens, against the sgemm peak measured in the same run.
struct BenchLM: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lm",
        abstract: "Time AWD-LSTM language-model training and evaluation steps on random tokens.",
        discussion: """
        A training step is forward + flattened cross-entropy + backward + a step of Learn's Adam \
        (set as the PyTorch reference timing script's Adam: no weight decay); an evaluation step is \
        forward + loss without gradients. \
        Dropout is on in training (drop_mult as given). Prints tokens/s, achieved GFLOP/s, the \
        sgemm peak measured in the same run (and the peak of LMLab's AVX-512 GEMM, which the \
        model's large products use on CPUs with AVX-512), the BLAS core and threads, and peak \
        resident memory.
        """)

    @Option(help: "Vocabulary size.") var vocab = 60_000
    @Option(help: "Embedding size.") var emb = 400
    @Option(help: "Hidden size.") var hid = 1152
    @Option(help: "Number of LSTM layers.") var layers = 3
    @Option(help: "Batch size.") var bs = 64
    @Option(help: "Sequence length (bptt).") var bptt = 72
    @Option(help: "Seconds to spend on training steps (the same again on evaluation).") var seconds: Double = 20
    @Option(name: .customLong("drop-mult"), help: "drop_mult applied to the LM dropouts.") var dropMult: Float = 0.3
    @Option(parsing: .unconditional, help: "OpenBLAS threads (default: OpenBLAS's own choice).") var threads: Int?
    @Flag(name: .customLong("best-kernels"),
          help: "Re-run with OpenBLAS's fastest kernels for this CPU (AVX-512 ones where it has AVX-512; OPENBLAS_L2_SIZE unset).")
    var bestKernels = false

    func validate() throws {
        for (name, v) in [("vocab", vocab), ("emb", emb), ("hid", hid), ("layers", layers), ("bs", bs), ("bptt", bptt)] where v <= 0 {
            throw ValidationError("--\(name) must be positive, got \(v)")
        }
        guard seconds > 0, seconds.isFinite else { throw ValidationError("--seconds must be a finite positive number, got \(seconds)") }
        guard dropMult >= 0, dropMult.isFinite else { throw ValidationError("--drop-mult must be a finite number ≥ 0, got \(dropMult)") }
        try checkThreads(threads)
        // Model, gradients, Adam state and activations, estimated as the learner does.
        let config = AWDLSTMConfig(embSize: emb, hiddenSize: hid, layers: layers)
        let estimate = MemoryEstimate.languageModel(config: config, vocabSize: vocab, bs: bs, bptt: bptt)
        try ensureBenchFits(bytes: estimate.total, "bench lm: \(estimate.description)")
    }

    func run() throws {
        if bestKernels { try reexecWithBestKernels() }
        let env = ProcessInfo.processInfo.environment
        let overrides = ["OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"].compactMap { k in
            env[k].map { "\(k)=\($0)" }
        }
        if let core = env[BLAS.relaunchMarker], env["OPENBLAS_CORETYPE"] == core {
            print("note: OpenBLAS did not recognise this CPU and chose generic kernels; lmlab runs its \(core) kernels instead (--best-kernels picks the fastest for this CPU)")
        } else if !overrides.isEmpty {
            print("note: OpenBLAS kernel overrides in the environment: \(overrides.joined(separator: " ")) (--best-kernels picks the fastest for this CPU)")
        }
        if let threads { BLAS.threads = threads }
        print("bench lm: vocab \(vocab), emb \(emb), hid \(hid), layers \(layers), bs \(bs), bptt \(bptt), drop_mult \(dropMult)")
        print("BLAS: OpenBLAS core \(BLAS.coreName), \(BLAS.threads) threads; LMLab's AVX-512 GEMM \(GEMM.usesAVX512 ? "on" : "off")")
        let sgemmPeak = measureSgemmPeak(avx512: false)
        print(String(format: "sgemm peak: %.1f GFLOP/s wall, %.1f GFLOP per CPU-second (OpenBLAS, 1536³, best of 5)", sgemmPeak.wall, sgemmPeak.cpu))
        var ownPeak: (wall: Double, cpu: Double)?
        if GEMM.usesAVX512 {
            // The model's large products run on LMLab's own kernel here: a second yardstick.
            ownPeak = measureSgemmPeak(avx512: true)
            print(String(format: "AVX-512 GEMM peak: %.1f GFLOP/s wall, %.1f GFLOP per CPU-second (LMLab's, same product)",
                         ownPeak!.wall, ownPeak!.cpu))
        }
        let peaks = (sgemm: sgemmPeak, own: ownPeak)

        let config = AWDLSTMConfig(embSize: emb, hiddenSize: hid, layers: layers).scaled(dropMult: dropMult)
        let lm = try AWDLSTMLanguageModel(config: config, vocabSize: vocab, seed: 1)
        var rng = SeededGenerator(seed: 2)
        func batch() throws -> TokenBatch {
            TokenBatch(batchSize: bs, seqLen: bptt, ids: (0..<(bs * bptt)).map { _ in Int(rng.next() % UInt64(vocab)) })
        }
        let batches = try (0..<4).map { _ in (try batch(), try batch()) }
        // The learner's Adam, set as the reference script's torch.optim.Adam: β 0.9/0.99, eps 1e-5, no decay.
        let adam = Optimizer(groups: [lm.parameters], hypers: [GroupHypers(lr: 1e-3, wd: 0)])
        let tokens = Double(bs * bptt)
        let flops = lm.forwardFlops(tokens: bs * bptt)

        lm.isTraining = true
        lm.reset()
        func trainStep(_ i: Int) throws {
            let (x, y) = batches[i % batches.count]
            lm.zeroGrad()
            try lm.lossAndBackward(x: x, y: y)
            adam.step()
        }
        try trainStep(0)  // warm-up: buffers reach their size
        let (trainSteps, trainTime, trainCPU) = try timed(seconds) { try trainStep($0) }
        // Backward ≈ twice the forward's GEMM work (input and weight gradients).
        report("train", steps: trainSteps, wall: trainTime, cpu: trainCPU, tokens: tokens, flops: 3 * flops, peaks: peaks)

        lm.isTraining = false
        lm.reset()
        _ = try lm.loss(x: batches[0].0, y: batches[0].1)
        let (evalSteps, evalTime, evalCPU) = try timed(seconds) { i in
            let (x, y) = batches[i % batches.count]
            _ = try lm.loss(x: x, y: y)
        }
        report("eval", steps: evalSteps, wall: evalTime, cpu: evalCPU, tokens: tokens, flops: flops, peaks: peaks)
        print(String(format: "peak memory (maxrss): %.2f GB", peakResidentBytes() / 1e9))
    }

    /// `--best-kernels`: replaces this process with the same command line minus the flag, with
    /// OpenBLAS on its fastest kernels for this CPU (read only when the library loads): its AVX-512
    /// ones (Cooperlake with bf16, else SkylakeX) when the CPU has AVX-512, otherwise its own choice
    /// (`OPENBLAS_CORETYPE` and `OPENBLAS_L2_SIZE` unset).
    private func reexecWithBestKernels() throws {
        let env = ProcessInfo.processInfo.environment
        let core: String? = CPUFeatures.hasAVX512 ? (CPUFeatures.flags.contains("avx512_bf16") ? "Cooperlake" : "SkylakeX") : nil
        if env["OPENBLAS_CORETYPE"] == core && env["OPENBLAS_L2_SIZE"] == nil {
            print("--best-kernels: OpenBLAS already runs its best kernels here (\(BLAS.coreName))")
            return
        }
        print("--best-kernels: re-running with " + (core.map { "OPENBLAS_CORETYPE=\($0)" } ?? "OPENBLAS_CORETYPE unset")
              + " and OPENBLAS_L2_SIZE unset")
        fflush(nil)
        unsetenv("OPENBLAS_L2_SIZE")
        unsetenv(BLAS.relaunchMarker)
        if let core { setenv("OPENBLAS_CORETYPE", core, 1) } else { unsetenv("OPENBLAS_CORETYPE") }
        let args = CommandLine.arguments.filter { $0 != "--best-kernels" }
        let failure = LMLabCommand.replaceProcess(arguments: args)
        throw ValidationError("--best-kernels: could not re-run \(args[0]): \(failure)")
    }

    /// Prints wall-clock throughput and, because the machine may be shared, the CPU time the
    /// process actually got (tokens per CPU-second is what an idle core would deliver).
    private func report(_ what: String, steps: Int, wall: Double, cpu: Double, tokens: Double, flops: Double,
                        peaks: (sgemm: (wall: Double, cpu: Double), own: (wall: Double, cpu: Double)?)) {
        let n = Double(steps)
        let gfWall = flops * n / wall / 1e9, gfCPU = flops * n / cpu / 1e9
        func shares(_ gf: Double, _ sgemm: Double, _ own: Double?) -> String {
            String(format: "%.0f%% of sgemm peak", 100 * gf / sgemm) + (own.map { String(format: ", %.0f%% of AVX-512 GEMM's", 100 * gf / $0) } ?? "")
        }
        print(String(format: "%@: %d steps, %.3f s/step wall, %.0f tokens/s, %.1f GFLOP/s (%@)",
                     what, steps, wall / n, tokens * n / wall, gfWall, shares(gfWall, peaks.sgemm.wall, peaks.own?.wall)))
        print(String(format: "%@  CPU time %.3f s/step (%.0f%% of wall), %.0f tokens per CPU-second, %.1f GFLOP per CPU-second (%@)",
                     String(repeating: " ", count: what.count), cpu / n, 100 * cpu / wall, tokens * n / cpu, gfCPU,
                     shares(gfCPU, peaks.sgemm.cpu, peaks.own?.cpu)))
    }

    /// GFLOP/s (per wall second and per CPU second) of a large square product, OpenBLAS's
    /// (its own threads) or LMLab's AVX-512 GEMM (split along the columns over as many workers):
    /// the best of five runs of about 0.4 s each, so a burst of load from other processes does
    /// not lower the peak.
    private func measureSgemmPeak(avx512: Bool) -> (wall: Double, cpu: Double) {
        let n = 1536, workers = max(1, BLAS.threads)
        let a = [Float](repeating: 0.5, count: n * n), b = [Float](repeating: 0.25, count: n * n)
        var c = [Float](repeating: 0, count: n * n)
        func once() {
            a.withUnsafeBufferPointer { ap in b.withUnsafeBufferPointer { bp in c.withUnsafeMutableBufferPointer { cp in
                let (pa, pb, pc) = (SendablePointer(ap.baseAddress!), SendablePointer(bp.baseAddress!), SendablePointer(cp.baseAddress!))
                guard avx512 else {
                    BLAS.sgemm(m: n, n: n, k: n, a: pa.p, lda: n, b: pb.p, ldb: n, c: pc.p, ldc: n)
                    return
                }
                DispatchQueue.concurrentPerform(iterations: workers) { w in
                    let j0 = n * w / workers / 32 * 32, j1 = w == workers - 1 ? n : n * (w + 1) / workers / 32 * 32
                    GEMM.sgemm(m: n, n: j1 - j0, k: n, a: pa.p, lda: n, b: pb.p + j0, ldb: n, c: pc.p + j0, ldc: n)
                }
            } } }
        }
        once()
        var best = (wall: 0.0, cpu: 0.0)
        for _ in 0..<5 {
            let (reps, wall, cpu) = timed(0.4) { _ in once() }
            let work = 2 * Double(n * n * n) * Double(reps) / 1e9
            best = (max(best.wall, work / wall), max(best.cpu, work / max(cpu, 1e-9)))
        }
        return best
    }

    /// A raw pointer handed to the workers of one product (each writes its own columns).
    private struct SendablePointer<T>: @unchecked Sendable {
        let p: T
        init(_ p: T) { self.p = p }
    }

    private func peakResidentBytes() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Double(usage.ru_maxrss) * 1024   // Linux reports kilobytes
    }
}
