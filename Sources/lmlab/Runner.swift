import Foundation
import Files
import Lab
import LabBindings
import Tensor

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
                report(FileErrors.describe(error))
                return false
            }
        }
        let text: String
        do {
            let data = try FileErrors.contents(of: URL(fileURLWithPath: path), shown: path)
            guard let t = String(validating: data, as: UTF8.self) else {
                report("lmlab: cannot read \(path): not UTF-8 text")
                return false
            }
            text = t
        } catch {
            report("lmlab: \(error)")
            return false
        }
        return runSource(text, origin: path, in: session)
    }

    /// One line of stdin without its newline: `.some(nil)` when it is not UTF-8, nil at the end.
    /// (`readLine` would turn bad bytes into U+FFFD, which a file is never allowed.)
    private static func readLineText(_ input: UnsafeMutablePointer<FILE>) -> String?? {
        var buffer: UnsafeMutablePointer<CChar>?
        var capacity = 0
        defer { free(buffer) }
        var n = getline(&buffer, &capacity, input)
        guard n >= 0, let buffer else { return nil }
        if n > 0, buffer[n - 1] == 10 { n -= 1 }
        if n > 0, buffer[n - 1] == 13 { n -= 1 }
        return .some(String(validating: UnsafeRawBufferPointer(start: buffer, count: n), as: UTF8.self))
    }

    /// Reads statements from stdin, running each complete statement (brackets closed) as it arrives.
    static func runStream(origin: String, in session: Session) -> Bool {
        var pending = ""
        var startLine = 1
        var lineNumber = 0
        guard let input = fdopen(dup(STDIN_FILENO), "rb") else { report("\(origin): cannot read standard input"); return false }
        defer { fclose(input) }
        while let decoded = readLineText(input) {
            lineNumber += 1
            // The same rule as for a file: bytes that are not UTF-8 are an error, never U+FFFD.
            guard let line = decoded else {
                report("\(origin):\(lineNumber): not UTF-8 text")
                return false
            }
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
