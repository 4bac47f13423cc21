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

// MARK: - Reference

extension LinBnDrop {
    /// The block written out in Double: `BatchNorm1d.Reference`, then the dropout mask, then the
    /// product with the Linear weight one sum at a time, then the ReLU.
    public enum Reference {
        /// The block's parameters and buffers, and the dropout mask of the call.
        public struct Weights {
            /// BatchNorm `weight`, `bias`, `running_mean`, `running_var`, `[n_in]` each.
            public var bnWeight: [Double], bnBias: [Double], runningMean: [Double], runningVar: [Double]
            /// Linear weight `[n_out, n_in]` (no bias).
            public var linear: [Double]
            public var relu: Bool
            /// `[N, n_in]` (0 or 1/(1−p)), nil when no dropout is applied (eval, or p = 0).
            public var dropMask: [Double]?

            public init(bnWeight: [Double], bnBias: [Double], runningMean: [Double], runningVar: [Double],
                        linear: [Double], relu: Bool, dropMask: [Double]? = nil) {
                self.bnWeight = bnWeight
                self.bnBias = bnBias
                self.runningMean = runningMean
                self.runningVar = runningVar
                self.linear = linear
                self.relu = relu
                self.dropMask = dropMask
            }
        }

        /// Gradients with respect to the input and every parameter.
        public struct Gradients {
            /// `[N, n_in]`.
            public var input: [Double]
            public var bnWeight: [Double], bnBias: [Double], linear: [Double]
        }

        /// The BatchNorm's output (running statistics included), the Linear's input (that output
        /// times the mask) and the Linear's output before the ReLU.
        static func run(_ x: [Double], rows N: Int, inputs nIn: Int, outputs nOut: Int, weights w: Weights,
                        training: Bool) -> (bn: BatchNorm1d.Reference.Output, linearInput: [Double], z: [Double]) {
            let bn = BatchNorm1d.Reference.forward(x, rows: N, features: nIn, weight: w.bnWeight, bias: w.bnBias,
                                                   runningMean: w.runningMean, runningVar: w.runningVar, training: training)
            var h = bn.y
            if let m = w.dropMask { for k in 0..<h.count { h[k] *= m[k] } }
            var z = [Double](repeating: 0, count: N * nOut)
            for i in 0..<N {
                for o in 0..<nOut {
                    for k in 0..<nIn { z[i * nOut + o] += h[i * nIn + k] * w.linear[o * nIn + k] }
                }
            }
            return (bn, h, z)
        }

        /// `relu(dropout(batchNorm(x)) · linearᵀ)`.
        /// - Parameters:
        ///   - x: `[N, n_in]`.
        /// - Returns: `[N, n_out]`, and the BatchNorm running statistics after the call.
        public static func forward(_ x: [Double], rows N: Int, inputs nIn: Int, outputs nOut: Int, weights w: Weights,
                                   training: Bool) -> (y: [Double], runningMean: [Double], runningVar: [Double]) {
            let (bn, _, z) = run(x, rows: N, inputs: nIn, outputs: nOut, weights: w, training: training)
            return (w.relu ? z.map { max($0, 0) } : z, bn.runningMean, bn.runningVar)
        }

        /// Gradients from `dL/dy` (`[N, n_out]`), the running statistics as before the call.
        public static func backward(outputGradient dy: [Double], _ x: [Double], rows N: Int, inputs nIn: Int,
                                    outputs nOut: Int, weights w: Weights, training: Bool) -> Gradients {
            let (_, h, z) = run(x, rows: N, inputs: nIn, outputs: nOut, weights: w, training: training)
            var dz = dy
            if w.relu { for k in 0..<dz.count where z[k] <= 0 { dz[k] = 0 } }
            var dLinear = [Double](repeating: 0, count: nOut * nIn), dh = [Double](repeating: 0, count: N * nIn)
            for i in 0..<N {
                for o in 0..<nOut {
                    for k in 0..<nIn {
                        dLinear[o * nIn + k] += dz[i * nOut + o] * h[i * nIn + k]
                        dh[i * nIn + k] += dz[i * nOut + o] * w.linear[o * nIn + k]
                    }
                }
            }
            if let m = w.dropMask { for k in 0..<dh.count { dh[k] *= m[k] } }
            let bn = BatchNorm1d.Reference.backward(outputGradient: dh, x, rows: N, features: nIn, weight: w.bnWeight,
                                                    runningMean: w.runningMean, runningVar: w.runningVar,
                                                    training: training)
            return Gradients(input: bn.input, bnWeight: bn.weight, bnBias: bn.bias, linear: dLinear)
        }
    }
}
