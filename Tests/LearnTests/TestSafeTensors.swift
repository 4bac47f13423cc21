// TEST-ONLY safetensors reader, private to LearnTests. The real reader lives in
// Sources/Tensor/SafeTensors.swift (another helper's work); the lead replaces this file on merge.
import Foundation
import Tensor
import TestSupport

struct TestSafeTensors {
    struct Entry { var dtype: String; var shape: [Int]; var start: Int; var end: Int }
    let entries: [String: Entry]
    let payload: Data

    init(_ relativePath: String) throws {
        let bytes = try Fixtures.data(relativePath)
        var n: UInt64 = 0
        for i in 0..<8 { n |= UInt64(bytes[bytes.startIndex + i]) << (8 * UInt64(i)) }
        let headerEnd = 8 + Int(n)
        let header = try JSONSerialization.jsonObject(with: bytes.subdata(in: 8..<headerEnd)) as! [String: Any]
        var e: [String: Entry] = [:]
        for (k, v) in header where k != "__metadata__" {
            let d = v as! [String: Any]
            let off = d["data_offsets"] as! [Int]
            e[k] = Entry(dtype: d["dtype"] as! String, shape: d["shape"] as! [Int], start: off[0], end: off[1])
        }
        entries = e
        payload = bytes.subdata(in: headerEnd..<bytes.count)
    }

    var keys: [String] { entries.keys.sorted() }

    func tensor(_ key: String) throws -> Tensor {
        guard let e = entries[key], e.dtype == "F32" else { throw TestError("no F32 tensor \(key)") }
        let count = (e.end - e.start) / 4
        var out = [Float](repeating: 0, count: count)
        payload.withUnsafeBytes { raw in
            for i in 0..<count {
                out[i] = Float(bitPattern: raw.loadUnaligned(fromByteOffset: e.start + 4 * i, as: UInt32.self).littleEndian)
            }
        }
        return Tensor(shape: e.shape, data: out)
    }

    func ints(_ key: String) throws -> (shape: [Int], values: [Int]) {
        guard let e = entries[key], e.dtype == "I64" else { throw TestError("no I64 tensor \(key)") }
        let count = (e.end - e.start) / 8
        var out = [Int](repeating: 0, count: count)
        payload.withUnsafeBytes { raw in
            for i in 0..<count {
                out[i] = Int(Int64(littleEndian: raw.loadUnaligned(fromByteOffset: e.start + 8 * i, as: Int64.self)))
            }
        }
        return (e.shape, out)
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
