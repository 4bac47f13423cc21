import Foundation
import Testing
@testable import Lab
@testable import LabBindings
#if canImport(Glibc)
import Glibc
#endif

/// Hostile input to the release binary, one test per class of issue 26: crashes, unbounded
/// allocations, hangs, signals, paths, silent acceptance, messages and reader memory. Each runs
/// `lmlab` in a child process with a time limit and an address-space limit, so a regression
/// fails one test instead of taking the suite down.
@Suite(.serialized) struct HostileInputTests {
    /// Address space for the child: the runtime, OpenBLAS's buffers and a few hundred MB of work.
    static let memoryMB = 3_000

    struct Outcome {
        var exit: RunningBinary.Exit
        var stdout: String
        var stderr: String
        var lines: [String] { stderr.split(separator: "\n").map(String.init) }
    }

    static func folder() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("lmlab-hostile-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    static func run(_ arguments: [String], stdinFile: String? = nil, seconds: Double = 60) throws -> Outcome {
        let p = try RunningBinary(arguments, stdinFile: stdinFile, memoryLimitMB: memoryMB)
        let exit = p.wait(timeout: seconds)
        return Outcome(exit: exit, stdout: p.stdout, stderr: p.stderr)
    }

    /// Runs `source` as a script file (a long program does not fit in one command-line
    /// argument).
    static func runScript(_ source: String, seconds: Double = 60) throws -> Outcome {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("lmlab-hostile-\(UUID().uuidString).lab")
        try source.write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        return try run([file.path], seconds: seconds)
    }

    /// Runs `source` and expects a clean failure: exit 1, one line on stderr containing `message`.
    static func expectError(_ source: String, _ message: String, seconds: Double = 60,
                            sourceLocation: Testing.SourceLocation = #_sourceLocation) throws {
        let o = try runScript(source, seconds: seconds)
        #expect(!o.exit.timedOut, "timed out: \(source.prefix(80))", sourceLocation: sourceLocation)
        #expect(o.exit.signal == nil, "killed by signal \(o.exit.signal ?? 0): \(source.prefix(80))", sourceLocation: sourceLocation)
        #expect(o.exit.status == 1, "status \(String(describing: o.exit.status)) for \(source.prefix(80)): \(o.stderr.prefix(300))",
                sourceLocation: sourceLocation)
        #expect(o.lines.count == 1 && o.stderr.contains(message), "\(source.prefix(80)) → \(o.stderr.prefix(300))",
                sourceLocation: sourceLocation)
    }

    // MARK: crashes

    @Test func longOperatorChainsAreRefusedBeforeTheTreeIsBuilt() throws {
        for op in [" + 1", " * 1", " and 1", " or 1"] {
            try Self.expectError("1" + String(repeating: op, count: 95_000), "expression too long or nested too deeply")
        }
        try Self.expectError("x = [1]; x" + String(repeating: "[0]", count: 95_000), "expression too long or nested too deeply")
        try Self.expectError("t = zeros(1); t" + String(repeating: ".T", count: 95_000), "expression too long or nested too deeply")
    }

    @Test func valuesCannotNestDeeperThanTheLimit() throws {
        let wraps = ["x = [x]", "x = (x,)", "x = L([x])", "x = slice(x)", "x = L(x, 1)"]
        for wrap in wraps {
            let script = "x = 0; " + Array(repeating: wrap, count: 200_000).joined(separator: "; ") + "; repr(x); x == x; x = 0"
            try Self.expectError(script, "values nested more than \(Convert.maxNesting) deep")
        }
        // Right at the limit everything still works, including printing, comparing and freeing.
        let ok = try Self.runScript("x = 0; " + Array(repeating: "x = [x]", count: Convert.maxNesting).joined(separator: "; ")
                                  + "; print(len(repr(x))); print(x == x); x = 0; print('freed')")
        #expect(ok.exit.status == 0, "\(ok.stderr)")
        #expect(ok.stdout == "\(2 * Convert.maxNesting + 1)\nTrue\nfreed\n")
    }

    @Test func shapesAreCheckedInOnePlace() throws {
        let cases: [(String, String)] = [
            ("zeros(0).reshape(2**62, 0)", "is too large"),
            ("zeros(0).reshape(2**62, 0, -1)", "is too large"),
            ("zeros(0, 2**62)", "is too large"),
            ("randn(2**40, 0, 2**40)", "is too large"),
            ("zeros(2**20, 0) @ zeros(0, 2**20)", "'@' result: shape [1048576, 1048576] is too large"),
            ("zeros(2**20, 0).tolist()", "tolist: 1048576 items is too many"),
            ("zeros([1] * 40)", "40 dimensions (limit \(Convert.maxRank))"),
            ("zeros(2, 3).reshape(-1, -1)", "only one size may be -1"),
        ]
        for (source, message) in cases { try Self.expectError(source, message, seconds: 30) }
        // Bounded empty shapes still work.
        let o = try Self.run(["-c", "print(zeros(1000, 0).sum(dim=1).shape, softmax(zeros(7, 0)).shape, (zeros(3, 0) @ zeros(0, 2)).tolist())"])
        #expect(o.stdout == "(1000,) (7, 0) [[0.0, 0.0], [0.0, 0.0], [0.0, 0.0]]\n", "\(o.stderr)")
    }

    @Test func everyWayOfMakingAValueRespectsTheSizeLimits() throws {
        let cases: [(String, String)] = [
            ("s = 'a' * 10**6; s.replace('a', s)", "replace: the string would be"),
            ("s = 'a' * 10**6; s.join([s] * 10**6)", "join: the string would be"),
            ("s = 'ab'; " + Array(repeating: "s = s + s", count: 40).joined(separator: "; "), "'+': the string would be"),
            ("x = [0]; " + Array(repeating: "x = x + x", count: 40).joined(separator: "; "), "'+': 1048576 items is too many"),
            ("'ab' * 10**9", "repetition too large (limit \(Convert.maxStringBytes) bytes)"),
            ("(1, 2) * 10**7", "repetition too large (limit \(Convert.maxItems) items)"),
            ("list('a' * 2000000)", "list: 2000000 items is too many"),
            ("a, b = zeros(2000000)", "unpacking: 2000000 items is too many"),
        ]
        for (source, message) in cases { try Self.expectError(source, message, seconds: 30) }
        for (args, message) in [(["bench", "adam", "--floats", "100000000000"], "bench adam: 100000000000 floats needs about"),
                                (["bench", "lm", "--hid", "100000", "--seconds", "1"], "needs about"),
                                (["bench", "gemm", "--shape", "100000,100000,100000"], "bench gemm --shape 100000,100000,100000 needs about"),
                                (["bench", "lm", "--threads", "-1"], "--threads must be between 1 and 1024, got -1")] {
            let o = try Self.run(args, seconds: 30)
            #expect(o.exit.signal == nil && o.exit.status != 0 && !o.exit.timedOut, "\(args)")
            #expect(o.stderr.contains(message), "\(args): \(o.stderr)")
        }
    }

    // MARK: hangs

    @Test func hugeSharedValuesPrintAndCompareQuickly() throws {
        let build = "x = [1] * 1000; x = [x] * 1000; x = [x] * 1000"
        let o = try Self.run(["-c", "\(build); r = repr(x); print(len(r) < 1100000, r[-5:]); print(x == x)"], seconds: 20)
        #expect(!o.exit.timedOut)
        #expect(o.stdout == "True ], …]\nTrue\n", "\(o.stderr)")
        // Two separately built copies: each distinct pair of lists is compared once.
        let y = try Self.run(["-c", "\(build); y = [1] * 1000; y = [y] * 1000; y = [y] * 1000; print(x == y, x != y + [1])"], seconds: 20)
        #expect(!y.exit.timedOut)
        #expect(y.stdout == "True True\n", "\(y.stderr)")
    }

    // MARK: signals

    @Test func signalsInNonInteractiveRunsSayWhatHappenedAndExitWith128PlusTheSignal() throws {
        for (sig, status, line) in [(SIGINT, Int32(130), "interrupted"), (SIGTERM, Int32(143), "stopped on SIGTERM")] {
            let p = try RunningBinary(["-c", "print('before'); sleep(60); print('not reached')"], memoryLimitMB: Self.memoryMB)
            try #require(p.waitForOutput("before"), "\(p.stderr)")
            p.send(sig)
            let exit = p.wait(timeout: 20)
            #expect(!exit.timedOut)
            #expect(exit.status == status, "\(p.stderr)")
            #expect(p.stdout == "before\n")
            #expect(p.stderr.range(of: #"^-c:1:\d+: "# + line + "\n$", options: .regularExpression) != nil, "\(p.stderr)")
        }
    }

    @Test func playStoppedBySignalFlushesOutputAndWritesTheTranscriptSoFar() throws {
        let dir = try Self.folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let lesson = dir.appendingPathComponent("lesson.md")
        try """
        # A lesson

        ```lmlab
        print('first cell')
        ```

        ```lmlab
        sleep(60)
        ```

        ```lmlab
        print('never')
        ```
        """.write(to: lesson, atomically: true, encoding: .utf8)
        for (sig, status) in [(SIGINT, Int32(130)), (SIGTERM, Int32(143))] {
            let transcript = dir.appendingPathComponent("out-\(sig).md")
            let p = try RunningBinary(["play", "--transcript", transcript.path, lesson.path], memoryLimitMB: Self.memoryMB)
            // stdout is a pipe (block-buffered): the cell's output must still arrive before the signal.
            try #require(p.waitForOutput("first cell"), "\(p.stderr)")
            usleep(100_000)
            p.send(sig)
            let exit = p.wait(timeout: 20)
            #expect(!exit.timedOut)
            #expect(exit.status == status, "\(p.stderr)")
            #expect(p.stdout.contains("first cell") && !p.stdout.contains("never"))
            #expect(p.stderr.split(separator: "\n").count == 1, "\(p.stderr)")
            #expect(p.stderr.hasPrefix("lmlab play: \(sig == SIGINT ? "interrupted" : "stopped on SIGTERM")"), "\(p.stderr)")
            let text = try String(contentsOf: transcript, encoding: .utf8)
            #expect(text.contains("first cell") && text.contains("Interrupted here") && !text.contains("print('never')"), "\(text)")
        }
    }

    // MARK: paths and silent wrong success

    @Test func namesStayInsideModelsAndWritesRefuseRootsAndForeignFiles() throws {
        let dir = try Self.folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let s = Session()
        s.directory = dir.path
        #expect(s.run("learn = language_model_learner(sample_lm_data(n_texts=12, bs=4, seq_len=8, max_vocab=200), emb_sz=8, n_hid=16, n_layers=2)").error == nil)
        for name in ["../../x", "/tmp/x", "a/../../b", "", "a//b", "./a"] {
            let r = s.run("learn.save(\(pythonRepr(name)))")
            #expect(r.error?.message.contains(name.isEmpty ? "cannot be empty" : "must stay inside models/") == true, "\(name): \(r.text)")
        }
        #expect(s.run("learn.save('a\\0b')").error?.message == "LMLearner.save: a model name cannot contain a NUL character")
        #expect(s.run("Path('a\\0b')").error?.message == "a path cannot contain a NUL character: 'a\\x00b'")
        #expect(s.run("learn.save('sub/x')").text == "'models/sub/x'")
        #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent("models/sub/x.safetensors").path))
        #expect(s.run("learn.load('sub/x')").error == nil)
        #expect(!FileManager.default.fileExists(atPath: dir.deletingLastPathComponent().appendingPathComponent("x.json").path))
        // export: never into /, never over files an export did not write.
        #expect(s.run("learn.export('/')").error?.message.contains("refusing to write into the filesystem root") == true)
        #expect(s.run("learn.export('/tmp/..')").error?.message.contains("refusing to write into the filesystem root") == true)
        let foreign = dir.appendingPathComponent("mine")
        try FileManager.default.createDirectory(at: foreign, withIntermediateDirectories: true)
        try "my notes".write(to: foreign.appendingPathComponent("learner.json"), atomically: true, encoding: .utf8)
        #expect(s.run("learn.export('mine')").error?.message.contains("was not written by LMLab; pass overwrite=True") == true)
        #expect(try String(contentsOf: foreign.appendingPathComponent("learner.json"), encoding: .utf8) == "my notes")
        #expect(s.run("learn.export('mine', overwrite=True)").error == nil)
        #expect(s.run("learn.export('mine')").error == nil)   // now it is an export: replacing it is fine
        // Explicit Paths for save: anywhere, but not over a foreign file.
        try "x".write(to: dir.appendingPathComponent("other.json"), atomically: true, encoding: .utf8)
        #expect(s.run("learn.save(Path('other'))").error?.message.contains("was not written by LMLab") == true)
        #expect(s.run("learn.save(Path('other'), overwrite=True)").error == nil)
        #expect(s.run("learn.load(Path('other'))").error == nil)
        #expect(s.run("savefig(plot([1, 2]), '/x.svg')").error?.message.contains("filesystem root") == true)
        try "text".write(to: dir.appendingPathComponent("notes.svg"), atomically: true, encoding: .utf8)
        #expect(s.run("savefig(plot([1, 2]), 'notes.svg')").error?.message.contains("not an SVG picture") == true)
    }

    @Test func silentlyAcceptedInputsAreErrorsNow() throws {
        let s = Session()
        #expect(s.run("d = sample_lm_data(n_texts=12, bs=4, seq_len=8, max_vocab=200)").error == nil)
        for arch in ["'GPT'", "5", "None"] {
            let r = s.run("language_model_learner(d, \(arch), emb_sz=8, n_hid=16, n_layers=2)")
            #expect(r.error?.message.hasPrefix("language_model_learner: arch must be AWD_LSTM") == true, "\(arch): \(r.text)")
        }
        #expect(s.run("language_model_learner(d, AWD_LSTM, emb_sz=8, n_hid=16, n_layers=2)").error == nil)
        #expect(s.run("language_model_learner(d, arch=AWD_LSTM, emb_sz=8, n_hid=16, n_layers=2)").error == nil)
        let drop = s.run("language_model_learner(d, drop_mult=5, emb_sz=8, n_hid=16, n_layers=2)")
        #expect(drop.error?.message == "language_model_learner: drop_mult must be at least 0 and below 4 (it multiplies dropout probabilities up to 0.25, which must stay below 1), got 5.0", "\(drop.text)")
        #expect(s.run("num = Numericalize(); num.setup([['a', 'b']]); num.decode([10**6])").error?.message.contains("out of range") == true)
        #expect(s.run("num.decode([-1])").error == nil)
        // -c and a file together
        let both = try Self.run(["-c", "1", "/dev/null"])
        #expect(both.exit.status != 0 && both.stderr.contains("give either -c statements or a file"), "\(both.stderr)")
        // Invalid UTF-8 on stdin is refused as it is in a file.
        let dir = try Self.folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let input = dir.appendingPathComponent("in.txt")
        try Data("print(1)\nprint('\u{e9}')\nprint('caf".utf8 + [0xFF, 0x27, 0x29, 0x0A]).write(to: input)
        let o = try Self.run([], stdinFile: input.path)
        #expect(o.exit.status == 1)
        #expect(o.stdout == "1\né\n")
        #expect(o.stderr == "<stdin>:3: not UTF-8 text\n")
    }

    // MARK: messages

    @Test func messagesNameTheFileAndTheReason() throws {
        let dir = try Self.folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        for (args, expected) in [([dir.path], "lmlab: cannot read \(dir.path): is a folder"),
                                 ([dir.appendingPathComponent("none.lab").path], "lmlab: cannot read \(dir.appendingPathComponent("none.lab").path): no such file or folder"),
                                 (["tokenize", "--subword", dir.path], "cannot read \(dir.path): is a folder")] {
            let o = try Self.run(args)
            #expect(o.exit.status != 0 && o.stderr.contains(expected) && !o.stderr.contains("Domain="), "\(args): \(o.stderr)")
        }
        let s = Session()
        s.directory = dir.path
        #expect(s.run("read_text('.')").error?.message == "cannot read .: is a folder")
        #expect(s.run("read_text('nope.txt')").error?.message == "cannot read nope.txt: no such file or folder")
        #expect(s.run("learn = language_model_learner(sample_lm_data(n_texts=12, bs=4, seq_len=8, max_vocab=200), emb_sz=8, n_hid=16, n_layers=2)").error == nil)
        try "a file".write(to: dir.appendingPathComponent("models"), atomically: true, encoding: .utf8)
        let r = s.run("learn.save('a')")
        #expect(r.error?.message == "LMLearner.save: cannot write \(dir.appendingPathComponent("models").path): a file is in the way", "\(r.text)")
        #expect(LabError("bad \u{0}name").message == "bad \\x00name")
        #expect(s.run("learn.fit_one_cycle(1, float('inf'))").error?.message.contains("lr must be finite, got inf") == true)
    }

    // MARK: reader memory

    @Test func aHugeCommentLineTakesAboutItsOwnSize() throws {
        let dir = try Self.folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("comment.lab")
        let size = 60_000_000
        var text = Data("print('start')\n# ".utf8)
        text.append(Data(repeating: UInt8(ascii: "x"), count: size))
        text.append(Data("\nprint('end')\n".utf8))
        try text.write(to: file)
        let baseline = try RunningBinary(["-c", "print('start')"], memoryLimitMB: Self.memoryMB).wait(timeout: 30).maxRSSKB
        let p = try RunningBinary([file.path], memoryLimitMB: Self.memoryMB)
        let exit = p.wait(timeout: 60)
        #expect(exit.status == 0, "\(p.stderr)")
        #expect(p.stdout == "start\nend\n")
        // The file's bytes and its String (2×), plus the runtime: within 3× of the input.
        let grownKB = exit.maxRSSKB - baseline
        #expect(grownKB < 3 * size / 1024, "peak grew by \(grownKB) kB for a \(size / 1024) kB line")
    }

    // MARK: fuzz

    /// Deep, long and huge-shape programs, generated for a few seconds: none may crash, hang or
    /// print more than one error line.
    @Test func fuzzDeepLongAndHugeShapePrograms() throws {
        var rng = SystemRandomNumberGenerator()
        func pick<T>(_ xs: [T]) -> T { xs[Int.random(in: 0..<xs.count, using: &rng)] }
        let dims = ["0", "1", "3", "-1", "-2", "2**20", "2**31", "2**62", "2**63 - 1", "1e9"]
        func shape() -> String { (0..<Int.random(in: 1...4, using: &rng)).map { _ in pick(dims) }.joined(separator: ", ") }
        let generators: [() -> String] = [
            { let k = Int.random(in: 1...400, using: &rng); return String(repeating: "[", count: k) + "1" + String(repeating: "]", count: k) },
            { let k = Int.random(in: 1...400, using: &rng); return String(repeating: "(", count: k) + "1" + String(repeating: ")", count: k) },
            { String(repeating: pick(["not ", "-", "+"]), count: Int.random(in: 1...400, using: &rng)) + "1" },
            { "1" + String(repeating: pick([" + 1", " * 2", " and 1", " or 0", " == 1", " - 1", " ** 1"]), count: Int.random(in: 1...30_000, using: &rng)) },
            { "x = [[1]]; x" + String(repeating: pick(["[0]", ".T", "()"]), count: Int.random(in: 1...30_000, using: &rng)) },
            { "x = 0; " + Array(repeating: pick(["x = [x]", "x = (x, x)", "x = L([x])", "x = slice(x)", "x = [x] * 3"]),
                                count: Int.random(in: 1...300, using: &rng)).joined(separator: "; ") + "; repr(x); x == x; x = 0" },
            { "t = zeros(\(shape())); t.reshape(\(shape())).\(pick(["sum(dim=1)", "sum(dim=0)", "tolist()", "mean()", "T", "numel()"]))" },
            { "zeros(\(shape())) @ zeros(\(shape()))" },
            { "softmax(zeros(\(shape())).reshape(\(shape())))" },
            { "s = 'ab'; " + Array(repeating: pick(["s = s + s", "s = s * 3", "s = s.replace('a', s)", "s = ' '.join([s] * 50)", "s = s.upper()"]),
                                  count: Int.random(in: 1...60, using: &rng)).joined(separator: "; ") + "; len(s)" },
            { "x = [1] * 1000; " + Array(repeating: pick(["x = [x] * 1000", "x = x + x", "x = x * 2"]),
                                        count: Int.random(in: 1...8, using: &rng)).joined(separator: "; ") + "; repr(x)[:10]; x == x" },
        ]
        let end = Date().addingTimeInterval(5)
        var ran = 0
        while Date() < end || ran < 11 {
            let program = ran < generators.count ? generators[ran]() : pick(generators)()
            ran += 1
            let o = try Self.runScript(program, seconds: 20)
            let shown = program.count > 120 ? String(program.prefix(120)) + "…" : program
            #expect(!o.exit.timedOut && o.exit.signal == nil, "\(shown): \(o.exit)")
            #expect(o.exit.status == 0 || o.exit.status == 1, "\(shown): status \(String(describing: o.exit.status)) \(o.stderr.prefix(200))")
            #expect(o.lines.count <= 1, "\(shown): \(o.stderr.prefix(300))")
        }
    }
}
