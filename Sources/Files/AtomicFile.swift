import Foundation
import Synchronization
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
///
/// A full disk gives one line, `no space left on device while writing <path> (<size>); the
/// previous file is unchanged`. Temporary files left by a process that was killed mid-write
/// (`.<name>.tmp-<pid>-<random>`) are removed by the next successful write of the same name.
public enum AtomicFile {
    /// Writes `data` to `url` atomically and returns its CRC-32.
    @discardableResult
    public static func write(_ data: Data, to url: URL) throws -> UInt32 {
        let tmp = try writeTemporary(data, for: url)
        try commit(tmp, to: url)
        return CRC32.checksum(data)
    }

    /// Writes `data` to a new temporary file next to `url` and flushes it to disk; returns the
    /// temporary file's URL (removed again if anything fails).
    static func writeTemporary(_ data: Data, for url: URL) throws -> URL {
        let dir = url.deletingLastPathComponent()
        let tmp = dir.appendingPathComponent("\(temporaryPrefix(for: url))\(getpid())-\(UInt32.random(in: 0 ... .max))")
        let fd = open(tmp.path, O_WRONLY | O_CREAT | O_EXCL, 0o644)
        guard fd >= 0 else { throw failure(errno, url, data.count) }
        var ok = false
        defer { if !ok { unlink(tmp.path) } }
        do {
            defer { close(fd) }
            let limit = testWriteLimit(for: dir)
            try data.withUnsafeBytes { raw in
                var done = 0
                while done < raw.count {
                    var chunk = raw.count - done
                    if let limit {
                        guard done < limit else { throw failure(ENOSPC, url, raw.count) }
                        chunk = min(chunk, limit - done)
                    }
                    let n = Glibc.write(fd, raw.baseAddress! + done, chunk)
                    if n < 0 {
                        if errno == EINTR { continue }
                        throw failure(errno, url, raw.count)
                    }
                    done += n
                }
            }
            guard fsync(fd) == 0 else { throw failure(errno, url, data.count) }
        }
        ok = true
        return tmp
    }

    /// Renames a temporary file from `writeTemporary` over `url`, makes the rename durable and
    /// removes temporary files of the same name left by processes that no longer exist.
    static func commit(_ tmp: URL, to url: URL) throws {
        guard rename(tmp.path, url.path) == 0 else {
            let e = errno
            unlink(tmp.path)
            throw failure(e, url, 0)
        }
        syncDirectory(of: url)
        removeStaleTemporaries(for: url)
    }

    /// Makes renames and links in `url`'s directory durable.
    static func syncDirectory(of url: URL) {
        let dfd = open(url.deletingLastPathComponent().path, O_RDONLY)
        if dfd >= 0 { _ = fsync(dfd); close(dfd) }
    }

    static func temporaryPrefix(for url: URL) -> String { ".\(url.lastPathComponent).tmp-" }

    /// Deletes `.<name>.tmp-<pid>-…` files whose writer process is gone (killed mid-write).
    static func removeStaleTemporaries(for url: URL) {
        let dir = url.deletingLastPathComponent()
        let prefix = temporaryPrefix(for: url)
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: dir.path) else { return }
        for name in names where name.hasPrefix(prefix) {
            let rest = name.dropFirst(prefix.count)
            guard let dash = rest.firstIndex(of: "-"), let pid = pid_t(rest[..<dash]), pid != getpid() else { continue }
            if kill(pid, 0) != 0 && errno == ESRCH { unlink(dir.appendingPathComponent(name).path) }
        }
    }

    /// Throws unless the file at `url` has the given CRC-32.
    public static func verify(_ url: URL, crc32 expected: UInt32) throws {
        let data: Data
        do { data = try Data(contentsOf: url, options: .alwaysMapped) } catch {
            throw FileError("\(url.path): cannot read file (\(error.localizedDescription))")
        }
        let crc = CRC32.checksum(data)
        guard crc == expected else {
            throw FileError("\(url.path): checksum mismatch (CRC-32 \(String(crc, radix: 16)), expected \(String(expected, radix: 16)))")
        }
    }

    /// One line for a failed system call while writing `url`; a full disk or quota is named
    /// as such, with the size that did not fit.
    static func failure(_ code: Int32, _ url: URL, _ size: Int) -> FileError {
        if code == ENOSPC || code == EDQUOT {
            let what = code == ENOSPC ? "no space left on device" : "disk quota exceeded"
            return FileError("\(what) while writing \(url.path) (\(byteCount(size))); the previous file is unchanged")
        }
        return FileError("cannot write \(url.path): \(FileErrors.reason(code))")
    }

    /// `812 bytes`, `1.4 MB`.
    public static func byteCount(_ n: Int) -> String {
        if n < 1_000 { return "\(n) bytes" }
        if n < 1_000_000 { return String(format: "%.1f kB", Double(n) / 1e3) }
        if n < 1_000_000_000 { return String(format: "%.1f MB", Double(n) / 1e6) }
        return String(format: "%.1f GB", Double(n) / 1e9)
    }

    // MARK: test hook

    /// Tests simulate a full disk: a write of a file into one of these directories fails with
    /// ENOSPC after this many bytes. Keyed by directory so parallel tests do not interfere.
    private static let writeLimits = Mutex<[String: Int]>([:])

    /// Makes writes into `directory` fail with ENOSPC after `bytes` bytes (nil removes the limit).
    static func setTestWriteLimit(_ bytes: Int?, for directory: URL) {
        let key = directory.standardizedFileURL.path
        writeLimits.withLock { $0[key] = bytes }
    }

    private static func testWriteLimit(for directory: URL) -> Int? {
        let key = directory.standardizedFileURL.path
        return writeLimits.withLock { $0.isEmpty ? nil : $0[key] }
    }
}
