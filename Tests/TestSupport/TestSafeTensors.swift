import Foundation
import Interop
import Tensor

// Fixture access for InteropTests, ModelsTests and LearnTests, as a thin view over the shared
// `SafeTensors` reader in the Interop module (no second parser).
public struct TestSafeTensors {
    public struct Entry {
        public let dtype: String
        public let shape: [Int]
        public let floats: [Float]
        public let ints: [Int64]
    }
    public let entries: [String: Entry]

    public init(_ url: URL) throws {
        let file = try SafeTensors(contentsOf: url)
        var out: [String: Entry] = [:]
        for (k, t) in file.floats { out[k] = Entry(dtype: "F32", shape: t.shape, floats: t.data, ints: []) }
        for (k, t) in file.integers { out[k] = Entry(dtype: "I64", shape: t.shape, floats: [], ints: t.data.map { Int64($0) }) }
        entries = out
    }

    /// A fixture by its path under the fixture root, e.g. `model/metrics.safetensors`.
    public init(_ relativePath: String) throws { try self.init(Fixtures.url(relativePath)) }

    /// Every tensor name, sorted.
    public var keys: [String] { entries.keys.sorted() }

    /// The F32 tensor `key`.
    public func tensor(_ key: String) throws -> Tensor {
        guard let e = entries[key], e.dtype == "F32" else { throw TestFixtureError("no F32 tensor \(key)") }
        return Tensor(shape: e.shape, data: e.floats)
    }

    /// The I64 tensor `key` as shape and Int values.
    public func ints(_ key: String) throws -> (shape: [Int], values: [Int]) {
        guard let e = entries[key], e.dtype == "I64" else { throw TestFixtureError("no I64 tensor \(key)") }
        return (e.shape, e.ints.map { Int($0) })
    }
}

public struct TestFixtureError: Error, CustomStringConvertible {
    public let description: String
    public init(_ d: String) { description = d }
}
