import Files
import Foundation
import Tensor

/// An integer tensor as stored in a safetensors `I64` entry (token ids, masks, counters).
public struct IntTensor: Equatable, Sendable {
    /// Sizes of each dimension, outermost first. A scalar has shape `[]`.
    public var shape: [Int]
    /// The elements in row-major order.
    public var data: [Int]

    public init(shape: [Int], data: [Int]) {
        precondition(data.count == Tensor.count(of: shape),
                     "shape \(shape) needs \(Tensor.count(of: shape)) elements, got \(data.count)")
        self.shape = shape
        self.data = data
    }
}

/// What went wrong while reading or writing a safetensors file.
public struct SafeTensorsError: Error, CustomStringConvertible, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { "safetensors: \(message)" }
}

/// The safetensors container (8-byte little-endian header length, JSON header, raw
/// little-endian data), restricted to the two dtypes LMLab uses: `F32` and `I64`.
///
/// Reading validates the whole header before allocating anything: every entry's byte
/// range must lie inside the file and match its shape, so an absurd header can never
/// make the reader allocate more than the file's own size.
///
///     let file = try SafeTensors(contentsOf: url)
///     let w = try file.float("0.encoder.weight")      // Tensor [V, E]
///     let x = try file.int("x1")                      // IntTensor [bs, sl]
///     var out = SafeTensors(); out.floats["w"] = w; try out.write(to: other)
public struct SafeTensors: Sendable {
    /// F32 entries by name.
    public var floats: [String: Tensor]
    /// I64 entries by name.
    public var integers: [String: IntTensor]
    /// The optional `__metadata__` string map.
    public var metadata: [String: String]

    public init(floats: [String: Tensor] = [:], integers: [String: IntTensor] = [:],
                metadata: [String: String] = [:]) {
        self.floats = floats
        self.integers = integers
        self.metadata = metadata
    }

    /// Every entry name, sorted.
    public var names: [String] { (Array(floats.keys) + Array(integers.keys)).sorted() }

    /// The F32 entry `name`, or an error naming it.
    public func float(_ name: String) throws -> Tensor {
        if let t = floats[name] { return t }
        if integers[name] != nil { throw SafeTensorsError("entry '\(name)' is I64, expected F32") }
        throw SafeTensorsError("no entry named '\(name)'")
    }

    /// The I64 entry `name`, or an error naming it.
    public func int(_ name: String) throws -> IntTensor {
        if let t = integers[name] { return t }
        if floats[name] != nil { throw SafeTensorsError("entry '\(name)' is F32, expected I64") }
        throw SafeTensorsError("no entry named '\(name)'")
    }

    /// Reads and validates a file.
    public init(contentsOf url: URL) throws {
        let bytes: Data
        do { bytes = try Data(contentsOf: url, options: .mappedIfSafe) } catch {
            throw SafeTensorsError("cannot read \(url.path): \(FileErrors.reason(error))")
        }
        do { try self.init(data: bytes) } catch let e as SafeTensorsError {
            throw SafeTensorsError("\(url.lastPathComponent): \(e.message)")
        }
    }

    /// Parses and validates the bytes of a safetensors file.
    public init(data bytes: Data) throws {
        self.init()
        let total = bytes.count
        guard total >= 8 else { throw SafeTensorsError("file has \(total) bytes, too short for the 8-byte header length") }
        var headerLength: UInt64 = 0
        for i in 0..<8 { headerLength |= UInt64(bytes[bytes.startIndex + i]) << (8 * UInt64(i)) }
        guard headerLength <= UInt64(total - 8) else {
            throw SafeTensorsError("header length \(headerLength) exceeds the \(total - 8) bytes after it")
        }
        let headerStart = bytes.startIndex + 8
        let dataStart = headerStart + Int(headerLength)
        let dataSize = total - 8 - Int(headerLength)
        let json: Any
        do {
            json = try JSONSerialization.jsonObject(with: bytes.subdata(in: headerStart..<dataStart))
        } catch {
            throw SafeTensorsError("header is not valid JSON")
        }
        guard let header = json as? [String: Any] else { throw SafeTensorsError("header is not a JSON object") }

        var ranges: [(begin: Int, end: Int, name: String)] = []
        for (name, value) in header {
            if name == "__metadata__" {
                guard let m = value as? [String: Any] else { throw SafeTensorsError("__metadata__ is not an object") }
                for (k, v) in m {
                    guard let s = v as? String else { throw SafeTensorsError("__metadata__ value '\(k)' is not a string") }
                    metadata[k] = s
                }
                continue
            }
            guard let entry = value as? [String: Any] else { throw SafeTensorsError("entry '\(name)' is not an object") }
            guard let dtype = entry["dtype"] as? String else { throw SafeTensorsError("entry '\(name)' has no dtype") }
            let elementSize: Int
            switch dtype {
            case "F32": elementSize = 4
            case "I64": elementSize = 8
            default: throw SafeTensorsError("entry '\(name)' has dtype \(dtype); only F32 and I64 are supported")
            }
            guard let rawShape = entry["shape"] as? [Any] else { throw SafeTensorsError("entry '\(name)' has no shape list") }
            var shape: [Int] = []
            var count = 1
            for d in rawShape {
                guard let n = d as? NSNumber, let dim = Int(exactly: n.doubleValue), dim >= 0 else {
                    throw SafeTensorsError("entry '\(name)' has an invalid dimension \(d) in its shape")
                }
                let (product, overflow) = count.multipliedReportingOverflow(by: dim)
                guard !overflow, product <= dataSize else {
                    throw SafeTensorsError("entry '\(name)' shape \(rawShape) is larger than the file")
                }
                count = product
                shape.append(dim)
            }
            guard let offsets = entry["data_offsets"] as? [Any], offsets.count == 2,
                  let b = (offsets[0] as? NSNumber).flatMap({ Int(exactly: $0.doubleValue) }),
                  let e = (offsets[1] as? NSNumber).flatMap({ Int(exactly: $0.doubleValue) }) else {
                throw SafeTensorsError("entry '\(name)' has no valid data_offsets [begin, end]")
            }
            guard b >= 0, e >= b, e <= dataSize else {
                throw SafeTensorsError("entry '\(name)' data_offsets [\(b), \(e)] lie outside the \(dataSize)-byte data section")
            }
            guard e - b == count * elementSize else {
                throw SafeTensorsError("entry '\(name)' has \(e - b) bytes but shape \(shape) × \(dtype) needs \(count * elementSize)")
            }
            ranges.append((b, e, name))
            let start = dataStart + b
            if elementSize == 4 {
                var values = [Float](repeating: 0, count: count)
                _ = values.withUnsafeMutableBytes { dst in
                    bytes.copyBytes(to: dst, from: start..<(start + count * 4))
                }
                #if _endian(big)
                values = values.map { Float(bitPattern: UInt32(littleEndian: $0.bitPattern)) }
                #endif
                floats[name] = Tensor(shape: shape, data: values)
            } else {
                var values = [Int64](repeating: 0, count: count)
                _ = values.withUnsafeMutableBytes { dst in
                    bytes.copyBytes(to: dst, from: start..<(start + count * 8))
                }
                integers[name] = IntTensor(shape: shape, data: values.map { Int(Int64(littleEndian: $0)) })
            }
        }
        // The format asks the tensors to tile the data section exactly: no two share bytes, no gap.
        var covered = 0
        for r in ranges.sorted(by: { ($0.begin, $0.end) < ($1.begin, $1.end) }) {
            guard r.begin >= covered else {
                throw SafeTensorsError("entry '\(r.name)' data_offsets [\(r.begin), \(r.end)] overlap another tensor's bytes")
            }
            guard r.begin == covered else {
                throw SafeTensorsError("bytes \(covered)..<\(r.begin) of the data section belong to no tensor (the format allows no gaps)")
            }
            covered = r.end
        }
        guard covered == dataSize else {
            throw SafeTensorsError("bytes \(covered)..<\(dataSize) of the data section belong to no tensor (the format allows no gaps)")
        }
    }

    /// The file's bytes: entries sorted by name, header padded with spaces to 8 bytes.
    public func serialized() -> Data {
        var header: [String: Any] = [:]
        if !metadata.isEmpty { header["__metadata__"] = metadata }
        var offset = 0
        let ordered = names
        for name in ordered {
            if let t = floats[name] {
                header[name] = ["dtype": "F32", "shape": t.shape, "data_offsets": [offset, offset + 4 * t.count]]
                offset += 4 * t.count
            } else if let t = integers[name] {
                header[name] = ["dtype": "I64", "shape": t.shape, "data_offsets": [offset, offset + 8 * t.data.count]]
                offset += 8 * t.data.count
            }
        }
        // Sorted keys make the output byte-stable.
        var json = (try? JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])) ?? Data("{}".utf8)
        while json.count % 8 != 0 { json.append(UInt8(ascii: " ")) }
        var out = Data(capacity: 8 + json.count + offset)
        var length = UInt64(json.count).littleEndian
        withUnsafeBytes(of: &length) { out.append(contentsOf: $0) }
        out.append(json)
        for name in ordered {
            if let t = floats[name] {
                t.data.withUnsafeBytes { out.append(contentsOf: $0) }
            } else if let t = integers[name] {
                t.data.map { Int64($0).littleEndian }.withUnsafeBytes { out.append(contentsOf: $0) }
            }
        }
        return out
    }

    /// Writes the file atomically.
    public func write(to url: URL) throws {
        do { try serialized().write(to: url, options: .atomic) } catch {
            throw SafeTensorsError("cannot write \(url.path): \(FileErrors.reason(error))")
        }
    }
}
