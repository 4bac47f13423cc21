/// A trainable tensor with its gradient, named as in fastai's `state_dict`
/// (e.g. `0.encoder.weight`, `0.rnns.1.weight_hh_l0_raw`).
///
/// Parameters are reference types: a model, its optimizer and the REPL all see
/// the same weights and gradients.
public final class Parameter: @unchecked Sendable {
    /// The fastai/PyTorch state_dict key.
    public let name: String
    /// Current weights.
    public var value: Tensor { didSet { version &+= 1 } }
    /// Changes whenever `value` is written (assigned or mutated in place), so a model can keep
    /// a derived copy (e.g. packed weights for generation) until the weights change.
    public private(set) var version: UInt64 = 0
    /// Gradient of the loss with respect to `value`; same shape, zero until a backward pass.
    public var grad: Tensor
    /// False when the parameter is frozen.
    public var requiresGrad: Bool = true
    /// True once a backward pass has written a gradient. fastai's optimizer skips a
    /// frozen parameter only if it never had one (../shared/spec/training.md).
    public var hasGrad: Bool = false

    public init(_ name: String, _ value: Tensor) {
        self.name = name
        self.value = value
        self.grad = Tensor(shape: value.shape)
    }

    public var shape: [Int] { value.shape }

    /// Sets the gradient to zero (keeping `hasGrad`).
    public func zeroGrad() {
        grad.data.withUnsafeMutableBufferPointer { g in
            for i in 0..<g.count { g[i] = 0 }
        }
    }
}
