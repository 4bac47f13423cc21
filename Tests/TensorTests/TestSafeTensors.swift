import Foundation
import Tensor

// Fixture access in the shape these tests were written against, now a thin view over the shared
// `SafeTensors` reader in the Tensor module (no second parser).
struct TestSafeTensors {
    struct Entry {
        let dtype: String
        let shape: [Int]
        let floats: [Float]
        let ints: [Int64]
    }
    let entries: [String: Entry]

    init(_ url: URL) throws {
        let file = try SafeTensors(contentsOf: url)
        var out: [String: Entry] = [:]
        for (k, t) in file.floats { out[k] = Entry(dtype: "F32", shape: t.shape, floats: t.data, ints: []) }
        for (k, t) in file.integers { out[k] = Entry(dtype: "I64", shape: t.shape, floats: [], ints: t.data.map { Int64($0) }) }
        entries = out
    }
}

struct TestFixtureError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}
