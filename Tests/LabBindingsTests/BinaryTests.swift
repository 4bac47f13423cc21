import Foundation
import Testing
import TestSupport
@testable import Tensor

/// The real executable: -c, stdin, script files, lessons, play, exit statuses.
@Suite struct BinaryTests {
    @Test func dashCRunsStatementsAndShowsValues() throws {
        let r = try LMLabBinary.run(["-c", "a = randn(2, 3, seed=0); a.shape; print('hi'); 1e-2/2.6**4"])
        #expect(r.status == 0)
        #expect(r.stdout == "(2, 3)\nhi\n0.00021882987290360977\n")
        #expect(r.stderr == "")
    }

    @Test func dashCStopsAtTheFirstErrorWithOneLineOnStderr() throws {
        let r = try LMLabBinary.run(["-c", "dls = 3; dls\ndsl; print('not reached')"])
        #expect(r.status == 1)
        #expect(r.stdout == "3\n")
        #expect(r.stderr == "-c:2:1: unknown name 'dsl' (did you mean 'dls'?)\n")
    }

    @Test func stdinIsReadAsStatements() throws {
        let ok = try LMLabBinary.run([], stdin: "x = [1,\n  2]\nlen(x)\nprint(x)\n")
        #expect(ok.status == 0)
        #expect(ok.stdout == "2\n[1, 2]\n")
        let bad = try LMLabBinary.run([], stdin: "x = 1\n\nx.shape\nprint('not reached')\n")
        #expect(bad.status == 1)
        #expect(bad.stdout == "")
        #expect(bad.stderr == "<stdin>:3:2: 'int' object has no attribute 'shape'\n")
        let open = try LMLabBinary.run([], stdin: "x = (1,\n")
        #expect(open.status == 1)
        #expect(open.stderr == "<stdin>:1:5: '(' was never closed\n")
    }

    @Test func scriptFileReportsFileLineAndColumn() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("lab-bin-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let script = dir.appendingPathComponent("run.lmlab")
        try "t = zeros(2, 3)\nt.shape\n\nt[5]\n".write(to: script, atomically: true, encoding: .utf8)
        let r = try LMLabBinary.run([script.path])
        #expect(r.status == 1)
        #expect(r.stdout == "(2, 3)\n")
        #expect(r.stderr == "\(script.path):4:2: dimension 0 index 5 out of range (size 2)\n")
        let missing = try LMLabBinary.run([dir.appendingPathComponent("nope.lmlab").path])
        #expect(missing.status == 1 && missing.stderr.hasPrefix("lmlab: cannot read "))
    }

    @Test func lessonRunsAsScriptAndPlayCheckPasses() throws {
        let lesson = Fixtures.packageRoot.appendingPathComponent("Lessons/00-tensors.md").path
        let script = try LMLabBinary.run([lesson])
        #expect(script.status == 0, "\(script.stderr)")
        #expect(script.stdout.contains("error: unknown name 'wrods' (did you mean 'words'?)"))
        let check = try LMLabBinary.run(["play", "--check", lesson])
        #expect(check.status == 0, "\(check.stderr)")
        #expect(check.stdout.hasSuffix("cells, all outputs match\n"))
        let play = try LMLabBinary.run(["play", lesson])
        #expect(play.status == 0)
        #expect(play.stdout.contains("lmlab> t.shape\n(2, 3)\n"))
    }

    @Test func playCheckFailsWithFileLineAndDiff() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("lab-check-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let lesson = dir.appendingPathComponent("bad.md")
        try "# Bad\n\n```lmlab\n1 + 1\n```\n\n```output\n3\n```\n".write(to: lesson, atomically: true, encoding: .utf8)
        let r = try LMLabBinary.run(["play", "--check", lesson.path])
        #expect(r.status == 1)
        #expect(r.stderr == "\(lesson.path):8: expected '3', got '2'\n  - 3\n  + 2\n")
        #expect(r.stdout == "\(lesson.path): 1 cells, 1 differ\n")
    }

    /// Files a lesson writes go to a scratch folder (removed afterwards), or to `--files DIR`;
    /// never into the current directory.
    @Test func playWritesLessonFilesIntoAScratchFolder() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("lab-scratch-\(getpid())")
        let cwd = dir.appendingPathComponent("cwd"), kept = dir.appendingPathComponent("kept")
        try FileManager.default.createDirectory(at: cwd, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let lesson = dir.appendingPathComponent("l.md")
        try "# L\n\n```lmlab\nsavefig(plot([1, 2, 4]), 'p.svg')\n```\n\n```output\nwrote p.svg\n```\n"
            .write(to: lesson, atomically: true, encoding: .utf8)
        let r = try LMLabBinary.run(["play", "--check", lesson.path], directory: cwd.path)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: cwd.path).isEmpty)
        let k = try LMLabBinary.run(["play", "--check", "--files", kept.path, lesson.path], directory: cwd.path)
        #expect(k.status == 0, "\(k.stderr)")
        #expect(FileManager.default.fileExists(atPath: kept.appendingPathComponent("p.svg").path))
        #expect(try FileManager.default.contentsOfDirectory(atPath: cwd.path).isEmpty)
    }

    /// Plain `lmlab tokenize` is the DataBlock path: for every record of tokenize.jsonl, its tokens
    /// are fastai's `tokens_postproc` (rules, spaCy, replace_space), in input order.
    @Test func tokenizeGivesTokensPostproc() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("lab-tok-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let records = try Fixtures.jsonLines("text/tokenize.jsonl")
        let input = dir.appendingPathComponent("in.jsonl")
        let lines = try records.map { r in
            String(decoding: try JSONSerialization.data(withJSONObject: ["text": try Fixtures.field(r, "text", as: String.self)]), as: UTF8.self)
        }
        try (lines.joined(separator: "\n") + "\n").write(to: input, atomically: false, encoding: .utf8)
        let r = try LMLabBinary.run(["tokenize", input.path])
        #expect(r.status == 0, "\(r.stderr)")
        // Split on \n bytes only: tokens may hold U+2028 and other line separators.
        let out = r.stdout.utf8.split(separator: UInt8(ascii: "\n")).map { Data($0) }
        try #require(out.count == records.count, "\(out.count) output lines for \(records.count) records")
        var mismatches: [String] = []
        for (line, record) in zip(out, records) {
            let got = try #require(try JSONSerialization.jsonObject(with: line) as? [String: [String]])["tokens"]
            let want = try Fixtures.field(record, "tokens_postproc", as: [String].self)
            if got != want { mismatches.append(try Fixtures.field(record, "id", as: String.self)) }
        }
        #expect(mismatches.isEmpty, "\(mismatches.count) records differ, first \(mismatches.prefix(5))")
    }

    @Test func playWritesATranscriptWithPlots() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("lab-tx-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let lesson = dir.appendingPathComponent("l.md")
        try "# L\n\n```lmlab\nplot([1, 2, 4])\n```\n".write(to: lesson, atomically: true, encoding: .utf8)
        let out = dir.appendingPathComponent("notes.md")
        let r = try LMLabBinary.run(["play", "--transcript", out.path, lesson.path])
        #expect(r.status == 0, "\(r.stderr)")
        let text = try String(contentsOf: out, encoding: .utf8)
        #expect(text.contains("```lmlab\nplot([1, 2, 4])\n```") && text.contains("![Plot 1](notes-1.svg)"))
        #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent("notes-1.svg").path))
    }

    @Test func playStepRunsCommandsBetweenSteps() throws {
        let lesson = Fixtures.packageRoot.appendingPathComponent("Lessons/00-tensors.md").path
        // Enter after step 1, a command and Enter after step 2, then end of input.
        let r = try LMLabBinary.run(["play", "--step", lesson], stdin: "\n6 * 7\n\n")
        #expect(r.status == 0)
        let out = r.stdout
        let step2 = try #require(out.range(of: "lmlab> t[:, -1]\n"))
        #expect(out[step2.upperBound...].contains("\n42\n"))
        #expect(!out.contains("## Arithmetic"))   // stopped at end of input during step 3
    }

    @Test func lmlabRunsOnAVX2KernelsWhenOpenBLASDoesNotKnowTheCPU() throws {
        // Debian's OpenBLAS falls back to SSE3 kernels on CPUs newer than itself; lmlab then
        // re-runs itself with OPENBLAS_CORETYPE=Haswell. Elsewhere it keeps OpenBLAS's choice.
        let r = try LMLabBinary.run(["bench", "lm", "--vocab", "50", "--emb", "8", "--hid", "8", "--layers", "1",
                                     "--bs", "2", "--bptt", "4", "--seconds", "0.05"])
        #expect(r.status == 0, "\(r.stderr)")
        let line = r.stdout.split(separator: "\n").first { $0.hasPrefix("BLAS: OpenBLAS core ") }
        let core = line.map { String($0.dropFirst("BLAS: OpenBLAS core ".count).prefix { $0 != "," }) }
        #expect(core == (BLAS.kernelOverride ?? BLAS.coreName), "\(r.stdout)")
        if let core, CPUFeatures.hasAVX2FMA {
            #expect(!BLAS.preAVX2Cores.contains(core.lowercased()), "lmlab ran on OpenBLAS's \(core) kernels")
        }
    }

    @Test func helpListsSubcommandsAndFlagsAndVersionIsKept() throws {
        let help = try LMLabBinary.run(["--help"])
        #expect(help.status == 0)
        for word in ["SUBCOMMANDS:", "play", "start", "--version", "-c <statements>", "--check", "--step", "--transcript",
                     "backwards=True", "ensemble([learn_fwd, learn_bwd])", "format='pth'", "pretrained_fnames"] {
            #expect(help.stdout.contains(word), "\(word)")
        }
        let start = try LMLabBinary.run(["start", "--help"])
        #expect(start.stdout.contains("-c <statements>"))
        let play = try LMLabBinary.run(["play", "--help"])
        for word in ["--step", "--check", "--transcript"] { #expect(play.stdout.contains(word), "\(word)") }
        let version = try LMLabBinary.run(["--version"])
        #expect(version.status == 0 && version.stdout.split(separator: ".").count == 3)
    }
}
