import Foundation
import Files

/// A read-only zip archive held in memory (or memory-mapped), as written by `torch.save`.
///
/// Only what PyTorch checkpoints need is supported: the central directory (including
/// zip64 records), STORED (uncompressed) entries, and data-descriptor local headers
/// (sizes are taken from the central directory). DEFLATE-compressed, encrypted or
/// multi-disk archives are rejected with a clear error. Entry names that could escape a
/// folder (`../`, absolute paths, backslashes, NUL) are rejected even though nothing is
/// ever extracted to disk, because such a file is not a genuine checkpoint.
///
///     let zip = try ZipArchive(contentsOf: url)
///     let pickle = try zip.data(for: "tiny/data.pkl")
public struct ZipArchive: Sendable {
    /// One file in the archive, from the central directory.
    public struct Entry: Sendable, Equatable {
        public let name: String
        /// Byte offset of the entry's data in the archive.
        public let dataOffset: Int
        public let size: Int
        public let crc32: UInt32
    }

    /// Size limits checked before anything is read or allocated.
    public struct Limits: Sendable {
        public var maxEntries = 1_000_000
        public var maxEntrySize = 1 << 36
        public init() {}
    }

    /// The archive's entries in central-directory order.
    public let entries: [Entry]
    private let index: [String: Int]
    private let bytes: Data
    private let source: String

    /// Opens the archive at `url` (memory-mapped, so large checkpoints are not copied).
    public init(contentsOf url: URL, limits: Limits = Limits()) throws {
        let data: Data
        do { data = try Data(contentsOf: url, options: .alwaysMapped) } catch {
            throw ArchiveError("\(url.path): cannot read file (\(FileErrors.reason(error)))")
        }
        try self.init(data: data, source: url.lastPathComponent, limits: limits)
    }

    /// Reads the central directory of an archive held in `data`.
    public init(data: Data, source: String = "zip", limits: Limits = Limits()) throws {
        // Re-base the Data so that offsets start at 0 whatever slice we were given.
        let data = data.startIndex == 0 ? data : Data(data)
        self.bytes = data
        self.source = source
        let parsed = try data.withUnsafeBytes { raw in
            try ZipArchive.readDirectory(ByteReader(bytes: raw, source: source), limits: limits)
        }
        entries = parsed
        var idx: [String: Int] = [:]
        for (i, e) in parsed.enumerated() {
            guard idx[e.name] == nil else { throw ArchiveError("\(source): duplicate entry name '\(e.name)'") }
            idx[e.name] = i
        }
        index = idx
    }

    /// The entry called `name`, if any.
    public func entry(_ name: String) -> Entry? { index[name].map { entries[$0] } }

    /// The bytes of entry `name`; with `verify`, its CRC-32 is checked against the directory.
    public func data(for name: String, verify: Bool = true) throws -> Data {
        guard let e = entry(name) else { throw ArchiveError("\(source): no entry named '\(name)'") }
        return try data(for: e, verify: verify)
    }

    /// The bytes of an entry (a slice of the archive, re-based to start at index 0).
    public func data(for e: Entry, verify: Bool = true) throws -> Data {
        guard e.dataOffset >= 0, e.size >= 0, e.dataOffset <= bytes.count, e.size <= bytes.count - e.dataOffset else {
            throw ArchiveError("\(source): entry '\(e.name)' runs past the end of the archive")
        }
        let slice = bytes.subdata(in: e.dataOffset ..< e.dataOffset + e.size)
        if verify {
            let crc = CRC32.checksum(slice)
            guard crc == e.crc32 else {
                throw ArchiveError("\(source): entry '\(e.name)' is corrupt (CRC-32 \(hex(crc)), directory says \(hex(e.crc32)))")
            }
        }
        return slice
    }

    /// Calls `body` with the entry's bytes in place (no copy); the CRC is checked first when `verify`.
    public func withBytes<R>(of e: Entry, verify: Bool = true, _ body: (UnsafeRawBufferPointer) throws -> R) throws -> R {
        guard e.dataOffset >= 0, e.size >= 0, e.dataOffset <= bytes.count, e.size <= bytes.count - e.dataOffset else {
            throw ArchiveError("\(source): entry '\(e.name)' runs past the end of the archive")
        }
        return try bytes.withUnsafeBytes { raw in
            let part = UnsafeRawBufferPointer(rebasing: raw[e.dataOffset ..< e.dataOffset + e.size])
            if verify {
                var crc = CRC32()
                crc.update(part)
                guard crc.value == e.crc32 else {
                    throw ArchiveError("\(source): entry '\(e.name)' is corrupt (CRC-32 \(hex(crc.value)), directory says \(hex(e.crc32)))")
                }
            }
            return try body(part)
        }
    }

    // MARK: - Parsing

    private static let eocdSignature: UInt32 = 0x0605_4B50
    private static let zip64LocatorSignature: UInt32 = 0x0706_4B50
    private static let zip64EOCDSignature: UInt32 = 0x0606_4B50
    private static let centralSignature: UInt32 = 0x0201_4B50
    private static let localSignature: UInt32 = 0x0403_4B50

    private static func readDirectory(_ r: ByteReader, limits: Limits) throws -> [Entry] {
        let n = r.bytes.count
        guard n >= 22 else { throw ArchiveError("\(r.source): too short to be a zip archive (\(n) bytes)") }
        // The end-of-central-directory record is the last 22 bytes plus a comment of up to 64 KiB.
        var eocd = -1
        var pos = n - 22
        let lowest = max(0, n - 22 - 0xFFFF)
        while pos >= lowest {
            if try r.u32(pos, "end record") == eocdSignature { eocd = pos; break }
            pos -= 1
        }
        guard eocd >= 0 else { throw ArchiveError("\(r.source): not a zip archive (no end-of-central-directory record)") }

        let disk = try r.u16(eocd + 4, "disk number")
        let cdDisk = try r.u16(eocd + 6, "central directory disk")
        var count = try r.u16(eocd + 10, "entry count")
        var cdSize = Int(try r.u32(eocd + 12, "central directory size"))
        var cdOffset = Int(try r.u32(eocd + 16, "central directory offset"))

        // zip64: a locator sits just before the classic end record.
        if eocd >= 20, try r.u32(eocd - 20, "zip64 locator") == zip64LocatorSignature {
            let z = try r.size64(eocd - 20 + 8, "zip64 end record offset")
            guard try r.u32(z, "zip64 end record") == zip64EOCDSignature else {
                throw ArchiveError("\(r.source): zip64 locator points to byte \(z), which is not a zip64 end record")
            }
            let z64Disk = try r.u32(z + 16, "zip64 disk number")
            guard z64Disk == 0 else { throw ArchiveError("\(r.source): multi-disk archives are not supported") }
            count = try r.size64(z + 32, "zip64 entry count")
            cdSize = try r.size64(z + 40, "zip64 central directory size")
            cdOffset = try r.size64(z + 48, "zip64 central directory offset")
        } else if disk != 0 || cdDisk != 0 {
            throw ArchiveError("\(r.source): multi-disk archives are not supported")
        }

        // Each directory record is at least 46 bytes: a claimed count larger than that is a lie.
        try r.need(cdOffset, cdSize, "central directory")
        guard count <= limits.maxEntries, count <= cdSize / 46 else {
            throw ArchiveError("\(r.source): central directory claims \(count) entries in \(cdSize) bytes")
        }

        var entries: [Entry] = []
        entries.reserveCapacity(count)
        var p = cdOffset
        let cdEnd = cdOffset + cdSize
        for i in 0..<count {
            guard p + 46 <= cdEnd, try r.u32(p, "directory record") == centralSignature else {
                throw ArchiveError("\(r.source): central directory record \(i) at byte \(p) is malformed")
            }
            let flags = try r.u16(p + 8, "flags")
            let method = try r.u16(p + 10, "compression method")
            let crc = try r.u32(p + 16, "crc")
            var compSize = Int(try r.u32(p + 20, "compressed size"))
            var size = Int(try r.u32(p + 24, "size"))
            let nameLen = try r.u16(p + 28, "name length")
            let extraLen = try r.u16(p + 30, "extra length")
            let commentLen = try r.u16(p + 32, "comment length")
            var localOffset = Int(try r.u32(p + 42, "local header offset"))
            try r.need(p + 46, nameLen + extraLen + commentLen, "directory record \(i)")
            guard p + 46 + nameLen + extraLen + commentLen <= cdEnd else {
                throw ArchiveError("\(r.source): central directory record \(i) runs past the directory")
            }
            let nameBytes = UnsafeRawBufferPointer(rebasing: r.bytes[(p + 46) ..< (p + 46 + nameLen)])
            guard let name = String(validating: nameBytes, as: UTF8.self) else {
                throw ArchiveError("\(r.source): entry \(i) has a name that is not UTF-8")
            }
            try checkName(name, source: r.source)

            // zip64 extra field (id 1): the 64-bit values of whichever fields were saturated.
            var e = p + 46 + nameLen
            let extraEnd = e + extraLen
            while e + 4 <= extraEnd {
                let id = try r.u16(e, "extra id"), len = try r.u16(e + 2, "extra length")
                guard e + 4 + len <= extraEnd else { throw ArchiveError("\(r.source): entry '\(name)' has a malformed extra field") }
                if id == 1 {
                    var q = e + 4
                    if size == 0xFFFF_FFFF, q + 8 <= e + 4 + len { size = try r.size64(q, "zip64 size"); q += 8 }
                    if compSize == 0xFFFF_FFFF, q + 8 <= e + 4 + len { compSize = try r.size64(q, "zip64 compressed size"); q += 8 }
                    if localOffset == 0xFFFF_FFFF, q + 8 <= e + 4 + len { localOffset = try r.size64(q, "zip64 offset"); q += 8 }
                }
                e += 4 + len
            }

            guard flags & 1 == 0 else { throw ArchiveError("\(r.source): entry '\(name)' is encrypted") }
            switch method {
            case 0: break
            case 8: throw ArchiveError("\(r.source): entry '\(name)' is DEFLATE-compressed; only stored (uncompressed) entries are supported, as torch.save writes them")
            default: throw ArchiveError("\(r.source): entry '\(name)' uses unsupported compression method \(method)")
            }
            guard compSize == size else {
                throw ArchiveError("\(r.source): stored entry '\(name)' has compressed size \(compSize) ≠ size \(size)")
            }
            guard size <= limits.maxEntrySize else {
                throw ArchiveError("\(r.source): entry '\(name)' is \(size) bytes, over the \(limits.maxEntrySize)-byte limit")
            }
            // The local header repeats the name and has its own extra field; data follows it.
            guard try r.u32(localOffset, "local header of '\(name)'") == localSignature else {
                throw ArchiveError("\(r.source): entry '\(name)': no local header at byte \(localOffset)")
            }
            let localName = try r.u16(localOffset + 26, "local name length")
            let localExtra = try r.u16(localOffset + 28, "local extra length")
            let dataOffset = localOffset + 30 + localName + localExtra
            try r.need(dataOffset, size, "data of '\(name)'")
            entries.append(Entry(name: name, dataOffset: dataOffset, size: size, crc32: crc))
            p += 46 + nameLen + extraLen + commentLen
        }
        return entries
    }

    /// Rejects names that are absolute, contain `..` components, backslashes or NUL.
    static func checkName(_ name: String, source: String) throws {
        let bad = name.isEmpty || name.hasPrefix("/") || name.contains("\\") || name.contains("\0")
            || name.split(separator: "/", omittingEmptySubsequences: false).contains("..")
            || (name.count >= 2 && name.dropFirst().first == ":")
        if bad { throw ArchiveError("\(source): unsafe entry name '\(name)' (absolute or escapes its folder)") }
    }
}

private func hex(_ v: UInt32) -> String { "0x" + String(v, radix: 16) }
