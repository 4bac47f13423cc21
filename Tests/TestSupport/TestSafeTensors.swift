import Foundation
import Tensor

// Fixture access for TensorTests and ModelsTests, as a thin view over the shared
// `SafeTensors` reader in the Tensor module (no second parser).
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
}

public struct TestFixtureError: Error, CustomStringConvertible {
    public let description: String
    public init(_ d: String) { description = d }
}
