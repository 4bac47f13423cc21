import Foundation
import Lab
import LabBindings
import Tensor

/// The interactive loop: `lmlab> ` for a new statement, `...> ` while brackets or a string
/// are still open. Errors print one line and the session goes on; Ctrl-D exits.
struct REPL {
    let session: Session

    func loop() {
        let editor = LineEditor(session: session)
        print("LMLab \(LabInfo.version) — type help for the builtins, Ctrl-D to leave.")
        while let source = readStatement(editor, prompt: "lmlab> ") {
            run(source)
        }
        print("")
    }

    /// Reads lines until the statement is complete; nil at end of input.
    func readStatement(_ editor: LineEditor, prompt: String) -> String? {
        var pending = ""
        while true {
            switch editor.read(prompt: pending.isEmpty ? prompt : "...> ") {
            case .endOfInput:
                if pending.isEmpty { return nil }
                return pending
            case .interrupted:
                print("^C")
                pending = ""
            case .line(let line):
                editor.remember(line)
                pending += pending.isEmpty ? line : "\n" + line
                if !Session.needsMoreInput(pending) { return pending }
            }
        }
    }

    func run(_ source: String) {
        Cancellation.shared.reset()
        let previous = session.onOutput
        defer { session.onOutput = previous }
        session.onOutput = { o in
            switch o {
            case .error(let e): FileHandle.standardError.write(("error: \(e.message)\n").data(using: .utf8)!)
            default: print(o.rendered)
            }
            fflush(nil)
        }
        session.run(source)
    }
}
