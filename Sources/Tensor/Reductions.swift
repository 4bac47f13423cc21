import Foundation

/// Whole-tensor and per-axis reductions. Sums accumulate in Double so that
/// statistics over millions of elements stay accurate.
extension Tensor {
    public func sum() -> Float { Float(data.reduce(0.0) { $0 + Double($1) }) }
    public func mean() -> Float { count == 0 ? .nan : sum() / Float(count) }
    public func min() -> Float { data.min() ?? .nan }
    public func max() -> Float { data.max() ?? .nan }

    /// Population standard deviation when `unbiased` is false, sample (n-1) otherwise, as torch.std.
    public func std(unbiased: Bool = true) -> Float {
        let n = Double(count)
        guard n > (unbiased ? 1 : 0) else { return .nan }
        let m = data.reduce(0.0) { $0 + Double($1) } / n
        let ss = data.reduce(0.0) { $0 + (Double($1) - m) * (Double($1) - m) }
        return Float((ss / (unbiased ? n - 1 : n)).squareRoot())
    }

    /// The index of the largest element (first one on ties).
    public func argmax() -> Int {
        var best = 0
        for i in 1..<Swift.max(count, 1) where data[i] > data[best] { best = i }
        return best
    }

    /// Sums over one axis, removing it from the shape.
    public func sum(axis: Int) -> Tensor {
        let ax = axis < 0 ? axis + rank : axis
        precondition(ax >= 0 && ax < rank, "axis \(axis) out of range for rank \(rank)")
        let outer = Tensor.count(of: Array(shape[..<ax]))
        let n = shape[ax]
        let inner = Tensor.count(of: Array(shape[(ax + 1)...]))
        var out = [Float](repeating: 0, count: outer * inner)
        for o in 0..<outer {
            for k in 0..<n {
                let base = (o * n + k) * inner
                for i in 0..<inner { out[o * inner + i] += data[base + i] }
            }
        }
        var s = shape
        s.remove(at: ax)
        return Tensor(shape: s, data: out)
    }

    /// Mean over one axis, removing it from the shape.
    public func mean(axis: Int) -> Tensor {
        let ax = axis < 0 ? axis + rank : axis
        return sum(axis: ax) / Float(shape[ax])
    }

    /// True when every element is finite (no NaN, no ±Inf).
    public var isFinite: Bool { data.allSatisfy { $0.isFinite } }
}
