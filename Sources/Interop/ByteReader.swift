/// Bounds-checked little-endian reads from a byte buffer. Every read checks that the
/// bytes exist first, so a truncated or lying file gives an error, never a crash.
struct ByteReader {
    let bytes: UnsafeRawBufferPointer
    /// Name used in error messages (a file or entry name).
    let source: String

    func need(_ offset: Int, _ count: Int, _ what: String) throws(ArchiveError) {
        guard offset >= 0, count >= 0, offset <= bytes.count, count <= bytes.count - offset else {
            throw ArchiveError("\(source): \(what) at byte \(offset) (\(count) bytes) runs past the end (\(bytes.count) bytes)")
        }
    }

    func u16(_ offset: Int, _ what: String) throws(ArchiveError) -> Int {
        try need(offset, 2, what)
        return Int(bytes[offset]) | Int(bytes[offset + 1]) << 8
    }

    func u32(_ offset: Int, _ what: String) throws(ArchiveError) -> UInt32 {
        try need(offset, 4, what)
        var v: UInt32 = 0
        for i in 0..<4 { v |= UInt32(bytes[offset + i]) << (8 * i) }
        return v
    }

    func u64(_ offset: Int, _ what: String) throws(ArchiveError) -> UInt64 {
        try need(offset, 8, what)
        var v: UInt64 = 0
        for i in 0..<8 { v |= UInt64(bytes[offset + i]) << (8 * i) }
        return v
    }

    /// A u64 that must fit an `Int` offset or size.
    func size64(_ offset: Int, _ what: String) throws(ArchiveError) -> Int {
        let v = try u64(offset, what)
        guard v <= UInt64(Int.max / 2) else { throw ArchiveError("\(source): \(what) \(v) is not a plausible size") }
        return Int(v)
    }
}

/// A problem reading a zip archive, a pickle or a checkpoint; the message names the file and place.
public struct ArchiveError: Error, CustomStringConvertible, Equatable {
    public let description: String
    public init(_ message: String) { description = message }
}
