import Foundation

// TEST-ONLY safetensors reader (checkpoint branch; copy of Tests/TensorTests/TestSafeTensors.swift). The shared reader lives in
// Sources/Tensor/SafeTensors.swift on another branch; the lead replaces this with it on merge.
// Reads F32 and I64 tensors (the only dtypes in the fixtures).
struct TestSafeTensors {
    struct Entry {
        let dtype: String
        let shape: [Int]
        let floats: [Float]
        let ints: [Int64]
    }
    let entries: [String: Entry]

    init(_ url: URL) throws {
        let data = try Data(contentsOf: url)
        let bytes = [UInt8](data)
        guard bytes.count >= 8 else { throw TestFixtureError("\(url.lastPathComponent): too short") }
        var n = 0
        for i in 0..<8 { n |= Int(bytes[i]) << (8 * i) }
        guard n <= bytes.count - 8,
              let header = try JSONSerialization.jsonObject(with: Data(bytes[8 ..< 8 + n])) as? [String: Any] else {
            throw TestFixtureError("\(url.lastPathComponent): bad header")
        }
        let base = 8 + n
        var out: [String: Entry] = [:]
        for (key, value) in header where key != "__metadata__" {
            guard let d = value as? [String: Any], let dtype = d["dtype"] as? String,
                  let shape = d["shape"] as? [Int], let offs = d["data_offsets"] as? [Int] else { continue }
            let raw = Array(bytes[base + offs[0] ..< base + offs[1]])
            var floats: [Float] = [], ints: [Int64] = []
            raw.withUnsafeBytes { p in
                if dtype == "F32" {
                    floats = (0..<raw.count / 4).map { Float(bitPattern: UInt32(littleEndian: p.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self))) }
                } else if dtype == "I64" {
                    ints = (0..<raw.count / 8).map { Int64(littleEndian: p.loadUnaligned(fromByteOffset: $0 * 8, as: Int64.self)) }
                }
            }
            out[key] = Entry(dtype: dtype, shape: shape, floats: floats, ints: ints)
        }
        entries = out
    }
}

struct TestFixtureError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}
