import Foundation
import Testing
@testable import Files

/// Atomic writes under failure: a full disk, a process killed between the two files of a pair,
/// temporary files of dead processes.
@Suite struct AtomicFileTests {
    static func folder() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("lmlab-atomic-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    static func entries(_ dir: URL) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted()
    }

    @Test func fullDiskGivesOneLineAndKeepsThePreviousFile() throws {
        let dir = try Self.folder()
        defer { AtomicFile.setTestWriteLimit(nil, for: dir); try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("w.bin")
        let old = Data(repeating: 1, count: 3000)
        let crc = try AtomicFile.write(old, to: url)
        AtomicFile.setTestWriteLimit(1000, for: dir)
        var message = ""
        do { try AtomicFile.write(Data(repeating: 2, count: 5000), to: url) } catch { message = "\(error)" }
        #expect(message == "no space left on device while writing \(url.path) (5.0 kB); the previous file is unchanged")
        #expect(try Data(contentsOf: url) == old)
        try AtomicFile.verify(url, crc32: crc)
        #expect(try Self.entries(dir) == ["w.bin"])   // the partial temporary file is gone
        // The limit is per directory: another folder is unaffected.
        let other = try Self.folder()
        defer { try? FileManager.default.removeItem(at: other) }
        try AtomicFile.write(Data(repeating: 3, count: 5000), to: other.appendingPathComponent("w.bin"))
    }

    @Test func aPairInterruptedBetweenItsRenamesStillReadsTheOldData() throws {
        let dir = try Self.folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let data = dir.appendingPathComponent("m.safetensors"), header = dir.appendingPathComponent("m.json")
        let first = Data((0..<4000).map { UInt8($0 % 251) }), second = Data((0..<4000).map { UInt8($0 % 13) })
        let crc1 = try AtomicFilePair.write(data: first, to: data, header: { Data("\($0)".utf8) }, to: header)
        #expect(try Self.entries(dir) == ["m.json", "m.safetensors"])
        #expect(try AtomicFilePair.verifiedDataFile(data, crc32: crc1) == data)

        // The state a kill leaves after the data rename and before the header rename: the old
        // data kept under the link, the new data in place, the old header.
        let kept = AtomicFilePair.keptURL(for: data)
        #expect(link(data.path, kept.path) == 0)
        try AtomicFile.write(second, to: data)
        let found = try AtomicFilePair.verifiedDataFile(data, crc32: crc1)
        #expect(found == kept)
        #expect(try Data(contentsOf: found) == first)

        // The next complete write replaces both and removes the kept link.
        let crc2 = try AtomicFilePair.write(data: second, to: data, header: { Data("\($0)".utf8) }, to: header)
        #expect(try Self.entries(dir) == ["m.json", "m.safetensors"])
        #expect(try AtomicFilePair.verifiedDataFile(data, crc32: crc2) == data)
        #expect(try String(contentsOf: header, encoding: .utf8) == "\(crc2)")

        // Damaged with nothing kept: the CRC error.
        try AtomicFile.write(first, to: data)
        #expect(throws: FileError.self) { try AtomicFilePair.verifiedDataFile(data, crc32: crc2) }
    }

    @Test func aPairOnAFullDiskChangesNeitherFile() throws {
        let dir = try Self.folder()
        defer { AtomicFile.setTestWriteLimit(nil, for: dir); try? FileManager.default.removeItem(at: dir) }
        let data = dir.appendingPathComponent("m.safetensors"), header = dir.appendingPathComponent("m.json")
        let crc = try AtomicFilePair.write(data: Data(repeating: 7, count: 2000), to: data, header: { Data("\($0)".utf8) }, to: header)
        AtomicFile.setTestWriteLimit(100, for: dir)
        #expect(throws: FileError.self) {
            try AtomicFilePair.write(data: Data(repeating: 8, count: 2000), to: data, header: { Data("\($0)".utf8) }, to: header)
        }
        #expect(try Self.entries(dir) == ["m.json", "m.safetensors"])
        #expect(try String(contentsOf: header, encoding: .utf8) == "\(crc)")
        #expect(try AtomicFilePair.verifiedDataFile(data, crc32: crc) == data)
    }

    @Test func temporaryFilesOfDeadWritersAreRemovedByTheNextWrite() throws {
        let dir = try Self.folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("w.bin")
        // A process that has exited: its pid is no longer in use (waited for, so not a zombie).
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/true")
        try p.run(); p.waitUntilExit()
        let dead = dir.appendingPathComponent(".w.bin.tmp-\(p.processIdentifier)-12345")
        let alive = dir.appendingPathComponent(".w.bin.tmp-1-777")          // pid 1 always exists
        let otherName = dir.appendingPathComponent(".x.bin.tmp-\(p.processIdentifier)-1")
        for f in [dead, alive, otherName] { try Data([1, 2, 3]).write(to: f) }
        try AtomicFile.write(Data([9]), to: url)
        #expect(try Self.entries(dir) == [".w.bin.tmp-1-777", ".x.bin.tmp-\(p.processIdentifier)-1", "w.bin"])
    }
}

@Test func atomicWriteReplacesWholeFileAndVerifies() throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("lmlab-atomic-\(getpid())")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    let url = dir.appendingPathComponent("weights.bin")
    let first = try AtomicFile.write(Data([1, 2, 3]), to: url)
    let second = try AtomicFile.write(Data(Array("replaced".utf8)), to: url)
    #expect(try Data(contentsOf: url) == Data(Array("replaced".utf8)))
    #expect(second == CRC32.checksum(Array("replaced".utf8)) && first != second)
    try AtomicFile.verify(url, crc32: second)
    #expect(throws: FileError.self) { try AtomicFile.verify(url, crc32: first) }
    // No temporary files are left behind.
    #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["weights.bin"])
    // A missing directory is an error, not a crash.
    #expect(throws: FileError.self) { try AtomicFile.write(Data([1]), to: dir.appendingPathComponent("no/such/file")) }
}
