import Tensor

/// fastai's `LinBnDrop(n_in, n_out, bn=True, p, act, lin_first=False)`:
/// `BatchNorm1d(n_in)` → `Dropout(p)` (absent when p = 0) → `Linear(n_in, n_out, bias=False)`
/// → optional ReLU. Submodule indices follow fastai, so the Linear is `<prefix>.2` when the
/// dropout exists and `<prefix>.1` otherwise.
public final class LinBnDrop {
    public let batchNorm: BatchNorm1d
    /// Dropout probability; may be changed after construction (names keep the
    /// layout chosen at init, as when fastai code sets `module.p`).
    public var p: Float
    /// `[n_out, n_in]` weight, named `<prefix>.<1|2>.weight`.
    public let linear: Parameter
    public let relu: Bool

    /// - Parameters:
    ///   - prefix: e.g. `"1.layers.0"`.
    ///   - rng: draws the Linear weight from PyTorch's default U(−1/√n_in, 1/√n_in).
    public init(inputs: Int, outputs: Int, p: Float, relu: Bool, prefix: String, rng: inout SeededGenerator) {
        batchNorm = BatchNorm1d(features: inputs, prefix: prefix + ".0")
        self.p = p
        let bound = 1 / Float(inputs).squareRoot()
        linear = Parameter(prefix + (p > 0 ? ".2" : ".1") + ".weight",
                           .uniform([outputs, inputs], low: -bound, high: bound, using: &rng))
        self.relu = relu
    }

    /// What backward needs from the last forward call (the BatchNorm keeps its own).
    struct Cache {
        /// Dropout multipliers (0 or 1/(1−p)), empty when no dropout was applied.
        let dropMask: [Float]
        /// Linear input (after dropout) `[N, n_in]`.
        let linearInput: Tensor
        /// Output before ReLU, to gate the gradient.
        let preActivation: Tensor
    }
    private(set) var last: Cache?

    /// Runs the block and keeps what `backward` needs; draws the dropout mask from `rng` in training.
    /// - Parameter x: `[N, n_in]` → `[N, n_out]`.
    public func forward(_ x: Tensor, training: Bool, rng: inout SeededGenerator) throws -> Tensor {
        let h = try batchNorm.forward(x, training: training)
        var dropped = h
        var mask: [Float] = []
        if training && p > 0 {
            // Standard dropout: keep with probability 1−p, scale kept values by 1/(1−p).
            let scale = 1 / (1 - p)
            mask = (0..<h.count).map { _ in rng.nextUnit() < p ? 0 : scale }
            dropped = Tensor(shape: h.shape, data: zip(h.data, mask).map { $0 * $1 })
        }
        let z = dropped.matmul(linear.value, transposeB: true)
        last = Cache(dropMask: mask, linearInput: dropped, preActivation: z)
        return relu ? z.relu() : z
    }

    /// Backpropagates `dy` (`[N, n_out]`, the gradient w.r.t. the last forward's output):
    /// accumulates the gradients of BN and Linear weights; returns dL/dx `[N, n_in]`.
    public func backward(outputGradient dy: Tensor) throws -> Tensor {
        guard let cache = last else { throw ClassifierError("\(linear.name): backward before forward") }
        guard dy.shape == cache.preActivation.shape else {
            throw ClassifierError("\(linear.name): gradient shape \(dy.shape) does not match the last output \(cache.preActivation.shape)")
        }
        let dz = relu ? Tensor(shape: dy.shape, data: zip(dy.data, cache.preActivation.data).map { $1 > 0 ? $0 : 0 }) : dy
        // z = x Wᵀ  ⇒  dW = dzᵀ x, dx = dz W
        linear.grad += dz.matmul(cache.linearInput, transposeA: true)
        linear.hasGrad = true
        var dh = dz.matmul(linear.value)
        if !cache.dropMask.isEmpty { dh = Tensor(shape: dh.shape, data: zip(dh.data, cache.dropMask).map { $0 * $1 }) }
        return try batchNorm.backward(outputGradient: dh)
    }
}
