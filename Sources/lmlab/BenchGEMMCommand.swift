import ArgumentParser
import Dispatch
import Foundation
import Models
import Tensor

/// `lmlab bench gemm`: single-threaded GFLOP/s of OpenBLAS's sgemm and of LMLab's AVX-512 GEMM on
/// the shapes of the language model's large products.
struct BenchGEMM: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gemm",
        abstract: "Compare OpenBLAS sgemm with LMLab's own AVX-512 GEMM, one thread, on model-sized products.",
        discussion: """
        Each row is C = op(A)·op(B) for the given m×n×k (T: the operand is used transposed), the \
        best of --runs timed runs of about --seconds each, alternating between the two. The model uses the AVX-512 GEMM whenever the \
        CPU has AVX-512 (LMLAB_AVX512=0 turns it off).
        """)

    @Option(help: "Seconds per timed run.") var seconds: Double = 0.1
    @Option(help: "Timed runs of each implementation, alternating; the best counts (shared machines have bursts of load).") var runs = 7
    @Option(help: "Extra shape as m,n,k[,TA][,TB] (repeatable).") var shape: [String] = []

    func validate() throws {
        guard seconds > 0 else { throw ValidationError("--seconds must be positive") }
        guard runs > 0 else { throw ValidationError("--runs must be positive") }
        for s in shape {
            guard let sh = Shape(s) else { throw ValidationError("--shape '\(s)': expected m,n,k[,TA][,TB] (positive integers)") }
            // A, B and two results (BLAS's and ours), 4 bytes a float.
            let (m, n, k) = (Double(sh.m), Double(sh.n), Double(sh.k))
            try ensureBenchFits(bytes: 4 * (m * k + k * n + 2 * m * n), "bench gemm --shape \(s)")
        }
    }

    struct Shape {
        var m: Int, n: Int, k: Int, transA = false, transB = false, label = ""
        init(m: Int, n: Int, k: Int, transA: Bool = false, transB: Bool = false, label: String) {
            (self.m, self.n, self.k, self.transA, self.transB, self.label) = (m, n, k, transA, transB, label)
        }
        init?(_ text: String) {
            let parts = text.split(separator: ",").map(String.init)
            guard parts.count >= 3, let m = Int(parts[0]), let n = Int(parts[1]), let k = Int(parts[2]),
                  m > 0, n > 0, k > 0, parts.dropFirst(3).allSatisfy({ $0 == "TA" || $0 == "TB" }) else { return nil }
            self.init(m: m, n: n, k: k, transA: parts.contains("TA"), transB: parts.contains("TB"), label: "--shape")
        }
    }

    func run() throws {
        print("OpenBLAS core \(BLAS.coreName); AVX-512 GEMM \(GEMM.usesAVX512 ? "on" : "off (CPU without AVX-512 or LMLAB_AVX512=0)")")
        let shapes = [
            Shape(m: 1536, n: 1536, k: 1536, label: "square"),
            Shape(m: 1152, n: 4608, k: 400, transB: true, label: "LSTM input projection, 64×18 rows"),
            Shape(m: 2304, n: 1152, k: 4608, transA: true, label: "LSTM weight gradient, half the gates"),
            Shape(m: 1152, n: 400, k: 4608, label: "LSTM input gradient"),
            Shape(m: 1118, n: 30_000, k: 400, transB: true, label: "decoder logits, half the vocabulary"),
            Shape(m: 1118, n: 400, k: 30_000, label: "decoder input gradient"),
            Shape(m: 30_000, n: 400, k: 1118, transA: true, label: "decoder weight gradient"),
            Shape(m: 576, n: 2048, k: 200, transB: true, label: "mid-size input projection"),
        ] + shape.compactMap(Shape.init)
        let saved = BLAS.threads
        BLAS.threads = 1
        defer { BLAS.threads = saved }
        print("shape (m×n×k)                     OpenBLAS    AVX-512   ratio   max |Δ|/max |C|")
        for s in shapes {
            let rowsA = s.transA ? s.k : s.m, colsA = s.transA ? s.m : s.k
            let rowsB = s.transB ? s.n : s.k, colsB = s.transB ? s.k : s.n
            var rng = SeededGenerator(seed: 7)
            let a = (0..<(rowsA * colsA)).map { _ in Float(rng.next() % 2001) / 1000 - 1 }
            let b = (0..<(rowsB * colsB)).map { _ in Float(rng.next() % 2001) / 1000 - 1 }
            var c1 = [Float](repeating: 0, count: s.m * s.n), c2 = c1
            func once(_ avx512: Bool, _ c: inout [Float]) {
                a.withUnsafeBufferPointer { ap in b.withUnsafeBufferPointer { bp in c.withUnsafeMutableBufferPointer { cp in
                    GEMM.sgemm(transA: s.transA, transB: s.transB, m: s.m, n: s.n, k: s.k, a: ap.baseAddress!, lda: colsA,
                               b: bp.baseAddress!, ldb: colsB, c: cp.baseAddress!, ldc: s.n, avx512: avx512)
                } } }
            }
            func rate(_ avx512: Bool, _ c: inout [Float]) -> Double {
                let (reps, wall, _) = timed(seconds) { _ in once(avx512, &c) }
                return 2 * Double(s.m * s.n * s.k) * Double(reps) / wall / 1e9
            }
            var blas = 0.0, ours = 0.0
            for _ in 0..<runs {
                blas = max(blas, rate(false, &c1))
                if GEMM.usesAVX512 { ours = max(ours, rate(true, &c2)) }
            }
            guard GEMM.usesAVX512 else {
                print(pad("\(s.m)×\(s.n)×\(s.k)\(s.transA ? " Aᵀ" : "")\(s.transB ? " Bᵀ" : "")", 32) + pad(fmt(blas), 10, left: true) + "  (\(s.label))")
                continue
            }
            let scale = c1.map(abs).max() ?? 1
            let diff = zip(c1, c2).map { abs($0 - $1) }.max() ?? 0
            print(pad("\(s.m)×\(s.n)×\(s.k)\(s.transA ? " Aᵀ" : "")\(s.transB ? " Bᵀ" : "")", 32)
                  + pad(fmt(blas), 10, left: true) + pad(fmt(ours), 11, left: true)
                  + pad(String(format: "%.2f×", ours / blas), 8, left: true)
                  + pad(String(format: "%.1e", diff / max(scale, 1e-30)), 10, left: true) + "  \(s.label)")
        }
        print("(GFLOP/s, one thread, best of \(runs) runs)")
    }

    private func fmt(_ x: Double) -> String { String(format: "%.1f", x) }
    private func pad(_ s: String, _ w: Int, left: Bool = false) -> String {
        let fill = String(repeating: " ", count: max(0, w - s.count))
        return left ? fill + s : s + fill
    }
}
