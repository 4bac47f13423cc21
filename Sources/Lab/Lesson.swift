import Foundation
import Files
import Tensor

/// A lesson: a Markdown file whose ```` ```lmlab ```` code cells are each followed by an
/// ```` ```output ```` block with the expected output (see Lessons/LANGUAGE.md).
public struct Lesson {
    /// A code cell and what it should print.
    public struct Cell {
        /// The statements, as written.
        public var code: String
        /// File line of the cell's first statement line (1-based).
        public var codeLine: Int
        /// Expected output lines, nil when the cell has no output block.
        public var expected: [String]?
        /// File line of the first expected line.
        public var expectedLine: Int
    }

    public enum Block {
        /// Markdown between cells, kept verbatim (for transcripts and `play`).
        case prose(String)
        case cell(Cell)
    }

    /// The file the lesson came from (used in error locations).
    public var path: String
    /// The first `# ` heading.
    public var title: String
    public var blocks: [Block]

    public var cells: [Cell] { blocks.compactMap { if case .cell(let c) = $0 { c } else { nil } } }

    /// Reads and parses a lesson file.
    public static func load(_ path: String) throws -> Lesson {
        let data: Data
        do { data = try FileErrors.contents(of: URL(fileURLWithPath: path), shown: "lesson \(path)") } catch {
            throw LabError("\(error)")
        }
        guard let text = String(validating: data, as: UTF8.self) else { throw LabError("cannot read lesson \(path): not UTF-8 text") }
        return try parse(text, path: path)
    }

    /// Parses lesson Markdown. Unclosed fences are errors naming the line.
    public static func parse(_ text: String, path: String) throws -> Lesson {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        var blocks: [Block] = []
        var prose: [String] = []
        var title = ""
        var i = 0
        func fence(_ from: Int) throws -> (body: [String], end: Int) {
            var j = from + 1
            var body: [String] = []
            while j < lines.count, lines[j].trimmingCharacters(in: .whitespaces) != "```" { body.append(lines[j]); j += 1 }
            guard j < lines.count else { throw LabError("\(path):\(from + 1): code fence is never closed") }
            return (body, j)
        }
        func flushProse() {
            if !prose.isEmpty { blocks.append(.prose(prose.joined(separator: "\n"))); prose = [] }
        }
        while i < lines.count {
            let line = lines[i]
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if title.isEmpty, line.hasPrefix("# ") { title = String(line.dropFirst(2)) }
            if trimmed == "```lmlab" {
                let (code, end) = try fence(i)
                var cell = Cell(code: code.joined(separator: "\n"), codeLine: i + 2, expected: nil, expectedLine: 0)
                var k = end + 1
                while k < lines.count, lines[k].trimmingCharacters(in: .whitespaces).isEmpty { k += 1 }
                if k < lines.count, lines[k].trimmingCharacters(in: .whitespaces) == "```output" {
                    let (out, oend) = try fence(k)
                    cell.expected = out
                    cell.expectedLine = k + 2
                    i = oend + 1
                } else {
                    i = end + 1
                }
                flushProse()
                blocks.append(.cell(cell))
                continue
            }
            if trimmed == "```output" {
                throw LabError("\(path):\(i + 1): output block without a code cell before it")
            }
            if trimmed.hasPrefix("```") {
                // Other fenced blocks (shell, plain text) are prose; keep them whole.
                let (body, end) = try fence(i)
                prose.append(line)
                prose.append(contentsOf: body)
                prose.append(lines[end])
                i = end + 1
                continue
            }
            prose.append(line)
            i += 1
        }
        flushProse()
        return Lesson(path: path, title: title, blocks: blocks)
    }
}

/// Runs a lesson's cells in one session and compares outputs with the expected blocks.
public struct LessonRun {
    public struct CellResult {
        public var cell: Lesson.Cell
        /// The cell's statements as typed (continuation lines joined) with the lines each printed.
        public var steps: [(code: String, lines: [String])]
        public var result: RunResult
        /// What the cell printed, split into lines.
        public var lines: [String]
        /// The first difference from the expected block, nil when it matches or has none.
        public var mismatch: OutputCheck.Mismatch?
    }

    public var lesson: Lesson
    public var results: [CellResult] = []
    /// Why the run stopped before the last cell (`stopped on SIGTERM`), or nil.
    public var interruption: String?

    /// Every difference as one line `FILE:LINE: …`, followed by a small diff of the cell.
    public var failures: [String] {
        results.compactMap { r in
            guard let m = r.mismatch else { return nil }
            let head = "\(lesson.path):\(r.cell.expectedLine + m.expectedIndex): \(m.message)"
            return m.diff.isEmpty ? head : head + "\n" + m.diff
        }
    }

    public init(lesson: Lesson) { self.lesson = lesson }

    /// Runs one cell and records its result. A cell without an output block fails on error.
    @discardableResult
    public mutating func runCell(_ cell: Lesson.Cell, in session: Session) -> CellResult {
        // Run line by line (a statement spanning lines runs once complete), as if typed at the
        // prompt, so `play` can show each statement with its own output.
        var outputs: [Output] = []
        var steps: [(code: String, lines: [String])] = []
        var pending = "", firstLine = 0
        let codeLines = cell.code.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        for (i, line) in codeLines.enumerated() {
            if pending.isEmpty { firstLine = i }
            pending += pending.isEmpty ? line : "\n" + line
            if Session.needsMoreInput(pending) && i < codeLines.count - 1 { continue }
            var r = session.run(pending)
            for k in r.outputs.indices {
                if case .error(var e) = r.outputs[k], let l = e.location {
                    e.location = SourceLocation(line: l.line + firstLine, column: l.column)
                    r.outputs[k] = .error(e)
                }
            }
            outputs += r.outputs
            steps.append((pending, r.text.isEmpty && r.outputs.isEmpty ? [] : Self.lines(r.outputs)))
            pending = ""
            if r.error != nil { break }
        }
        let result = RunResult(outputs: outputs)
        let lines = Self.lines(outputs)
        var mismatch = cell.expected.flatMap { OutputCheck.compare(expected: $0, actual: lines) }
        if cell.expected == nil, let e = result.error {
            let line = cell.codeLine + (e.location?.line ?? 1) - 1
            mismatch = OutputCheck.Mismatch(expectedIndex: line - cell.expectedLine,
                                            message: "unexpected error: \(e.message)", diff: "")
        }
        let r = CellResult(cell: cell, steps: steps, result: result, lines: lines, mismatch: mismatch)
        results.append(r)
        return r
    }

    static func lines(_ outputs: [Output]) -> [String] {
        outputs.flatMap { $0.rendered.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) }
    }

    /// Runs every cell in `session` (calling `onCell` after each, e.g. to print or pause).
    public static func run(_ lesson: Lesson, in session: Session,
                           onCell: (CellResult) -> Void = { _ in }) -> LessonRun {
        var run = LessonRun(lesson: lesson)
        for cell in lesson.cells { onCell(run.runCell(cell, in: session)) }
        return run
    }

    /// A Markdown notebook of the run: the lesson's prose and code with the actual outputs.
    /// Pictures (plots) are written as SVG files next to `path` and linked.
    public func transcript(writingPicturesNextTo path: String) throws -> String {
        let url = URL(fileURLWithPath: path)
        let base = url.deletingPathExtension().lastPathComponent
        let dir = url.deletingLastPathComponent()
        var out: [String] = []
        var cellIndex = 0
        var pictures = 0
        for block in lesson.blocks {
            switch block {
            case .prose(let text): out.append(text)
            case .cell(let cell):
                guard cellIndex < results.count else {
                    // An interrupted run ends its transcript where it stopped, and says so.
                    out.append("**Interrupted here (\(interruption ?? "not run")); the cells below did not run.**")
                    return out.joined(separator: "\n") + "\n"
                }
                let r = results[cellIndex]
                cellIndex += 1
                out.append("```lmlab\n\(cell.code)\n```")
                if !r.lines.isEmpty { out.append("\n```output\n\(r.lines.joined(separator: "\n"))\n```") }
                for o in r.result.outputs {
                    guard case .value(.object(let obj)) = o, let svg = obj.svg else { continue }
                    pictures += 1
                    let name = "\(base)-\(pictures).svg"
                    do { try svg.write(to: dir.appendingPathComponent(name), atomically: true, encoding: .utf8) } catch {
                        throw LabError("cannot write \(dir.appendingPathComponent(name).path): \(FileErrors.reason(error))")
                    }
                    out.append("![\(obj.typeName) \(pictures)](\(name))")
                }
            }
        }
        return out.joined(separator: "\n") + "\n"
    }
}
