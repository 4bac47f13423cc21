@preconcurrency import CEditLine
import Foundation
import Lab
import Tensor

/// The line editor on libedit: editing, history in ~/.lmlab_history, tab completion,
/// and Ctrl-C (which cancels the line being typed, or asks a running job to stop).
final class LineEditor {
    enum Input { case line(String), interrupted, endOfInput }

    /// Where history is kept: `$LMLAB_HISTORY`, else `~/.lmlab_history`.
    let historyPath: String

    init(session: Session) {
        let env = ProcessInfo.processInfo.environment
        historyPath = env["LMLAB_HISTORY"] ?? (env["HOME"] ?? NSHomeDirectory()) + "/.lmlab_history"
        completionSession = session
        _ = Cancellation.shared.requested   // initialise before the signal handler can touch it
        rl_readline_name = UnsafePointer(strdup("lmlab"))
        rl_initialize()
        using_history()
        stifle_history(2000)
        _ = read_history(historyPath)
        rl_basic_word_break_characters = UnsafePointer(strdup(Completion.wordBreaks))
        rl_attempted_completion_function = { text, start, end in
            rl_attempted_completion_over = 1   // never fall back to libedit's file-name completion
            let line = rl_line_buffer.map { String(cString: $0) } ?? ""
            let upToCursor = String(line.utf8.prefix(Int(end))) ?? line
            completionMatches = completionSession.map { Completion.candidates(for: upToCursor, in: $0) } ?? []
            guard !completionMatches.isEmpty else { return nil }
            rl_completion_append_character = 0
            return rl_completion_matches(text) { _, state in
                let i = Int(state)
                guard i < completionMatches.count else { return nil }
                return strdup(completionMatches[i])
            }
        }
        installInterruptHandler()
    }

    /// Reads one line. Ctrl-C gives `.interrupted`, Ctrl-D on an empty line `.endOfInput`.
    func read(prompt: String) -> Input {
        Cancellation.shared.reset()
        guard let raw = readline(prompt) else {
            if Cancellation.shared.consume() { return .interrupted }
            return .endOfInput
        }
        defer { free(raw) }
        if Cancellation.shared.consume() { return .interrupted }
        return .line(String(cString: raw))
    }

    func remember(_ entry: String) {
        guard !entry.trimmingCharacters(in: .whitespaces).isEmpty else { return }
        add_history(entry)
        _ = write_history(historyPath)
    }

    /// SIGINT sets the cancellation flag. No SA_RESTART: the blocking read is interrupted,
    /// so readline returns and the line being typed is dropped.
    private func installInterruptHandler() {
        var action = sigaction()
        action.__sigaction_handler.sa_handler = { _ in Cancellation.shared.request() }
        sigemptyset(&action.sa_mask)
        action.sa_flags = 0
        sigaction(SIGINT, &action, nil)
    }
}

// C callbacks cannot capture context, so completion state lives in globals (the REPL is single-threaded).
nonisolated(unsafe) private var completionSession: Session?
nonisolated(unsafe) private var completionMatches: [String] = []
