import Foundation
import Lab
import LabBindings

/// Non-interactive runs: `-c`, script files, lessons as scripts, and statements on stdin.
/// Each stops at the first error, which goes to stderr as one line `ORIGIN:LINE:COL: message`.
enum Runner {
    /// Prints outputs (not errors) as they come.
    static func printOutputs(of session: Session) {
        session.onOutput = { o in
            if case .error = o { return }
            print(o.rendered)
            fflush(nil)
        }
    }

    static func report(_ line: String) {
        FileHandle.standardError.write((line + "\n").data(using: .utf8)!)
    }

    /// Runs `source`; false (after reporting) on error. `lineOffset` maps lines to the file.
    static func runSource(_ source: String, origin: String, lineOffset: Int = 0, in session: Session) -> Bool {
        printOutputs(of: session)
        let result = session.run(source)
        if let e = result.error {
            report(e.formatted(origin: origin, lineOffset: lineOffset))
            return false
        }
        return true
    }

    static func runFile(_ path: String, in session: Session) -> Bool {
        if path.hasSuffix(".md") {
            do {
                let lesson = try Lesson.load(path)
                for cell in lesson.cells {
                    // A lesson may show a mistake on purpose: an error its expected block
                    // anticipates is printed like any output and the lesson goes on.
                    let expectsError = cell.expected?.contains { $0.hasPrefix("error: ") || $0 == "~ error" } ?? false
                    if expectsError {
                        printOutputs(of: session)
                        if let e = session.run(cell.code).error { print("error: \(e.message)") }
                        continue
                    }
                    if !runSource(cell.code, origin: path, lineOffset: cell.codeLine - 1, in: session) { return false }
                }
                return true
            } catch {
                report(String(describing: error))
                return false
            }
        }
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            report("lmlab: cannot read \(path)")
            return false
        }
        return runSource(text, origin: path, in: session)
    }

    /// Reads statements from stdin, running each complete statement (brackets closed) as it arrives.
    static func runStream(origin: String, in session: Session) -> Bool {
        var pending = ""
        var startLine = 1
        var lineNumber = 0
        while let line = readLine(strippingNewline: true) {
            lineNumber += 1
            if pending.isEmpty { startLine = lineNumber }
            pending += pending.isEmpty ? line : "\n" + line
            if Session.needsMoreInput(pending) { continue }
            defer { pending = "" }
            if !runSource(pending, origin: origin, lineOffset: startLine - 1, in: session) { return false }
        }
        if !pending.isEmpty { return runSource(pending, origin: origin, lineOffset: startLine - 1, in: session) }
        return true
    }
}
