import Tensor

/// A growable scratch buffer of Floats with a stable pointer, reused from batch to batch
/// so the forward and backward passes allocate nothing once sizes are known.
final class FloatBuffer {
    private(set) var pointer: UnsafeMutablePointer<Float>
    private(set) var capacity: Int

    init(_ count: Int = 0) {
        capacity = max(count, 1)
        pointer = .allocate(capacity: capacity)
        pointer.initialize(repeating: 0, count: capacity)
    }

    deinit { pointer.deallocate() }

    /// Makes room for `count` elements (contents are lost when it grows).
    func ensure(_ count: Int) {
        guard count > capacity else { return }
        pointer.deallocate()
        capacity = count
        pointer = .allocate(capacity: capacity)
        pointer.initialize(repeating: 0, count: capacity)
    }

    func zero(_ count: Int) { pointer.update(repeating: 0, count: count) }

    /// The first `count` elements as an array.
    func array(_ count: Int) -> [Float] { Array(UnsafeBufferPointer(start: pointer, count: count)) }
}

extension Parameter {
    /// Runs `body` with a pointer to the weights.
    @inline(__always)
    func withValue<R>(_ body: (UnsafePointer<Float>) throws -> R) rethrows -> R {
        try value.data.withUnsafeBufferPointer { try body($0.baseAddress!) }
    }

    /// Runs `body` with a pointer to the gradient and marks the gradient as present.
    @inline(__always)
    func withGrad<R>(_ body: (UnsafeMutablePointer<Float>) throws -> R) rethrows -> R {
        hasGrad = true
        return try grad.data.withUnsafeMutableBufferPointer { try body($0.baseAddress!) }
    }
}

extension Parameter {
    /// `withGrad` when `wanted`, else `body(nil)` without touching the gradient.
    @inline(__always)
    func withGradIf<R>(_ wanted: Bool, _ body: (UnsafeMutablePointer<Float>?) throws -> R) rethrows -> R {
        wanted ? try withGrad { try body($0) } : try body(nil)
    }
}

/// Draws a dropout mask: each entry is `1/(1-p)` with probability `1-p`, else 0
/// (fastai's `dropout_mask`: `bernoulli_(1-p).div_(1-p)`).
func drawDropoutMask(_ mask: UnsafeMutablePointer<Float>, count: Int, p: Float,
                     rng: inout SeededGenerator) {
    let keep = 1 - p
    let scale = 1 / keep
    for i in 0..<count { mask[i] = rng.nextUnit() < keep ? scale : 0 }
}

/// Converts time-major `[T, bs, F]` storage into a batch-first `[bs, T, F]` tensor.
func batchFirstTensor(_ src: UnsafePointer<Float>, T: Int, bs: Int, features F: Int) -> Tensor {
    var out = [Float](repeating: 0, count: T * bs * F)
    out.withUnsafeMutableBufferPointer { dst in
        for t in 0..<T {
            for b in 0..<bs {
                (dst.baseAddress! + (b * T + t) * F).update(from: src + (t * bs + b) * F, count: F)
            }
        }
    }
    return Tensor(shape: [bs, T, F], data: out)
}

/// Copies a batch-first `[bs, T, F]` array into time-major `[T, bs, F]` storage.
func copyToTimeMajor(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, T: Int, bs: Int, features F: Int) {
    for b in 0..<bs {
        for t in 0..<T {
            (dst + (t * bs + b) * F).update(from: src + (b * T + t) * F, count: F)
        }
    }
}
