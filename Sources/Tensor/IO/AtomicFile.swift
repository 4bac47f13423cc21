import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Crash-safe file writes: the bytes go to a temporary file in the same directory, are
/// flushed to disk (`fsync`), then renamed over the destination, so a reader sees either
/// the old file or the complete new one, never a torn write.
///
///     let crc = try AtomicFile.write(bytes, to: url)   // returns the CRC-32 written
///     try AtomicFile.verify(url, crc32: crc)
public enum AtomicFile {
    /// Writes `data` to `url` atomically and returns its CRC-32.
    @discardableResult
    public static func write(_ data: Data, to url: URL) throws -> UInt32 {
        let dir = url.deletingLastPathComponent()
        let tmp = dir.appendingPathComponent(".\(url.lastPathComponent).tmp-\(getpid())-\(UInt32.random(in: 0 ... .max))")
        let fd = open(tmp.path, O_WRONLY | O_CREAT | O_EXCL, 0o644)
        guard fd >= 0 else { throw ArchiveError("\(url.path): cannot create temporary file (\(errnoText()))") }
        var ok = false
        defer { if !ok { unlink(tmp.path) } }
        do {
            defer { close(fd) }
            try data.withUnsafeBytes { raw in
                var done = 0
                while done < raw.count {
                    let n = Glibc.write(fd, raw.baseAddress! + done, raw.count - done)
                    if n < 0 {
                        if errno == EINTR { continue }
                        throw ArchiveError("\(url.path): write failed (\(errnoText()))")
                    }
                    done += n
                }
            }
            guard fsync(fd) == 0 else { throw ArchiveError("\(url.path): fsync failed (\(errnoText()))") }
        }
        guard rename(tmp.path, url.path) == 0 else { throw ArchiveError("\(url.path): rename failed (\(errnoText()))") }
        ok = true
        // Make the rename itself durable.
        let dfd = open(dir.path, O_RDONLY)
        if dfd >= 0 { _ = fsync(dfd); close(dfd) }
        return CRC32.checksum(data)
    }

    /// Throws unless the file at `url` has the given CRC-32.
    public static func verify(_ url: URL, crc32 expected: UInt32) throws {
        let data: Data
        do { data = try Data(contentsOf: url, options: .alwaysMapped) } catch {
            throw ArchiveError("\(url.path): cannot read file (\(error.localizedDescription))")
        }
        let crc = CRC32.checksum(data)
        guard crc == expected else {
            throw ArchiveError("\(url.path): checksum mismatch (CRC-32 \(String(crc, radix: 16)), expected \(String(expected, radix: 16)))")
        }
    }

    private static func errnoText() -> String { String(cString: strerror(errno)) }
}
