import Foundation

extension Tensor: CustomStringConvertible {
    /// One line for people: shape, dtype, statistics and the first values.
    ///
    ///     Tensor [2, 3] float32  min -1  max 6  mean 2.5  std 2.588  [1, 2, 3, 4, 5, …]
    public var description: String { summary(firstValues: 5) }

    public func summary(firstValues n: Int = 5) -> String {
        var s = "Tensor \(shape) \(dtype)"
        guard count > 0 else { return s + "  (empty)" }
        s += "  min \(Tensor.format(min()))  max \(Tensor.format(max()))  mean \(Tensor.format(mean()))"
        if count > 1 { s += "  std \(Tensor.format(std()))" }
        let shown = data.prefix(n).map(Tensor.format).joined(separator: ", ")
        s += "  [\(shown)\(count > n ? ", …" : "")]"
        return s
    }

    /// Four significant digits, no trailing zeros: 0.1235, 1.5e-05, 1234, -2.
    public static func format(_ x: Float) -> String {
        if x.isNaN { return "nan" }
        if x.isInfinite { return x > 0 ? "inf" : "-inf" }
        if x == x.rounded() && abs(x) < 1e7 { return String(Int(x)) }
        return String(format: "%.4g", Double(x))
    }
}
