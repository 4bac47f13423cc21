import Foundation
import Testing
import TestSupport
@testable import Files
@testable import Lab
@testable import LabBindings
#if canImport(Glibc)
import Glibc
#endif

/// What the real `lmlab` does when things go wrong around it: killed mid-save, a full disk,
/// SIGTERM during training, a model too large for memory, a huge one-line text, a bad
/// sentencepiece model.
@Suite(.serialized) struct RobustnessBinaryTests {
    static func folder() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("lmlab-robust-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    /// A learner whose checkpoint is about 0.6 MB (weights only, before training), so a save takes a moment.
    static func learnerLine(_ size: (emb: Int, hid: Int) = (64, 128)) -> String {
        "learn = language_model_learner(sample_lm_data(n_texts=12, bs=4, seq_len=8, max_vocab=200), emb_sz=\(size.emb), n_hid=\(size.hid), n_layers=2)"
    }

    static func session(_ line: String) throws -> Session {
        let s = Session()
        let r = s.run(line)
        #expect(r.error == nil, "\(r.text)")
        return s
    }

    static func entries(_ dir: URL) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []).sorted()
    }

    @Test func killedMidSaveLeavesALoadableCheckpointAndNoBlockingTemporaries() throws {
        let dir = try Self.folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let base = dir.appendingPathComponent("a").path
        // One save, a marker, then saves back to back until killed (one list, evaluated in order).
        // Far more saves than can finish before the kill, even where fsync costs nothing (tmpfs).
        let saves = Array(repeating: "learn.save(p)", count: 5000).joined(separator: ", ")
        let script = "\(Self.learnerLine()); p = Path('\(base)'); learn.save(p); print('first save done'); [\(saves)]"
        let loader = try Self.session(Self.learnerLine())
        var killedDuringSaves = 0
        for _ in 0..<3 {
            let p = try RunningBinary(["-c", script])
            try #require(p.waitForOutput("first save done"), "\(p.stderr)")
            usleep(UInt32.random(in: 1_000...150_000))
            p.send(SIGKILL)
            let exit = p.wait()
            if exit.signal == SIGKILL { killedDuringSaves += 1 }
            // Whatever moment the kill hit, the checkpoint on disk loads (weights and optimizer state).
            let r = loader.run("learn.load(Path('\(base)'))")
            #expect(r.error == nil, "\(r.text)")
            // Only the killed process's own temporary files may be left; older ones were swept.
            let stray = Self.entries(dir).filter { $0.contains(".tmp-") }
            #expect(stray.allSatisfy { $0.contains(".tmp-\(p.pid)-") }, "\(stray)")
        }
        #expect(killedDuringSaves > 0)   // 5000 saves of ~0.6 MB take far longer than 150 ms
        // A later save works and leaves exactly the pair.
        #expect(loader.run("learn.save(Path('\(base)'))").error == nil)
        #expect(Self.entries(dir) == ["a.json", "a.safetensors"])
    }

    @Test func sigtermDuringFitStopsAtABatchBoundaryAndExits143() throws {
        let dir = try Self.folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let base = dir.appendingPathComponent("before").path
        let script = "\(Self.learnerLine((8, 16))); learn.save(Path('\(base)')); learn.fit_one_cycle(1000, 1e-2); print('not reached')"
        let p = try RunningBinary(["-c", script])
        try #require(p.waitForOutput("train_loss"), "\(p.stderr)")   // the epoch table's header: fit has started
        usleep(200_000)
        p.send(SIGTERM)
        let exit = p.wait()
        #expect(exit.status == 143)
        let err = p.stderr
        #expect(err.range(of: #"^-c:1:\d+: stopped on SIGTERM at epoch \d+, batch \d+ \(the weights keep the updates so far\)\n$"#,
                          options: .regularExpression) != nil, "\(err)")
        #expect(!p.stdout.contains("not reached"))
        let loader = try Self.session(Self.learnerLine((8, 16)))
        #expect(loader.run("learn.load(Path('\(base)'))").error == nil)
    }

    @Test func fullDiskSaveFailsWithOneLineAndKeepsThePreviousCheckpoint() throws {
        let dir = try Self.folder()
        defer { AtomicFile.setTestWriteLimit(nil, for: dir); try? FileManager.default.removeItem(at: dir) }
        let base = dir.appendingPathComponent("a").path
        let s = try Self.session(Self.learnerLine((8, 16)))
        #expect(s.run("learn.save(Path('\(base)'))").error == nil)
        let before = try Data(contentsOf: dir.appendingPathComponent("a.safetensors"))
        AtomicFile.setTestWriteLimit(4096, for: dir)
        let r = s.run("learn.save(Path('\(base)'))")
        let message = try #require(r.error).message
        #expect(message.hasPrefix("LMLearner.save: no space left on device while writing \(base).safetensors ("), "\(message)")
        #expect(message.hasSuffix("); the previous file is unchanged") && !message.contains("\n"))
        AtomicFile.setTestWriteLimit(nil, for: dir)
        #expect(try Data(contentsOf: dir.appendingPathComponent("a.safetensors")) == before)
        #expect(Self.entries(dir) == ["a.json", "a.safetensors"])
        #expect(s.run("learn.load(Path('\(base)'))").error == nil)
    }

    /// Root can mount a real 256 kB tmpfs (CI runs as root).
    static let canMountTmpfs: Bool = {
        guard getuid() == 0, FileManager.default.isExecutableFile(atPath: "/bin/mount") else { return false }
        guard let dir = try? folder() else { return false }
        defer { _ = run("/bin/umount", [dir.path]); try? FileManager.default.removeItem(at: dir) }
        return run("/bin/mount", ["-t", "tmpfs", "-o", "size=64k", "tmpfs", dir.path]) == 0
    }()

    @discardableResult
    static func run(_ tool: String, _ args: [String]) -> Int32 {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: tool)
        p.arguments = args
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        guard (try? p.run()) != nil else { return -1 }
        p.waitUntilExit()
        return p.terminationStatus
    }

    @Test(.enabled(if: canMountTmpfs, "needs root and permission to mount a tmpfs"))
    func realFullTmpfsFailsWithOneLineAndKeepsThePreviousCheckpoint() throws {
        let dir = try Self.folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        try #require(Self.run("/bin/mount", ["-t", "tmpfs", "-o", "size=256k", "tmpfs", dir.path]) == 0)
        defer { Self.run("/bin/umount", [dir.path]) }
        let base = dir.appendingPathComponent("a").path
        // ~155 kB of weights: the first save fits, a second copy beside it (before the rename) cannot.
        let s = try Self.session("learn = language_model_learner(sample_lm_data(n_texts=12, bs=4, seq_len=8, max_vocab=4000), emb_sz=8, n_hid=16, n_layers=2)")
        let first = s.run("learn.save(Path('\(base)'))")
        try #require(first.error == nil, "\(first.text)")
        let r = s.run("learn.save(Path('\(base)'))")
        let message = try #require(r.error, "the second save fitted: the model is too small for this test").message
        #expect(message.hasPrefix("LMLearner.save: no space left on device while writing \(base).safetensors ("), "\(message)")
        #expect(Self.entries(dir) == ["a.json", "a.safetensors"])
        #expect(s.run("learn.load(Path('\(base)'))").error == nil)
    }

    @Test(.enabled(if: ProcessInfo.processInfo.physicalMemory < 64 << 30, "the absurd model would fit in this machine's memory"))
    func aModelTooLargeForMemoryFailsFastWithOneLine() throws {
        let p = try RunningBinary(["-c", "language_model_learner(sample_lm_data(n_texts=12, bs=4, seq_len=8, max_vocab=200), emb_sz=4096, n_hid=8192, n_layers=8)"])
        let exit = p.wait()
        #expect(exit.status == 1)
        let err = p.stderr
        #expect(err.range(of: #"^-c:1:\d+: language_model_learner: AWD-LSTM emb 4096, hidden 8192, 8 layers, vocab \d+, bs 4 × bptt 8 needs about \d+\.\d GB "#,
                          options: .regularExpression) != nil, "\(err)")
        #expect(err.contains(" is available (") && err.hasSuffix("n_layers or batch\n") && err.split(separator: "\n").count == 1)
        // Refused before any weight was allocated: 3.9 G floats would be 15 GB.
        #expect(exit.maxRSSKB > 0 && exit.maxRSSKB < 400_000, "peak \(exit.maxRSSKB) kB")
    }

    @Test func aHugeOneLineTextIsTokenizedInBoundedMemory() throws {
        let dir = try Self.folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        // ~20 MB of real review text on one line.
        let records = try Fixtures.jsonLines("text/subword/encode.jsonl").map { try Fixtures.field($0, "text", as: String.self) }
        let block = records.joined(separator: " ")
        var text = ""
        text.reserveCapacity(21 << 20)
        while text.utf8.count < 20 << 20 { text += block; text += " " }
        let input = dir.appendingPathComponent("huge.jsonl"), output = dir.appendingPathComponent("out.jsonl")
        try (String(decoding: try JSONSerialization.data(withJSONObject: ["text": text]), as: UTF8.self) + "\n")
            .write(to: input, atomically: false, encoding: .utf8)
        text = ""
        let p = try RunningBinary(["tokenize", input.path], stdoutFile: output.path)
        let exit = p.wait()
        #expect(exit.status == 0, "\(p.stderr)")
        // The whole text in one JSON line (taken by the unchunked path it would need ~900 MB).
        #expect(exit.maxRSSKB > 0 && exit.maxRSSKB < 300_000, "peak \(exit.maxRSSKB) kB")
        let handle = try FileHandle(forReadingFrom: output)
        defer { try? handle.close() }
        let head = String(decoding: try handle.read(upToCount: 60) ?? Data(), as: UTF8.self)
        // It starts as the same text given once (its first 60 bytes of output).
        let once = dir.appendingPathComponent("once.jsonl")
        try (String(decoding: try JSONSerialization.data(withJSONObject: ["text": block]), as: UTF8.self) + "\n")
            .write(to: once, atomically: false, encoding: .utf8)
        let small = try LMLabBinary.run(["tokenize", once.path])
        #expect(small.status == 0 && small.stdout.utf8.count > 60, "\(small.stderr)")
        #expect(head == String(decoding: small.stdout.utf8.prefix(60), as: UTF8.self), "\(head)")
        let size = try handle.seekToEnd()
        try handle.seek(toOffset: size - 3)
        #expect(try handle.readToEnd() == Data("\"]}\n".utf8.suffix(3)))
        #expect(size > 20 << 20)
    }

    @Test func tokenizeSubwordMatchesTheFixturePiecesAndRejectsATruncatedModel() throws {
        let dir = try Self.folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let model = Fixtures.url("text/subword/spm.model")
        let records = Array(try Fixtures.jsonLines("text/subword/encode.jsonl").prefix(5))
        let input = dir.appendingPathComponent("in.jsonl")
        let lines = try records.map { String(decoding: try JSONSerialization.data(withJSONObject: ["text": try Fixtures.field($0, "text", as: String.self)]), as: UTF8.self) }
        try (lines.joined(separator: "\n") + "\n").write(to: input, atomically: false, encoding: .utf8)
        let r = try LMLabBinary.run(["tokenize", "--subword", model.path, input.path])
        #expect(r.status == 0, "\(r.stderr)")
        let out = r.stdout.split(separator: "\n")
        try #require(out.count == records.count)
        for (line, record) in zip(out, records) {
            let got = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: [String]])["tokens"]
            #expect(got == (try Fixtures.field(record, "pieces_after_rules", as: [String].self)), "\(record["id"] ?? "")")
        }
        // A truncated model: one line, exit 1, nothing on stdout.
        let bytes = try Data(contentsOf: model)
        let trunc = dir.appendingPathComponent("trunc.model")
        try bytes.prefix(bytes.count / 2).write(to: trunc)
        let bad = try LMLabBinary.run(["tokenize", "--subword", trunc.path, input.path])
        #expect(bad.status != 0)
        #expect(bad.stdout == "")
        #expect(bad.stderr.hasPrefix("Error: ") && bad.stderr.split(separator: "\n").count == 1, "\(bad.stderr)")
        #expect(bad.stderr.contains("not a sentencepiece model, or the file is damaged"), "\(bad.stderr)")
    }
}
