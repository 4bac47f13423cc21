import Foundation
import Files
import Tensor

/// The checks made before LMLab writes into a folder the user named (export, savefig):
/// never into a filesystem root, never over a file LMLab did not write unless asked to, and
/// every failure as `cannot write PATH: REASON`.
public enum WritePaths {
    /// Throws when `folder` is the filesystem root (after `..` and symbolic links are resolved).
    public static func checkNotRoot(_ folder: URL) throws {
        let path = folder.standardizedFileURL.resolvingSymlinksInPath().path
        if path == "/" { throw LearnError.invalidArgument("refusing to write into the filesystem root /; name a folder") }
    }

    /// Before an export into `folder`: not a root, not a file, and for each of `files` that
    /// exists, `isOurs` must accept the folder's `files[0]` (the header LMLab writes), unless
    /// `overwrite`.
    public static func checkExportFolder(_ folder: URL, files: [String], overwrite: Bool,
                                         isOurs: (Data) -> Bool) throws {
        try checkNotRoot(folder)
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: folder.path, isDirectory: &isDir), !isDir.boolValue {
            throw LearnError.invalidArgument("cannot write \(folder.path): a file is in the way (not a folder)")
        }
        guard !overwrite else { return }
        let existing = files.filter { FileManager.default.fileExists(atPath: folder.appendingPathComponent($0).path) }
        guard !existing.isEmpty else { return }
        let header = folder.appendingPathComponent(files[0])
        if let data = FileManager.default.contents(atPath: header.path), isOurs(data) { return }
        throw LearnError.invalidArgument("\(folder.appendingPathComponent(existing[0]).path) exists and was not written by LMLab; pass overwrite=True to replace it")
    }

    /// Creates `folder` (and its parents), or throws `cannot write PATH: REASON`.
    public static func createFolder(_ folder: URL) throws {
        do { try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true) } catch {
            throw LearnError.invalidArgument("cannot write \(folder.path): \(FileErrors.reason(error))")
        }
    }
}
