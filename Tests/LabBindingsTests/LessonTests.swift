import Foundation
import Testing
import TestSupport
@testable import Lab
@testable import LabBindings

@Suite struct LessonTests {
    static var lessonFiles: [String] {
        let dir = Fixtures.packageRoot.appendingPathComponent("Lessons")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
        // Numbered lessons only: full-imdb.md needs the full dataset and hours of CPU.
        return names.filter { $0.hasSuffix(".md") && $0.first?.isNumber == true }.sorted().map { dir.appendingPathComponent($0).path }
    }

    @Test func thereAreLessons() {
        #expect(!Self.lessonFiles.isEmpty)
    }

    /// Every lesson in Lessons/ replays with its expected outputs (what `lmlab play --check` does).
    @Test(arguments: lessonFiles)
    func lessonPassesCheck(_ path: String) throws {
        let lesson = try Lesson.load(path)
        #expect(!lesson.title.isEmpty, "\(path) has no '# ' title")
        #expect(!lesson.cells.isEmpty)
        // Each lesson writes its models and plots into its own scratch folder.
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("lmlab-lesson-\(getpid())-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let session = Session()
        session.directory = folder.path
        let run = LessonRun.run(lesson, in: session)
        #expect(run.failures.isEmpty, "\(run.failures.joined(separator: "\n"))")
        #expect(lesson.cells.allSatisfy { $0.expected != nil }, "every cell of \(path) should show its output")
    }

    static let sample = """
    # Sample

    Some prose.

    ```lmlab
    a = 2
    a * 3
    ```

    ```output
    6
    ```

    ```sh
    not a cell
    ```

    ```lmlab
    randn(6, 15, seed=3)
    print('loss', 4.21)
    a / 3
    ```

    ```output
    ~ shape [6, 15]
    loss {{approx 4.2 ±0.1}}
    ~ approx 0.667 ±0.001
    ```
    """

    @Test func parsesCellsWithTheirLines() throws {
        let lesson = try Lesson.parse(Self.sample, path: "s.md")
        #expect(lesson.title == "Sample")
        #expect(lesson.cells.count == 2)
        #expect(lesson.cells[0].codeLine == 6 && lesson.cells[0].expectedLine == 11)
        #expect(lesson.cells[1].expected == ["~ shape [6, 15]", "loss {{approx 4.2 ±0.1}}", "~ approx 0.667 ±0.001"])
        let run = LessonRun.run(lesson, in: Session())
        #expect(run.failures.isEmpty, "\(run.failures)")
    }

    @Test func reportsTheFirstDifferenceWithFileAndLine() throws {
        let bad = Self.sample.replacingOccurrences(of: "~ approx 0.667 ±0.001", with: "~ approx 0.5 ±0.001")
            .replacingOccurrences(of: "```output\n6", with: "```output\n7")
        let run = LessonRun.run(try Lesson.parse(bad, path: "s.md"), in: Session())
        #expect(run.failures.count == 2)
        #expect(run.failures[0].hasPrefix("s.md:11: expected '7', got '6'\n  - 7\n  + 6"))
        #expect(run.failures[1].hasPrefix("s.md:27: expected 0.5 ±0.001, got 0.6666666666666666 (line '0.6666666666666666')"))
    }

    @Test func anErrorInACellWithoutOutputBlockFails() throws {
        let run = LessonRun.run(try Lesson.parse("# T\n\n```lmlab\nx = 1\nnope\n```\n", path: "t.md"), in: Session())
        #expect(run.failures == ["t.md:5: unexpected error: unknown name 'nope'"])
    }

    @Test func unclosedFenceIsAnError() {
        #expect(throws: LabError("t.md:3: code fence is never closed")) {
            try Lesson.parse("# T\n\n```lmlab\nx = 1\n", path: "t.md")
        }
    }

    @Test func transcriptHasOutputsAndPlotFiles() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("lab-transcript-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let lesson = try Lesson.parse("# T\n\nProse.\n\n```lmlab\n1 + 1\nplot([1, 3, 2])\n```\n", path: "t.md")
        let run = LessonRun.run(lesson, in: Session())
        let out = dir.appendingPathComponent("notes.md").path
        let text = try run.transcript(writingPicturesNextTo: out)
        #expect(text.hasPrefix("# T\n\nProse.\n\n```lmlab\n1 + 1\nplot([1, 3, 2])\n```\n\n```output\n2\n"))
        #expect(text.contains("```\n![Plot 1](notes-1.svg)\n"))
        #expect(try String(contentsOfFile: dir.appendingPathComponent("notes-1.svg").path, encoding: .utf8).contains("<polyline"))
    }
}

@Suite struct OutputCheckTests {
    @Test(arguments: [
        ("~ shape [6, 15]", "Tensor [6, 15] float32  min 0", true),
        ("~ shape [6, 15]", "(6, 15)", true),
        ("~ shape [6, 14]", "Tensor [6, 15] float32  min 0", false),
        ("~ shape [4]", "(4,)", true),
        ("~ approx 3.14 ±0.01", "3.1415", true),
        ("~ approx 3.14 +-0.001", "3.1415", false),
        ("~ range 0.5 ... 2.0", "1.25", true),
        ("~ range 0.5 ... 2.0", "2.5", false),
        ("~ contains perplexity", "epoch 0 perplexity 52.1", true),
        ("~ error", "error: unknown name 'x'", true),
        ("~ error", "3", false),
        ("loss {{float}} acc {{float}}", "loss 4.5e-1 acc 0.25", true),
        ("loss {{float}}", "loss nan", false),
        ("loss {{float}}", "loss -inf", false),
        ("loss {{float}}", "loss inf", false),
        ("loss {{float}} ok", "loss nanx ok", false),
        ("loss {{float}}", "loss high", false),
        ("n = {{int}}", "n = 42", true),
        ("took {{any}}", "took 3 minutes", true),
        ("({{approx 0 ±0.2}}, {{approx 1 ±0.2}})", "(-0.01, 0.97)", true),
        ("({{approx 0 ±0.2}}, {{approx 1 ±0.2}})", "(-0.01, 1.3)", false),
        ("lr {{range 1e-4 ... 1e-2}}", "lr 0.001", true),
        ("literal (a+b) [x]", "literal (a+b) [x]", true),
        ("~ bogus", "x", false),
    ])
    func assertions(_ expected: String, _ actual: String, _ ok: Bool) {
        #expect((OutputCheck.compare(expected: [expected], actual: [actual]) == nil) == ok)
    }

    @Test func skipsLinesAndRest() {
        #expect(OutputCheck.compare(expected: ["a", "~ lines 2", "d"], actual: ["a", "b", "c", "d"]) == nil)
        #expect(OutputCheck.compare(expected: ["a", "~ rest"], actual: ["a", "b", "c"]) == nil)
        #expect(OutputCheck.compare(expected: ["a"], actual: ["a", "b"])?.message == "unexpected extra output 'b'")
        #expect(OutputCheck.compare(expected: ["a", "b"], actual: ["a"])?.message == "expected 'b', output ended")
        #expect(OutputCheck.compare(expected: ["a", "b"], actual: ["a", "c"])?.expectedIndex == 1)
    }
}
