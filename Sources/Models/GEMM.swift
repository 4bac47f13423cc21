import Foundation
import Synchronization
import Tensor
#if arch(x86_64)
import AVX512Kernels
#endif

/// The model's matrix products: `AVX512Kernels.gemm512` on CPUs with AVX-512, OpenBLAS's
/// `sgemm` elsewhere (or with `LMLAB_AVX512=0`). Called single-threaded from inside
/// `WorkSplit`, like OpenBLAS there.
///
/// Why not OpenBLAS everywhere: Debian's OpenBLAS runs AVX2 kernels on CPUs it does not know
/// (and with this project's `OPENBLAS_CORETYPE=Haswell`), about half of an AVX-512 core's speed.
public enum GEMM {
    /// Whether products run on the AVX-512 kernels: when the CPU has AVX-512 F/BW/DQ/VL,
    /// unless `LMLAB_AVX512=0`.
    public static let usesAVX512: Bool = {
        #if arch(x86_64)
        guard ProcessInfo.processInfo.environment["LMLAB_AVX512"] != "0" else { return false }
        return CPUFeatures.hasAVX512
        #else
        return false
        #endif
    }()

    /// `C = alpha · op(A) · op(B) + beta · C` on raw row-major buffers (`BLAS.sgemm`'s contract).
    /// `avx512` chooses the implementation (tests run both where the CPU allows).
    public static func sgemm(transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int, alpha: Float = 1,
                             a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                             beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int,
                             avx512: Bool = usesAVX512) {
        #if arch(x86_64)
        if avx512 {
            let workspace = Workspace.take()
            defer { Workspace.give(workspace) }
            gemm512(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb,
                    beta: beta, c: c, ldc: ldc, workspace: workspace)
            return
        }
        #endif
        BLAS.sgemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb,
                   beta: beta, c: c, ldc: ldc)
    }

    #if arch(x86_64)
    /// Packing buffers for concurrent products: one per worker in use, kept for the next call
    /// (a fresh megabyte-sized allocation per product would page-fault on every call).
    private enum Workspace {
        /// Addresses of the idle buffers (pointers are not Sendable; addresses are).
        private static let pool = Mutex<[UInt]>([])

        static func take() -> UnsafeMutablePointer<Float> {
            if let address = pool.withLock({ $0.popLast() }), let buffer = UnsafeMutablePointer<Float>(bitPattern: address) {
                return buffer
            }
            return .allocate(capacity: GEMM512.workspaceCount)
        }

        static func give(_ buffer: UnsafeMutablePointer<Float>) {
            pool.withLock { $0.append(UInt(bitPattern: buffer)) }
        }
    }
    #endif
}
