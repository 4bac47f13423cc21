import Foundation
import Files

// Test helper: writes a minimal STORED zip (no zip64) so tests can craft archives,
// including malformed ones (unsafe names, DEFLATE method).
struct TestZipWriter {
    var files: [(name: String, data: [UInt8], method: UInt16)] = []

    mutating func add(_ name: String, _ data: [UInt8], method: UInt16 = 0) {
        files.append((name, data, method))
    }

    func build() -> Data {
        var out: [UInt8] = []
        var central: [UInt8] = []
        func u16(_ v: Int, _ b: inout [UInt8]) { b += [UInt8(v & 0xFF), UInt8(v >> 8 & 0xFF)] }
        func u32(_ v: UInt32, _ b: inout [UInt8]) { for i in 0..<4 { b.append(UInt8(v >> (8 * UInt32(i)) & 0xFF)) } }
        for f in files {
            let crc = CRC32.checksum(f.data)
            let name = Array(f.name.utf8)
            let offset = UInt32(out.count)
            u32(0x0403_4B50, &out); u16(20, &out); u16(0, &out); u16(Int(f.method), &out)
            u16(0, &out); u16(0, &out); u32(crc, &out)
            u32(UInt32(f.data.count), &out); u32(UInt32(f.data.count), &out)
            u16(name.count, &out); u16(0, &out)
            out += name
            out += f.data
            u32(0x0201_4B50, &central); u16(20, &central); u16(20, &central); u16(0, &central)
            u16(Int(f.method), &central); u16(0, &central); u16(0, &central); u32(crc, &central)
            u32(UInt32(f.data.count), &central); u32(UInt32(f.data.count), &central)
            u16(name.count, &central); u16(0, &central); u16(0, &central); u16(0, &central); u16(0, &central)
            u32(0, &central); u32(offset, &central)
            central += name
        }
        let cdOffset = out.count
        out += central
        u32(0x0605_4B50, &out); u16(0, &out); u16(0, &out)
        u16(files.count, &out); u16(files.count, &out)
        u32(UInt32(central.count), &out); u32(UInt32(cdOffset), &out); u16(0, &out)
        return Data(out)
    }
}

/// Test helper: assembles protocol-2 pickle bytes opcode by opcode.
struct TestPickle {
    var bytes: [UInt8] = [0x80, 0x02]
    mutating func op(_ c: Character) { bytes.append(c.asciiValue!) }
    mutating func raw(_ b: [UInt8]) { bytes += b }
    mutating func str(_ s: String) {
        let u = Array(s.utf8)
        op("X"); for i in 0..<4 { bytes.append(UInt8(u.count >> (8 * i) & 0xFF)) }; bytes += u
    }
    mutating func int(_ v: Int) { precondition(v >= 0 && v < 256); op("K"); bytes.append(UInt8(v)) }
    mutating func global(_ module: String, _ name: String) { op("c"); bytes += Array("\(module)\n\(name)\n".utf8) }
    /// `_rebuild_tensor_v2(storage, offset, size, stride, False, OrderedDict())`.
    mutating func tensor(type: String, key: String, numel: Int, offset: Int, size: [Int], stride: [Int]) {
        global("torch._utils", "_rebuild_tensor_v2")
        op("(")
        op("("); str("storage"); global("torch", type); str(key); str("cpu"); int(numel); op("t")
        op("Q")
        int(offset)
        op("("); for s in size { int(s) }; op("t")
        op("("); for s in stride { int(s) }; op("t")
        raw([0x89])
        global("collections", "OrderedDict"); op(")"); op("R")
        op("t")
        op("R")
    }
    mutating func stop() { op(".") }
}

extension Array where Element == UInt8 {
    static func floats(_ f: [Float]) -> [UInt8] {
        f.flatMap { v -> [UInt8] in let b = v.bitPattern; return (0..<4).map { UInt8(b >> (8 * UInt32($0)) & 0xFF) } }
    }
}
