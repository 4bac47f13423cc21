import Foundation
import Testing

/// Drives the real REPL in a pseudo-terminal (tmux), as a person would: line editing,
/// continuation prompts, history, tab completion, Ctrl-C and Ctrl-D.
@Suite(.serialized) struct TerminalTests {
    static let tmux = ["/usr/bin/tmux", "/usr/local/bin/tmux", "/bin/tmux"].first { FileManager.default.isExecutableFile(atPath: $0) }

    /// One REPL in its own tmux server (own socket, so no user session is touched).
    final class Terminal {
        let socket: String
        let dir: URL
        var history: String { dir.appendingPathComponent("history").path }

        init() throws {
            dir = FileManager.default.temporaryDirectory.appendingPathComponent("lab-tty-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            try "notes\n".write(to: dir.appendingPathComponent("lesson-notes.md"), atomically: true, encoding: .utf8)
            socket = dir.appendingPathComponent("tmux.sock").path
        }

        /// Runs a tmux command through posix_spawn + waitpid (Foundation's Process waits on
        /// descriptors the forked tmux server inherits, and never returns). Output, when
        /// wanted, goes through a file for the same reason.
        @discardableResult
        func tmux(_ args: [String], capture: Bool = false) throws -> String {
            let outFile = dir.appendingPathComponent("capture.txt").path
            func quote(_ s: String) -> String { "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'" }
            let command = ([TerminalTests.tmux!, "-S", socket] + args).map(quote).joined(separator: " ")
                + " </dev/null >\(capture ? quote(outFile) : "/dev/null") 2>/dev/null"
            var pid: pid_t = 0
            let argv: [UnsafeMutablePointer<CChar>?] = ["/bin/sh", "-c", command].map { (s: String) in strdup(s) } + [nil]
            defer { argv.forEach { free($0) } }
            guard posix_spawn(&pid, "/bin/sh", nil, nil, argv, environ) == 0 else { throw SpawnFailed() }
            var status: Int32 = 0
            waitpid(pid, &status, 0)
            return capture ? ((try? String(contentsOfFile: outFile, encoding: .utf8)) ?? "") : ""
        }

        struct SpawnFailed: Error {}

        func start(_ binary: String) throws {
            let command = "env HOME='\(dir.path)' LMLAB_HISTORY='\(history)' TERM=xterm '\(binary)'"
            try tmux(["new-session", "-d", "-x", "120", "-y", "50", "-s", "lab", command])
        }

        func keys(_ keys: String...) throws { try tmux(["send-keys", "-t", "lab"] + keys) }
        func type(_ text: String) throws { try tmux(["send-keys", "-t", "lab", "-l", text]) }
        var screen: String { (try? tmux(["capture-pane", "-p", "-t", "lab", "-S", "-200"], capture: true)) ?? "" }

        /// Waits (up to ~10 s) until the screen satisfies `ok`; returns the last screen seen.
        @discardableResult
        func waitFor(_ ok: (String) -> Bool) -> String {
            var s = screen
            var tries = 0
            while !ok(s) && tries < 200 {
                usleep(50_000)
                s = screen
                tries += 1
            }
            return s
        }

        func count(_ needle: String, in s: String) -> Int { s.components(separatedBy: needle).count - 1 }

        /// Prompts shown so far (`lmlab>` and `...>`).
        var prompts: Int { promptCount(screen) }
        func promptCount(_ s: String) -> Int { count("lmlab>", in: s) + count("...>", in: s) }

        /// Presses keys that finish a line, then waits for the next prompt: libedit discards
        /// input typed ahead before it is back at the prompt, and a person waits for it too.
        func submit(_ keys: String...) throws {
            let before = prompts
            try tmux(["send-keys", "-t", "lab"] + keys)
            let t0 = Date()
            waitFor { self.promptCount($0) > before }
            if ProcessInfo.processInfo.environment["LAB_TTY_TRACE"] != nil { print("submit \(keys) \(Date().timeIntervalSince(t0))") }
        }

        func stop() {
            _ = try? tmux(["kill-server"])
            try? FileManager.default.removeItem(at: dir)
        }
    }

    @Test(.enabled(if: tmux != nil, "tmux is not installed (Scripts/setup-system can install it)"))
    func editingHistoryCompletionAndInterrupts() throws {
        let binary = try #require(LMLabBinary.path, "lmlab executable not built")
        let t = try Terminal()
        defer { t.stop() }
        try t.start(binary)
        #expect(t.waitFor { $0.contains("type help for the builtins") }.contains("type help for the builtins"))

        // Continuation prompt while a bracket is open.
        try t.type("dls = [1, 2,"); try t.submit("Enter")
        #expect(t.waitFor { $0.contains("lmlab> dls = [1, 2,\n...>") }.contains("lmlab> dls = [1, 2,\n...>"))
        try t.type("3]"); try t.submit("Enter")

        // Completion of a variable, then of an attribute after '.'.
        try t.type("len(dl"); try t.keys("Tab")
        #expect(t.waitFor { $0.contains("len(dls") }.contains("len(dls"))
        try t.type(")"); try t.submit("Enter")
        #expect(t.waitFor { $0.contains("lmlab> len(dls)\n3\n") }.contains("lmlab> len(dls)\n3\n"))
        try t.type("z = zeros(2, 3)"); try t.submit("Enter")
        try t.type("z.sha"); try t.keys("Tab")
        #expect(t.waitFor { $0.contains("z.shape") }.contains("z.shape"))
        try t.submit("Enter")
        #expect(t.waitFor { $0.contains("lmlab> z.shape\n(2, 3)") }.contains("lmlab> z.shape\n(2, 3)"))

        // Editing: backspace, and moving left to insert.
        try t.type("40 + 3"); try t.keys("BSpace"); try t.type("2"); try t.submit("Enter")
        #expect(t.waitFor { $0.contains("lmlab> 40 + 2\n42\n") }.contains("lmlab> 40 + 2\n42\n"))
        try t.type("print('helo')"); try t.keys("Left", "Left", "Left"); try t.type("l"); try t.submit("Enter")
        #expect(t.waitFor { $0.contains("\nhello\n") }.contains("\nhello\n"))

        // History: Up recalls the previous line.
        try t.keys("Up"); try t.submit("Enter")
        #expect(t.waitFor { t.count("\nhello\n", in: $0) >= 2 } .components(separatedBy: "\nhello\n").count - 1 == 2)

        // File names complete inside strings.
        try t.type("'\(t.dir.path)/less"); try t.keys("Tab")
        #expect(t.waitFor { $0.contains("/lesson-notes.md") }.contains("/lesson-notes.md"))
        try t.type("'"); try t.submit("Enter")
        #expect(t.waitFor { $0.contains("lesson-notes.md'\n'") }.contains("lesson-notes.md'\n'"))

        // Ctrl-C drops the line being typed.
        try t.type("unfinished_name"); try t.submit("C-c")
        try t.type("1 + 1"); try t.submit("Enter")
        let afterCancel = t.waitFor { $0.contains("lmlab> 1 + 1\n2\n") }
        #expect(afterCancel.contains("lmlab> 1 + 1\n2\n"))
        #expect(!afterCancel.contains("unknown name 'unfinished_name'"))

        // Ctrl-C stops a running job; the session goes on.
        try t.type("sleep(60)"); try t.keys("Enter")
        usleep(300_000)
        try t.submit("C-c")
        #expect(t.waitFor { $0.contains("error: interrupted") }.contains("error: interrupted"))
        try t.type("6 * 7"); try t.submit("Enter")
        #expect(t.waitFor { t.count("\n42\n", in: $0) >= 2 }.contains("lmlab> 6 * 7\n42\n"))

        // An error is one line and leaves the session usable.
        try t.type("dsl"); try t.submit("Enter")
        #expect(t.waitFor { $0.contains("error: unknown name 'dsl' (did you mean 'dls'?)\nlmlab>") }.contains("error: unknown name 'dsl' (did you mean 'dls'?)\nlmlab>"))

        // Ctrl-D leaves; history was saved.
        try t.keys("C-d")
        _ = t.waitFor { _ in (try? String(contentsOfFile: t.history, encoding: .utf8))?.contains("z.shape") ?? false }
        let saved = try String(contentsOfFile: t.history, encoding: .utf8)
        #expect(saved.contains("z.shape") && saved.contains("6\\040*\\0407"))
    }
}
