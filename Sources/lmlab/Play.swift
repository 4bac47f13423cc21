import ArgumentParser
import Files
import Foundation
import Lab
import LabBindings
import Tensor

/// `lmlab play`: replays a lesson, checks it, or writes a transcript of it.
struct Play: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Play lessons (.md), in order: show each command and its output.",
        discussion: """
        --check compares every cell's output with its expected block and exits 1 on any \
        difference (printed as FILE:LINE with a diff). --step pauses after each cell: press \
        Enter to go on, or type commands first. --transcript writes a Markdown notebook of \
        the session, with plots as SVG files next to it.
        """)

    @Flag(help: "Pause after each step (Enter continues; other input runs as commands).")
    var step = false

    @Flag(help: "Compare outputs with the expected blocks; exit 1 on any difference.")
    var check = false

    @Option(help: ArgumentHelp("Write a Markdown transcript of the session to this file.", valueName: "out.md"))
    var transcript: String?

    @Option(help: ArgumentHelp("Folder the lessons write their files into (models/, plots); default: a new temporary folder, removed when play ends.",
                               valueName: "dir"))
    var files: String?

    @Argument(help: ArgumentHelp("The lessons to play, in order (each in a fresh session).", valueName: "lesson.md"))
    var lessonFiles: [String]

    mutating func validate() throws {
        guard !lessonFiles.isEmpty else { throw ValidationError("give at least one lesson file") }
    }

    mutating func run() throws {
        // With --step the line editor owns Ctrl-C (it interrupts the command typed at the pause).
        TerminationSignal.install(interrupt: !step)
        var lessons: [Lesson] = []
        for file in lessonFiles {
            do { lessons.append(try Lesson.load(file)) } catch {
                Runner.report(String(describing: error))
                throw ExitCode(1)
            }
        }
        // Lessons save models and plots: into a scratch folder, never the current directory.
        let folder: URL
        do { folder = try scratchFolder() } catch {
            Runner.report("lmlab: cannot create the folder for the lessons' files: \(error)")
            throw ExitCode(1)
        }
        defer { if files == nil { try? FileManager.default.removeItem(at: folder) } }
        var transcripts: [String] = []
        var failed = 0
        for (k, lesson) in lessons.enumerated() {
            guard let run = play(lesson, in: folder) else { return }
            if let transcript {
                // With several lessons, pictures of lesson k are named OUT-k-N.svg.
                let picturesPath = lessons.count == 1 ? transcript
                    : (transcript as NSString).deletingPathExtension + "-\(k + 1).md"
                do { transcripts.append(try run.transcript(writingPicturesNextTo: picturesPath)) } catch {
                    Runner.report("lmlab: cannot write transcript \(transcript): \(FileErrors.describe(error))")
                    throw ExitCode(1)
                }
            }
            if run.interruption != nil { break }
            if check {
                let failures = run.failures
                for f in failures { Runner.report(f) }
                print("\(lesson.path): \(run.results.count) cells, \(failures.isEmpty ? "all outputs match" : "\(failures.count) differ")")
                if !failures.isEmpty { failed += 1 }
            }
        }
        if let transcript {
            do { try transcripts.joined(separator: "\n").write(toFile: transcript, atomically: true, encoding: .utf8) } catch {
                Runner.report("lmlab: cannot write transcript \(transcript): \(FileErrors.describe(error))")
                throw ExitCode(1)
            }
        }
        if let signal = Cancellation.shared.terminationSignal {
            fflush(nil)
            Runner.report("lmlab play: \(Interruption(signal: signal))" + (transcript.map { "; transcript so far in \($0)" } ?? ""))
            throw ExitCode(128 + signal)
        }
        if check && lessons.count > 1 {
            print("\(lessons.count) lessons, \(failed == 0 ? "all outputs match" : "\(failed) with differences")")
        }
        if failed > 0 { throw ExitCode(1) }
    }

    /// Plays one lesson in a fresh session; nil when the user ended input during --step.
    private func play(_ lesson: Lesson, in folder: URL) -> LessonRun? {
        let session = Session()
        session.directory = folder.path
        var run = LessonRun(lesson: lesson)
        let show = !check
        let editor = step ? LineEditor(session: session) : nil
        for block in lesson.blocks {
            switch block {
            case .prose(let text):
                if show { print(text) }
            case .cell(let cell):
                let r = run.runCell(cell, in: session)
                if show {
                    for step in r.steps {
                        for (i, line) in step.code.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                            print((i == 0 ? "lmlab> " : "...> ") + line)
                        }
                        for line in step.lines { print(line) }
                    }
                }
                fflush(nil)
                if let signal = Cancellation.shared.terminationSignal {
                    run.interruption = Interruption(signal: signal).description
                    return run
                }
                if let editor, !pause(editor, session) { return nil }
            }
        }
        return run
    }

    /// `--files DIR` (created if missing), else a new folder under the temporary directory.
    private func scratchFolder() throws -> URL {
        let url = files.map { URL(fileURLWithPath: $0, isDirectory: true) }
            ?? FileManager.default.temporaryDirectory.appendingPathComponent("lmlab-play-\(getpid())-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// Waits for Enter; other lines run in the session. False when the user ends input (Ctrl-D).
    private func pause(_ editor: LineEditor, _ session: Session) -> Bool {
        let repl = REPL(session: session)
        while true {
            guard let source = repl.readStatement(editor, prompt: "[Enter: next step] lmlab> ") else { return false }
            if source.trimmingCharacters(in: .whitespaces).isEmpty { return true }
            repl.run(source)
        }
    }
}
