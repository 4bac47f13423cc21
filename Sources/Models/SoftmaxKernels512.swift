import Tensor
#if arch(x86_64)
import AVX512Kernels
#endif

extension SoftmaxKernels {
    #if arch(x86_64)
    /// Sixteen lanes (`AVX512Kernels`' Softmax512), for CPUs with AVX-512 only.
    public static let avx512 = SoftmaxKernels(
        maxAndExpSum: { row, n, bias in maxAndShiftedExpSum512(row, n, bias: bias) },
        expInPlaceSum: { row, n, shift in shiftedExpInPlaceSum512(row, n, shift: shift) })
    #endif

    /// The decoder's passes: `.avx512` where `GEMM.usesAVX512`, else `.simd8`.
    public static let best: SoftmaxKernels = {
        #if arch(x86_64)
        if GEMM.usesAVX512 { return .avx512 }
        #endif
        return .simd8
    }()
}
