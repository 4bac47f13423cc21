/// Elementwise arithmetic. Both operands must have the same shape, or one is a scalar.
extension Tensor {
    /// Applies `f` to every element.
    public func map(_ f: (Float) -> Float) -> Tensor {
        Tensor(shape: shape, data: data.map(f))
    }

    /// Combines two same-shaped tensors element by element.
    public func zip(_ other: Tensor, _ f: (Float, Float) -> Float) -> Tensor {
        precondition(shape == other.shape, "shapes \(shape) and \(other.shape) differ")
        var out = [Float](repeating: 0, count: count)
        data.withUnsafeBufferPointer { a in
            other.data.withUnsafeBufferPointer { b in
                out.withUnsafeMutableBufferPointer { o in
                    for i in 0..<o.count { o[i] = f(a[i], b[i]) }
                }
            }
        }
        return Tensor(shape: shape, data: out)
    }

    public static func + (a: Tensor, b: Tensor) -> Tensor { a.zip(b, +) }
    public static func - (a: Tensor, b: Tensor) -> Tensor { a.zip(b, -) }
    public static func * (a: Tensor, b: Tensor) -> Tensor { a.zip(b, *) }
    public static func / (a: Tensor, b: Tensor) -> Tensor { a.zip(b, /) }
    public static func + (a: Tensor, s: Float) -> Tensor { a.map { $0 + s } }
    public static func - (a: Tensor, s: Float) -> Tensor { a.map { $0 - s } }
    public static func * (a: Tensor, s: Float) -> Tensor { a.map { $0 * s } }
    public static func / (a: Tensor, s: Float) -> Tensor { a.map { $0 / s } }
    public static func * (s: Float, a: Tensor) -> Tensor { a.map { s * $0 } }
    public static prefix func - (a: Tensor) -> Tensor { a.map { -$0 } }

    public static func += (a: inout Tensor, b: Tensor) {
        precondition(a.shape == b.shape, "shapes \(a.shape) and \(b.shape) differ")
        a.data.withUnsafeMutableBufferPointer { x in
            b.data.withUnsafeBufferPointer { y in
                for i in 0..<x.count { x[i] += y[i] }
            }
        }
    }

    /// `self += alpha * x`, through BLAS.
    public mutating func addScaled(_ x: Tensor, by alpha: Float) {
        precondition(shape == x.shape, "shapes \(shape) and \(x.shape) differ")
        axpy(alpha, x.data, &data)
    }

    public func exp() -> Tensor { map { Foundation.exp($0) } }
    public func log() -> Tensor { map { Foundation.log($0) } }
    public func tanh() -> Tensor { map { Foundation.tanh($0) } }
    public func sigmoid() -> Tensor { map { 1 / (1 + Foundation.exp(-$0)) } }
    public func relu() -> Tensor { map { Swift.max($0, 0) } }
}

import Foundation
