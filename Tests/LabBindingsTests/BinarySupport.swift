import Foundation
import TestSupport

/// The built `lmlab` executable: next to the test bundle (same build configuration),
/// else in the package's .build directory.
enum LMLabBinary {
    static var path: String? {
        var candidates: [String] = []
        let runner = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var dir = runner.deletingLastPathComponent()
        // The runner may sit inside an .xctest bundle directory.
        for _ in 0..<4 {
            candidates.append(dir.appendingPathComponent("lmlab").path)
            dir = dir.deletingLastPathComponent()
        }
        let build = Fixtures.packageRoot.appendingPathComponent(".build")
        candidates += ["debug/lmlab", "release/lmlab"].map { build.appendingPathComponent($0).path }
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// Runs lmlab with arguments and stdin text; HOME and history go to a temporary directory.
    static func run(_ arguments: [String], stdin: String = "", directory: String? = nil) throws -> Result {
        guard let path else { throw BinaryMissing() }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: path)
        p.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        env["HOME"] = FileManager.default.temporaryDirectory.path
        env["LMLAB_HISTORY"] = FileManager.default.temporaryDirectory.appendingPathComponent("lmlab-test-history").path
        p.environment = env
        if let directory { p.currentDirectoryURL = URL(fileURLWithPath: directory) }
        let inPipe = Pipe(), outPipe = Pipe(), errPipe = Pipe()
        p.standardInput = inPipe
        p.standardOutput = outPipe
        p.standardError = errPipe
        try p.run()
        inPipe.fileHandleForWriting.write(stdin.data(using: .utf8)!)
        try inPipe.fileHandleForWriting.close()
        // Read stderr on another thread so neither pipe can fill up and block the child.
        let errBox = Box()
        let t = Thread { errBox.data = errPipe.fileHandleForReading.readDataToEndOfFile() }
        t.start()
        let out = outPipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        while errBox.data == nil { usleep(1000) }
        return Result(status: p.terminationStatus, stdout: String(decoding: out, as: UTF8.self),
                      stderr: String(decoding: errBox.data!, as: UTF8.self))
    }

    final class Box: @unchecked Sendable { var data: Data? }

    struct BinaryMissing: Error, CustomStringConvertible {
        var description: String { "lmlab executable not found next to the tests or in .build (build it: swift build --product lmlab)" }
    }
}
