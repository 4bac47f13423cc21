import CBLAS
import Foundation

/// Thin Swift wrappers over OpenBLAS. All matrices are row-major.
public enum BLAS {
    /// `C = alpha · op(A) · op(B) + beta · C` on raw buffers.
    /// - Parameters:
    ///   - a: (m, k) or, when `transA`, (k, m), with leading dimension `lda`.
    ///   - b: (k, n) or, when `transB`, (n, k), with leading dimension `ldb`.
    ///   - c: (m, n) with leading dimension `ldc`.
    @inlinable
    public static func sgemm(transA: Bool = false, transB: Bool = false,
                             m: Int, n: Int, k: Int, alpha: Float = 1,
                             a: UnsafePointer<Float>, lda: Int,
                             b: UnsafePointer<Float>, ldb: Int,
                             beta: Float = 0,
                             c: UnsafeMutablePointer<Float>, ldc: Int) {
        guard m > 0, n > 0 else { return }
        cblas_sgemm(CblasRowMajor,
                    transA ? CblasTrans : CblasNoTrans,
                    transB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha,
                    a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    /// Number of threads OpenBLAS uses.
    public static var threads: Int {
        get { Int(openblas_get_num_threads()) }
        set { openblas_set_num_threads(Int32(newValue)) }
    }

    /// OpenBLAS's name for the CPU kernels in use (e.g. "Haswell").
    public static var coreName: String { String(cString: openblas_get_corename()) }

    /// OpenBLAS's build configuration string.
    public static var config: String { String(cString: openblas_get_config()) }

    /// The `OPENBLAS_CORETYPE` this process should run with instead of the kernels OpenBLAS
    /// chose, or nil when they are fine: "Haswell" when the variable is unset, the CPU has AVX2
    /// and FMA, and OpenBLAS fell back to pre-AVX2 kernels. OpenBLAS only recognises the CPUs it
    /// knew when it was built: Debian 12's 0.3.21 takes a 5th-generation Xeon for a Prescott
    /// (SSE3), whose sgemm runs at about a fifth of the Haswell kernels' speed there. OpenBLAS
    /// reads the variable only when it is loaded, so a program must set it and re-run itself
    /// (as `lmlab` does on start).
    public static var kernelOverride: String? {
        guard ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"] == nil,
              preAVX2Cores.contains(coreName.lowercased()) else { return nil }
        return CPUFeatures.hasAVX2FMA ? "Haswell" : nil
    }

    /// Set (to the core) by a program that re-ran itself with `kernelOverride`, so that it can
    /// tell its own choice from the user's.
    public static let relaunchMarker = "LMLAB_OPENBLAS_RELAUNCHED"

    /// OpenBLAS's x86 cores without AVX2 kernels (lower-cased names).
    static let preAVX2Cores: Set<String> = [
        "katmai", "coppermine", "northwood", "prescott", "banias", "atom", "core2", "penryn",
        "dunnington", "nehalem", "sandybridge", "opteron", "opteron_sse3", "barcelona", "bobcat",
        "bulldozer", "piledriver", "steamroller", "excavator", "nano", "unknown",
    ]
}

/// The CPU's feature flags as Linux lists them in /proc/cpuinfo (empty elsewhere).
public enum CPUFeatures {
    public static let flags: Set<String> = {
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix("flags") }),
              let colon = line.firstIndex(of: ":") else { return [] }
        return Set(line[line.index(after: colon)...].split(separator: " ").map(String.init))
    }()

    /// AVX2 and FMA: what OpenBLAS's Haswell kernels and the `-target-cpu haswell` targets need.
    public static var hasAVX2FMA: Bool { flags.contains("avx2") && flags.contains("fma") }

    /// AVX-512 F, BW, DQ and VL: what OpenBLAS's SkylakeX kernels and `AVX512Kernels` need.
    public static var hasAVX512: Bool { ["avx512f", "avx512bw", "avx512dq", "avx512vl"].allSatisfy(flags.contains) }
}

/// `y += alpha · x` over whole arrays.
@inlinable
public func axpy(_ alpha: Float, _ x: [Float], _ y: inout [Float]) {
    precondition(x.count == y.count, "axpy: \(x.count) vs \(y.count) elements")
    let n = Int32(x.count)
    x.withUnsafeBufferPointer { xp in
        y.withUnsafeMutableBufferPointer { yp in
            cblas_saxpy(n, alpha, xp.baseAddress, 1, yp.baseAddress, 1)
        }
    }
}

extension Tensor {
    /// Matrix product of two matrices, either of which may be used transposed.
    ///
    ///     a.matmul(b)                    // (m,k)·(k,n)
    ///     a.matmul(b, transposeB: true)  // (m,k)·(n,k)ᵀ
    public func matmul(_ other: Tensor, transposeA: Bool = false, transposeB: Bool = false) -> Tensor {
        precondition(rank == 2 && other.rank == 2, "matmul needs matrices, got \(shape) and \(other.shape)")
        let m = transposeA ? shape[1] : shape[0]
        let k = transposeA ? shape[0] : shape[1]
        let kb = transposeB ? other.shape[1] : other.shape[0]
        let n = transposeB ? other.shape[0] : other.shape[1]
        precondition(k == kb, "matmul inner sizes differ: \(shape)\(transposeA ? "ᵀ" : "") · \(other.shape)\(transposeB ? "ᵀ" : "")")
        var out = [Float](repeating: 0, count: m * n)
        if k > 0 {
            data.withUnsafeBufferPointer { a in
                other.data.withUnsafeBufferPointer { b in
                    out.withUnsafeMutableBufferPointer { c in
                        BLAS.sgemm(transA: transposeA, transB: transposeB, m: m, n: n, k: k,
                                   a: a.baseAddress!, lda: shape[1],
                                   b: b.baseAddress!, ldb: other.shape[1],
                                   c: c.baseAddress!, ldc: n)
                    }
                }
            }
        }
        return Tensor(shape: [m, n], data: out)
    }

    /// Batched matrix product of (batch, m, k) and (batch, k, n) tensors (strided batches).
    public func batchedMatmul(_ other: Tensor, transposeA: Bool = false, transposeB: Bool = false) -> Tensor {
        precondition(rank == 3 && other.rank == 3 && shape[0] == other.shape[0],
                     "batchedMatmul needs (b,m,k) and (b,k,n), got \(shape) and \(other.shape)")
        let batch = shape[0]
        let m = transposeA ? shape[2] : shape[1]
        let k = transposeA ? shape[1] : shape[2]
        let kb = transposeB ? other.shape[2] : other.shape[1]
        let n = transposeB ? other.shape[1] : other.shape[2]
        precondition(k == kb, "batchedMatmul inner sizes differ: \(shape) · \(other.shape)")
        let sa = shape[1] * shape[2], sb = other.shape[1] * other.shape[2], sc = m * n
        var out = [Float](repeating: 0, count: batch * sc)
        if k > 0 {
            data.withUnsafeBufferPointer { a in
                other.data.withUnsafeBufferPointer { b in
                    out.withUnsafeMutableBufferPointer { c in
                        for i in 0..<batch {
                            BLAS.sgemm(transA: transposeA, transB: transposeB, m: m, n: n, k: k,
                                       a: a.baseAddress! + i * sa, lda: shape[2],
                                       b: b.baseAddress! + i * sb, ldb: other.shape[2],
                                       c: c.baseAddress! + i * sc, ldc: n)
                        }
                    }
                }
            }
        }
        return Tensor(shape: [batch, m, n], data: out)
    }
}
