import Foundation
import Tensor
import TestSupport

// Fixture access in the shape these tests were written against, now a thin view over the shared
// `SafeTensors` reader in the Tensor module (no second parser).
struct TestSafeTensors {
    let file: SafeTensors

    init(_ relativePath: String) throws {
        file = try SafeTensors(data: try Fixtures.data(relativePath))
    }

    var keys: [String] { file.names }

    func tensor(_ key: String) throws -> Tensor {
        guard let t = file.floats[key] else { throw TestError("no F32 tensor \(key)") }
        return t
    }

    func ints(_ key: String) throws -> (shape: [Int], values: [Int]) {
        guard let t = file.integers[key] else { throw TestError("no I64 tensor \(key)") }
        return (t.shape, t.data)
    }
}

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
