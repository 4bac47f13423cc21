import Dispatch
import Tensor

/// The model's own fork-join over independent slices of work, with OpenBLAS single-threaded
/// inside (one threading mechanism at a time).
///
/// Why: the per-step recurrent GEMMs of a small LSTM (batch 16, k 64–128) are far too small for
/// OpenBLAS's thread pool — most of the time went into waking and synchronising its threads on
/// every step. The batch rows of an LSTM are independent through the whole time loop, so each
/// worker runs every step on its own rows with no synchronisation until the loop ends; the large
/// weight-gradient and decoder GEMMs are split along their output rows instead.
///
/// `WorkSplit.run` takes OpenBLAS's thread count on entry as the number of workers, sets OpenBLAS
/// to one thread for the duration and restores it afterwards. Nested calls reuse the outer width.
enum WorkSplit {
    /// Width of the active scope (0 outside any scope). Set by the thread that runs the model,
    /// never by the workers. Models run from several threads at once (parallel tests) may see
    /// each other's scope or thread count: the results stay the same (OpenBLAS is thread-safe, and
    /// every split is the same maths up to float32 summation order); only the speed is not tuned for that.
    nonisolated(unsafe) private static var activeWidth = 0

    /// Runs `body(width)` with OpenBLAS single-threaded; `width` is how many workers `forEach` uses.
    @inline(__always)
    static func run<R>(_ body: (Int) throws -> R) rethrows -> R {
        if activeWidth > 0 { return try body(activeWidth) }
        let threads = max(1, BLAS.threads)
        if threads > 1 { BLAS.threads = 1 }
        activeWidth = threads
        defer {
            activeWidth = 0
            if threads > 1 { BLAS.threads = threads }
        }
        return try body(threads)
    }

    /// Parts for a large split whose pieces are independent: `perWorker` per worker, handed out
    /// as workers free up. Two equal halves finish when the slower core does; on a shared machine
    /// one core is often a third slower than the other for seconds at a time. One worker gets one
    /// part: libdispatch would run several on every core, whatever the width.
    @inline(__always)
    static func balancedParts(_ width: Int, perWorker: Int = 4) -> Int { width > 1 ? perWorker * width : 1 }

    /// Calls `body(part, range)` for `parts` contiguous slices of `0..<count` (some may be
    /// empty), concurrently when there is more than one part. Slices are aligned to `align`.
    static func forEach(_ count: Int, parts: Int, align: Int = 1,
                        _ body: (_ part: Int, _ range: Range<Int>) -> Void) {
        split(count, parts: parts, align: align, alongside: nil, body)
    }

    /// `forEach`, with `alongside` run once as one more task beside the parts: serial work that
    /// the parts do not read (a dropout mask for the next product) overlaps them instead of
    /// leaving the other workers idle before them.
    static func forEach(_ count: Int, parts: Int, align: Int = 1, alongside: () -> Void,
                        _ body: (_ part: Int, _ range: Range<Int>) -> Void) {
        withoutActuallyEscaping(alongside) { split(count, parts: parts, align: align, alongside: $0, body) }
    }

    private static func split(_ count: Int, parts: Int, align: Int, alongside: (() -> Void)?,
                              _ body: (_ part: Int, _ range: Range<Int>) -> Void) {
        let p = max(1, min(parts, count))
        if p == 1 {
            alongside?()
            body(0, 0..<count)
            return
        }
        let units = (count + align - 1) / align
        @Sendable func range(_ i: Int) -> Range<Int> {
            let lo = min(count, (units * i / p) * align)
            let hi = i == p - 1 ? count : min(count, (units * (i + 1) / p) * align)
            return lo..<hi
        }
        let extra = alongside == nil ? 0 : 1
        withoutActuallyEscaping(body) { body in
            let unchecked = UncheckedBody(body: body, alongside: alongside)
            // Iterations are handed out in order, so the extra task starts first.
            DispatchQueue.concurrentPerform(iterations: p + extra) { i in
                if i < extra { unchecked.alongside?() } else { unchecked.body(i - extra, range(i - extra)) }
            }
        }
    }

    /// The workers write disjoint slices of shared buffers through raw pointers.
    private struct UncheckedBody: @unchecked Sendable {
        let body: (Int, Range<Int>) -> Void
        let alongside: (() -> Void)?
    }
}
