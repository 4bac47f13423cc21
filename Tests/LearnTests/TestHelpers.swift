import Foundation

// Fixture tensors come from TestSupport's `TestSafeTensors` (shared with InteropTests and ModelsTests).

struct TestError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}

/// Largest relative difference |a−b| / max(|b|, floor).
func maxRelDiff(_ a: [Float], _ b: [Float], floor: Float = 1e-6) -> Float {
    var m: Float = 0
    for (x, y) in zip(a, b) { m = max(m, abs(x - y) / max(abs(y), floor)) }
    return a.count == b.count ? m : .infinity
}
