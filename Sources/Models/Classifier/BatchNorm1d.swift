import Tensor

/// `nn.BatchNorm1d(features)` on `[N, C]` inputs, eps 1e-5, momentum 0.1.
///
/// Training mode normalises with the batch mean and **biased** variance and updates
/// `runningMean ← 0.9·runningMean + 0.1·mean`, `runningVar ← 0.9·runningVar + 0.1·unbiasedVar`,
/// `numBatchesTracked += 1`. Eval mode uses the running statistics.
/// Parameters are named `<prefix>.weight` / `<prefix>.bias`; buffers keep fastai's names
/// `<prefix>.running_mean`, `.running_var`, `.num_batches_tracked` in `stateDict`.
public final class BatchNorm1d {
    public let weight: Parameter
    public let bias: Parameter
    public var runningMean: Tensor
    public var runningVar: Tensor
    public var numBatchesTracked: Int = 0
    public let eps: Float = 1e-5
    public let momentum: Float = 0.1
    public let prefix: String

    /// fastai's init: weight 1, bias 1e-3, running mean 0, running var 1.
    public init(features: Int, prefix: String) {
        self.prefix = prefix
        weight = Parameter(prefix + ".weight", .ones([features]))
        bias = Parameter(prefix + ".bias", Tensor(shape: [features], repeating: 1e-3))
        runningMean = .zeros([features])
        runningVar = .ones([features])
    }

    public var features: Int { weight.shape[0] }

    /// What backward needs from the last forward call: normalised input and the 1/σ used.
    struct Cache {
        let xHat: Tensor
        let invStd: [Float]
        let training: Bool
    }
    private var last: Cache?

    /// Normalises `x` and keeps what `backward` needs.
    /// - Parameter x: `[N, C]`.
    /// - Returns: `[N, C]`; in training mode also updates the running statistics.
    public func forward(_ x: Tensor, training: Bool) throws -> Tensor {
        precondition(x.rank == 2 && x.shape[1] == features, "BatchNorm1d(\(features)) got \(x.shape)")
        let (n, c) = (x.shape[0], x.shape[1])
        var mean = [Float](repeating: 0, count: c), invStd = [Float](repeating: 0, count: c)
        if training {
            guard n > 1 else { throw ClassifierError("\(prefix): BatchNorm in training mode needs more than 1 row per batch, got \(n)") }
            // Accumulate in Double: per-feature statistics over the batch.
            var s = [Double](repeating: 0, count: c), ss = [Double](repeating: 0, count: c)
            x.data.withUnsafeBufferPointer { xp in
                for i in 0..<n { for f in 0..<c { s[f] += Double(xp[i * c + f]) } }
                for f in 0..<c { s[f] /= Double(n) }
                for i in 0..<n { for f in 0..<c { let d = Double(xp[i * c + f]) - s[f]; ss[f] += d * d } }
            }
            for f in 0..<c {
                let biased = ss[f] / Double(n), unbiased = ss[f] / Double(n - 1)
                mean[f] = Float(s[f])
                invStd[f] = Float(1 / (biased + Double(eps)).squareRoot())
                runningMean.data[f] = (1 - momentum) * runningMean.data[f] + momentum * Float(s[f])
                runningVar.data[f] = (1 - momentum) * runningVar.data[f] + momentum * Float(unbiased)
            }
            numBatchesTracked += 1
        } else {
            for f in 0..<c {
                mean[f] = runningMean.data[f]
                invStd[f] = 1 / (runningVar.data[f] + eps).squareRoot()
            }
        }
        var xHat = [Float](repeating: 0, count: n * c), y = [Float](repeating: 0, count: n * c)
        x.data.withUnsafeBufferPointer { xp in
            weight.value.data.withUnsafeBufferPointer { w in
                bias.value.data.withUnsafeBufferPointer { b in
                    for i in 0..<n {
                        for f in 0..<c {
                            let h = (xp[i * c + f] - mean[f]) * invStd[f]
                            xHat[i * c + f] = h
                            y[i * c + f] = h * w[f] + b[f]
                        }
                    }
                }
            }
        }
        last = Cache(xHat: Tensor(shape: [n, c], data: xHat), invStd: invStd, training: training)
        return Tensor(shape: [n, c], data: y)
    }

    /// Backpropagates `dy` (`[N, C]`, the gradient w.r.t. the last forward's output): accumulates
    /// `weight.grad`, `bias.grad` and returns dL/dx `[N, C]`.
    /// Training: `dx = invStd/N · (N·dx̂ − Σdx̂ − x̂·Σ(dx̂·x̂))` with `dx̂ = dy·weight` (batch stats depend on x).
    /// Eval: `dx = dy·weight·invStd` (running stats are constants).
    public func backward(outputGradient dy: Tensor) throws -> Tensor {
        guard let cache = last else { throw ClassifierError("\(prefix): backward before forward") }
        guard dy.shape == cache.xHat.shape else {
            throw ClassifierError("\(prefix): gradient shape \(dy.shape) does not match the last output \(cache.xHat.shape)")
        }
        let (n, c) = (dy.shape[0], dy.shape[1])
        var dGamma = [Double](repeating: 0, count: c), dBeta = [Double](repeating: 0, count: c)
        var dx = [Float](repeating: 0, count: n * c)
        dy.data.withUnsafeBufferPointer { g in
            cache.xHat.data.withUnsafeBufferPointer { h in
                for i in 0..<n {
                    for f in 0..<c {
                        dGamma[f] += Double(g[i * c + f] * h[i * c + f])
                        dBeta[f] += Double(g[i * c + f])
                    }
                }
                let w = weight.value.data
                if cache.training {
                    let nf = Double(n)
                    for f in 0..<c {
                        // Σdx̂ = w·Σdy, Σ(dx̂·x̂) = w·dGamma
                        let sumD = Double(w[f]) * dBeta[f], sumDH = Double(w[f]) * dGamma[f]
                        let k = Double(cache.invStd[f]) / nf
                        for i in 0..<n {
                            let d = Double(g[i * c + f] * w[f])
                            dx[i * c + f] = Float(k * (nf * d - sumD - Double(h[i * c + f]) * sumDH))
                        }
                    }
                } else {
                    for i in 0..<n { for f in 0..<c { dx[i * c + f] = g[i * c + f] * w[f] * cache.invStd[f] } }
                }
            }
        }
        for f in 0..<c {
            weight.grad.data[f] += Float(dGamma[f])
            bias.grad.data[f] += Float(dBeta[f])
        }
        weight.hasGrad = true; bias.hasGrad = true
        return Tensor(shape: [n, c], data: dx)
    }

    /// Weights and buffers under fastai's state_dict keys, in PyTorch's order.
    public var stateDictEntries: [StateDictEntry] {
        [StateDictEntry(weight.name, weight.value, .parameter), StateDictEntry(bias.name, bias.value, .parameter),
         StateDictEntry(prefix + ".running_mean", runningMean, .buffer),
         StateDictEntry(prefix + ".running_var", runningVar, .buffer),
         StateDictEntry(prefix + ".num_batches_tracked", Tensor(scalar: Float(numBatchesTracked)), .counter)]
    }

    /// Sets weights and buffers from a checked state dict; an absent counter stays as it is.
    func assign(checkedStateDict stateDict: [String: Tensor]) {
        weight.value = stateDict[weight.name]!
        bias.value = stateDict[bias.name]!
        runningMean = stateDict[prefix + ".running_mean"]!
        runningVar = stateDict[prefix + ".running_var"]!
        if let n = stateDict[prefix + ".num_batches_tracked"] { numBatchesTracked = Int(n.data[0]) }
    }
}

// MARK: - Reference

extension BatchNorm1d {
    /// BatchNorm1d written step by step in Double, the backward pass by the chain rule through the
    /// batch mean and variance one at a time (the fast path uses the folded formula), so each
    /// checks the other.
    public enum Reference {
        /// What a forward call gives: the output and the running statistics after it.
        public struct Output {
            /// `[N, C]`.
            public var y: [Double]
            /// `[C]` each; updated in training (`0.9·old + 0.1·batch`, the variance unbiased), as given in eval.
            public var runningMean: [Double], runningVar: [Double]
        }

        /// Per feature: the batch mean and the biased variance (training) or the running ones (eval).
        static func statistics(_ x: [Double], rows N: Int, features C: Int, runningMean: [Double], runningVar: [Double],
                               training: Bool) -> (mean: [Double], variance: [Double]) {
            guard training else { return (runningMean, runningVar) }
            var mean = [Double](repeating: 0, count: C), variance = mean
            for f in 0..<C {
                for i in 0..<N { mean[f] += x[i * C + f] }
                mean[f] /= Double(N)
                for i in 0..<N { variance[f] += (x[i * C + f] - mean[f]) * (x[i * C + f] - mean[f]) }
                variance[f] /= Double(N)
            }
            return (mean, variance)
        }

        /// `y = (x − mean) / √(var + eps) · weight + bias`.
        /// - Parameters:
        ///   - x: `[N, C]`; weight, bias, runningMean, runningVar: `[C]`.
        public static func forward(_ x: [Double], rows N: Int, features C: Int, weight: [Double], bias: [Double],
                                   runningMean: [Double], runningVar: [Double], training: Bool,
                                   eps: Double = 1e-5, momentum: Double = 0.1) -> Output {
            let (mean, variance) = statistics(x, rows: N, features: C, runningMean: runningMean, runningVar: runningVar,
                                              training: training)
            var y = [Double](repeating: 0, count: N * C)
            for i in 0..<N {
                for f in 0..<C {
                    y[i * C + f] = (x[i * C + f] - mean[f]) / (variance[f] + eps).squareRoot() * weight[f] + bias[f]
                }
            }
            guard training else { return Output(y: y, runningMean: runningMean, runningVar: runningVar) }
            var newMean = runningMean, newVar = runningVar
            for f in 0..<C {
                let unbiased = variance[f] * Double(N) / Double(N - 1)
                newMean[f] = (1 - momentum) * runningMean[f] + momentum * mean[f]
                newVar[f] = (1 - momentum) * runningVar[f] + momentum * unbiased
            }
            return Output(y: y, runningMean: newMean, runningVar: newVar)
        }

        /// Gradients from `dL/dy` (`[N, C]`). Training: through x̂, then the variance, then the mean
        /// (both depend on x); eval: the statistics are constants.
        public static func backward(outputGradient dy: [Double], _ x: [Double], rows N: Int, features C: Int,
                                    weight: [Double], runningMean: [Double], runningVar: [Double], training: Bool,
                                    eps: Double = 1e-5) -> (input: [Double], weight: [Double], bias: [Double]) {
            let (mean, variance) = statistics(x, rows: N, features: C, runningMean: runningMean, runningVar: runningVar,
                                              training: training)
            var dx = [Double](repeating: 0, count: N * C)
            var dWeight = [Double](repeating: 0, count: C), dBias = dWeight
            let n = Double(N)
            for f in 0..<C {
                let std = (variance[f] + eps).squareRoot()
                var dVar = 0.0, dMean = 0.0
                for i in 0..<N {
                    let xHat = (x[i * C + f] - mean[f]) / std
                    dWeight[f] += dy[i * C + f] * xHat
                    dBias[f] += dy[i * C + f]
                    let dxHat = dy[i * C + f] * weight[f]
                    // var = Σ(x − mean)²/N with std = √(var + eps): d std⁻¹ / d var = −½ (var + eps)^(−3/2).
                    dVar += dxHat * (x[i * C + f] - mean[f]) * -0.5 / (std * std * std)
                    dMean += -dxHat / std
                }
                for i in 0..<N {
                    let dxHat = dy[i * C + f] * weight[f]
                    dx[i * C + f] = dxHat / std
                    if training {
                        // d var / d x_i = 2 (x_i − mean) / N; d mean / d x_i = 1/N (the term of dVar
                        // through the mean, Σ −2 (x − mean)/N, is zero).
                        dx[i * C + f] += dVar * 2 * (x[i * C + f] - mean[f]) / n + dMean / n
                    }
                }
            }
            return (dx, dWeight, dBias)
        }
    }
}

/// A classifier-head error (bad state dict, impossible batch), with a one-line message.
public struct ClassifierError: Error, CustomStringConvertible {
    public let description: String
    public init(_ message: String) { description = message }
}
