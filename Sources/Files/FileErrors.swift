import Foundation

/// One-line reasons for file-system errors. Foundation's own description of a failed write is a
/// dump (`Error Domain=NSCocoaErrorDomain Code=516 "(null)" UserInfo={…}`); people need the
/// reason the operating system gave: `a file is in the way`, `permission denied`, `no such file
/// or folder`, `is a folder`.
public enum FileErrors {
    /// A one-line description of any error: the POSIX reason for Foundation file errors,
    /// the error's own description otherwise.
    public static func describe(_ error: Error) -> String {
        let ns = error as NSError
        guard ns.domain == NSCocoaErrorDomain || ns.domain == NSPOSIXErrorDomain else { return String(describing: error) }
        return reason(ns)
    }

    /// `cannot read PATH: REASON` / `cannot write PATH: REASON`, for messages that name the file.
    public static func reason(_ error: Error) -> String {
        let ns = error as NSError
        if ns.domain == NSPOSIXErrorDomain, let code = POSIXErrorCode(rawValue: Int32(ns.code)) { return posix(code) }
        if let underlying = ns.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain,
           let code = POSIXErrorCode(rawValue: Int32(underlying.code)) {
            return posix(code)
        }
        guard ns.domain == NSCocoaErrorDomain else { return String(describing: error) }
        switch CocoaError.Code(rawValue: ns.code) {
        case .fileNoSuchFile, .fileReadNoSuchFile: return "no such file or folder"
        case .fileReadNoPermission, .fileWriteNoPermission: return "permission denied"
        case .fileWriteFileExists: return "a file is in the way"
        case .fileWriteOutOfSpace: return "no space left on device"
        case .fileWriteVolumeReadOnly: return "read-only file system"
        case .fileReadInapplicableStringEncoding, .fileReadCorruptFile: return "not UTF-8 text"
        case .fileReadTooLarge: return "file too large"
        case .fileWriteInvalidFileName, .fileReadInvalidFileName: return "invalid file name"
        default: return "file error \(ns.code)"
        }
    }

    /// The reason for an `errno` value.
    public static func reason(_ errno: Int32) -> String {
        POSIXErrorCode(rawValue: errno).map(posix) ?? String(cString: strerror(errno))
    }

    private static func posix(_ code: POSIXErrorCode) -> String {
        switch code {
        case .ENOENT: "no such file or folder"
        case .EACCES, .EPERM: "permission denied"
        case .EEXIST: "a file is in the way"
        case .EISDIR: "is a folder"
        case .ENOTDIR: "a file is in the way (not a folder)"
        case .ENOSPC: "no space left on device"
        case .EROFS: "read-only file system"
        case .ENAMETOOLONG: "file name too long"
        default: String(cString: strerror(code.rawValue)).lowercased()
        }
    }

    /// The bytes of a file, or a one-line error `cannot read NAME: REASON` (a folder, a missing
    /// file and an unreadable one each say which).
    public static func contents(of url: URL, shown: String? = nil) throws -> Data {
        let name = shown ?? url.path
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: url.path, isDirectory: &isDir), isDir.boolValue {
            throw FileError("cannot read \(name): is a folder")
        }
        do { return try Data(contentsOf: url) } catch {
            throw FileError("cannot read \(name): \(reason(error))")
        }
    }
}

/// A file that could not be read, written or verified, in one line that names it:
/// `cannot read NAME: REASON`, `no space left on device while writing PATH (SIZE); …`,
/// `PATH: checksum mismatch (…)`.
public struct FileError: Error, CustomStringConvertible, Equatable, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}
