import Foundation
import Testing
import Files

/// Failed reads and writes are told in the operating system's words, in one line.
@Test func fileErrorsGiveTheReasonNotAFoundationDump() throws {
    let dir = FileManager.default.temporaryDirectory
    #expect { try FileErrors.contents(of: dir) } throws: { "\($0)" == "cannot read \(dir.path): is a folder" }
    let none = dir.appendingPathComponent("no-such-\(UUID().uuidString)")
    #expect { try FileErrors.contents(of: none) } throws: { "\($0)" == "cannot read \(none.path): no such file or folder" }
    let cocoa = CocoaError(.fileWriteFileExists)
    #expect(FileErrors.describe(cocoa) == "a file is in the way")
}
