import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Two files that must change together: a data file and a header that records the data's
/// CRC-32 (LMLab's `<name>.safetensors` + `<name>.json`). Each file is replaced atomically,
/// but a process killed between the two renames would leave a new data file beside the old
/// header. So before the renames the old data file is kept under a hard link
/// (`.<name>.prev`, no copy); a reader that finds the data file not matching the header's CRC
/// takes the kept one, which does. The link is removed once both renames are done.
///
///     let crc = try AtomicFilePair.write(data: bytes, to: st, header: { crc in json(crc) }, to: js)
///     let file = try AtomicFilePair.verifiedDataFile(st, crc32: crcFromHeader)   // st, or the kept one
public enum AtomicFilePair {
    /// Replaces both files; `header` receives the CRC-32 of `data`. Nothing is renamed until
    /// both new files are fully written and flushed, so a full disk leaves the old pair as it was.
    @discardableResult
    public static func write(data: Data, to dataURL: URL, header: (UInt32) throws -> Data, to headerURL: URL) throws -> UInt32 {
        let crc = CRC32.checksum(data)
        let headerBytes = try header(crc)
        let dataTmp = try AtomicFile.writeTemporary(data, for: dataURL)
        let headerTmp: URL
        do { headerTmp = try AtomicFile.writeTemporary(headerBytes, for: headerURL) } catch {
            unlink(dataTmp.path)
            throw error
        }
        let kept = keptURL(for: dataURL)
        unlink(kept.path)
        _ = link(dataURL.path, kept.path)   // fails harmlessly when there is no old file
        do {
            try AtomicFile.commit(dataTmp, to: dataURL)
        } catch {
            unlink(headerTmp.path)
            throw error
        }
        try AtomicFile.commit(headerTmp, to: headerURL)
        unlink(kept.path)
        return crc
    }

    /// The file holding the data that matches `crc32`: `dataURL` itself, or the previous data
    /// kept while a save was interrupted between its two renames. Throws the CRC error of
    /// `dataURL` when neither matches.
    public static func verifiedDataFile(_ dataURL: URL, crc32: UInt32) throws -> URL {
        do {
            try AtomicFile.verify(dataURL, crc32: crc32)
            return dataURL
        } catch {
            let kept = keptURL(for: dataURL)
            if FileManager.default.fileExists(atPath: kept.path), (try? AtomicFile.verify(kept, crc32: crc32)) != nil {
                return kept
            }
            throw error
        }
    }

    /// `.<name>.prev` next to `dataURL`.
    public static func keptURL(for dataURL: URL) -> URL {
        dataURL.deletingLastPathComponent().appendingPathComponent(".\(dataURL.lastPathComponent).prev")
    }
}
