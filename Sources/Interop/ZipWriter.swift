import Files
import Foundation

/// Writes a zip archive the way PyTorch's `torch.save` does (its `PyTorchStreamWriter`), the
/// counterpart of `ZipArchive`: entries stored uncompressed in the order added, each entry's
/// data starting at a multiple of `alignment` bytes (padding in an extra field with id `FB`
/// filled with `Z`), general-purpose flags 0x0808 (sizes in a data descriptor after the data,
/// UTF-8 names), zero times, and zip64 end records before the classic one.
///
///     var zip = ZipWriter()
///     try zip.add("ck/data.pkl", pickleBytes)
///     let archive = try zip.finish()
///
/// Archives of 4 GiB or more are refused (torch's zip64 entry records are not written).
public struct ZipWriter {
    /// Bytes written so far.
    public private(set) var bytes: [UInt8] = []
    private var central: [UInt8] = []
    private var count = 0
    private var names: Set<String> = []
    public let alignment: Int

    public init(alignment: Int = 64) {
        precondition(alignment > 0 && alignment <= 0xFFFF, "zip alignment (programmer error)")
        self.alignment = alignment
    }

    /// Adds an entry whose data `fill` appends to the buffer it is given (so large tensors are
    /// written once, straight into the archive).
    public mutating func add(_ name: String, fill: (inout [UInt8]) -> Void) throws {
        try ZipArchive.checkName(name, source: "zip writer")
        guard names.insert(name).inserted else { throw ArchiveError("zip writer: duplicate entry name '\(name)'") }
        let nameBytes = Array(name.utf8)
        guard nameBytes.count <= 0xFFFF else { throw ArchiveError("zip writer: entry name '\(name.prefix(40))…' is too long") }
        let offset = bytes.count
        // Local header: sizes and CRC are zero here (flag bit 3); the data descriptor has them.
        put32(0x0403_4B50, &bytes); put16(0, &bytes); put16(0x0808, &bytes); put16(0, &bytes)
        put16(0, &bytes); put16(0, &bytes); put32(0, &bytes); put32(0, &bytes); put32(0, &bytes)
        let unpadded = offset + 30 + nameBytes.count + 4
        let padding = (alignment - unpadded % alignment) % alignment
        put16(nameBytes.count, &bytes); put16(4 + padding, &bytes)
        bytes += nameBytes
        bytes += [0x46, 0x42]   // "FB"
        put16(padding, &bytes)
        bytes += [UInt8](repeating: 0x5A, count: padding)   // "Z"
        let start = bytes.count
        fill(&bytes)
        let size = bytes.count - start
        var crc = CRC32()
        bytes.withUnsafeBytes { crc.update(UnsafeRawBufferPointer(rebasing: $0[start...])) }
        guard bytes.count < 0xFFFF_FFFF else {
            throw ArchiveError("zip writer: the archive reaches 4 GiB at '\(name)'; larger checkpoints are not supported")
        }
        put32(0x0807_4B50, &bytes); put32(crc.value, &bytes); put32(UInt32(size), &bytes); put32(UInt32(size), &bytes)

        put32(0x0201_4B50, &central); put16(0, &central); put16(0, &central); put16(0x0808, &central); put16(0, &central)
        put16(0, &central); put16(0, &central); put32(crc.value, &central); put32(UInt32(size), &central); put32(UInt32(size), &central)
        put16(nameBytes.count, &central); put16(0, &central); put16(0, &central); put16(0, &central); put16(0, &central)
        put32(0, &central); put32(UInt32(offset), &central)
        central += nameBytes
        count += 1
    }

    /// Adds an entry holding `data`.
    public mutating func add(_ name: String, _ data: [UInt8]) throws {
        try add(name) { $0 += data }
    }

    /// The central directory and end records; returns the whole archive.
    public mutating func finish() throws -> Data {
        let cdOffset = bytes.count
        bytes += central
        let cdSize = central.count
        let z64 = bytes.count
        guard z64 < 0xFFFF_FFFF else { throw ArchiveError("zip writer: the archive reaches 4 GiB; larger checkpoints are not supported") }
        // zip64 end record (size of the rest 44, made by 0x031E, needs 4.5) and its locator.
        put32(0x0606_4B50, &bytes); put64(44, &bytes); put16(0x031E, &bytes); put16(45, &bytes)
        put32(0, &bytes); put32(0, &bytes); put64(count, &bytes); put64(count, &bytes); put64(cdSize, &bytes); put64(cdOffset, &bytes)
        put32(0x0706_4B50, &bytes); put32(0, &bytes); put64(z64, &bytes); put32(1, &bytes)
        // Classic end record; a count that does not fit 16 bits is saturated (zip64 holds it).
        put32(0x0605_4B50, &bytes); put16(0, &bytes); put16(0, &bytes)
        put16(min(count, 0xFFFF), &bytes); put16(min(count, 0xFFFF), &bytes)
        put32(UInt32(cdSize), &bytes); put32(UInt32(cdOffset), &bytes); put16(0, &bytes)
        return Data(bytes)
    }

}

// Little-endian fields (free functions: a method of the writer could not take `&bytes` of itself).
private func put16(_ v: Int, _ b: inout [UInt8]) { b += [UInt8(v & 0xFF), UInt8(v >> 8 & 0xFF)] }
private func put32(_ v: UInt32, _ b: inout [UInt8]) { for i in 0..<4 { b.append(UInt8(truncatingIfNeeded: v >> UInt32(8 * i))) } }
private func put64(_ v: Int, _ b: inout [UInt8]) { for i in 0..<8 { b.append(UInt8(truncatingIfNeeded: UInt64(v) >> UInt64(8 * i))) } }
