import Foundation
import Lab

/// The shell requests: execute, complete, inspect, is_complete, history, kernel_info, shutdown.
extension JupyterKernel {
    func handleShell(_ msg: WireMessage) -> Next {
        iopub.status("busy", parent: msg)
        defer { iopub.status("idle", parent: msg) }
        switch msg.type {
        case "execute_request": execute(msg)
        case "kernel_info_request": reply(shell, to: msg, "kernel_info_reply", kernelInfo)
        case "is_complete_request":
            let code = msg.content["code"] as? String ?? ""
            let state = Session.completeness(of: code)
            var content: [String: Any] = ["status": state.rawValue]
            if state == .incomplete { content["indent"] = "" }
            reply(shell, to: msg, "is_complete_reply", content)
        case "complete_request": reply(shell, to: msg, "complete_reply", complete(msg.content))
        case "inspect_request": reply(shell, to: msg, "inspect_reply", inspect(msg.content))
        case "history_request": reply(shell, to: msg, "history_reply", ["status": "ok", "history": [Any]()])
        case "comm_info_request": reply(shell, to: msg, "comm_info_reply", ["status": "ok", "comms": [String: Any]()])
        case "shutdown_request":
            let restart = msg.content["restart"] as? Bool ?? false
            reply(shell, to: msg, "shutdown_reply", ["status": "ok", "restart": restart])
            return .stop
        default:
            report("shell: unknown message type '\(msg.type)' ignored")
        }
        return .goOn
    }

    var kernelInfo: [String: Any] {
        var links: [[String: String]] = []
        if let lessons = KernelSpec.lessonsFolder {
            links.append(["text": "LMLab lessons", "url": lessons.absoluteString])
            links.append(["text": "The LMLab language", "url": lessons.appendingPathComponent("LANGUAGE.md").absoluteString])
        }
        return [
            "status": "ok", "protocol_version": WireMessage.protocolVersion,
            "implementation": "lmlab", "implementation_version": LabInfo.version,
            "language_info": [
                "name": "lmlab", "version": LabInfo.version, "mimetype": "text/x-lmlab",
                "file_extension": ".lmlab", "pygments_lexer": "python", "codemirror_mode": "python",
            ],
            "banner": "LMLab \(LabInfo.version): fastai's NLP chapter in a small Python-shaped language (help lists the builtins)",
            "help_links": links,
        ]
    }

    // MARK: execute

    func execute(_ msg: WireMessage) {
        let code = msg.content["code"] as? String ?? ""
        let silent = msg.content["silent"] as? Bool ?? false
        let store = (msg.content["store_history"] as? Bool ?? true) && !silent
        if store { executionCount += 1 }
        let count = executionCount
        if !silent { iopub.publish("execute_input", ["code": code, "execution_count": count], parent: msg) }
        interrupt.reset()
        current = CellDisplays(parent: msg, count: count, silent: silent)
        let error = runCell(code)
        current = nil
        interrupt.reset()
        guard let error else {
            reply(shell, to: msg, "execute_reply",
                  ["status": "ok", "execution_count": count, "user_expressions": [String: Any](), "payload": [Any]()])
            return
        }
        let place = error.location.map { "\($0.line):\($0.column): " } ?? ""
        let traceback = ["cell [\(count)]:\(place)\(error.message)"]
        let content: [String: Any] = ["ename": "Error", "evalue": error.message, "traceback": traceback]
        if !silent { iopub.publish("error", content, parent: msg) }
        reply(shell, to: msg, "execute_reply", content.merging(["status": "error", "execution_count": count]) { a, _ in a })
    }

    /// Runs a cell statement by statement, as the REPL would take it typed line by line (a
    /// statement over several lines runs once complete), stopping at the first error or an
    /// interrupt. The error's location is the cell's line and column.
    func runCell(_ code: String) -> LabError? {
        let lines = code.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        var pending = "", firstLine = 0
        for (i, line) in lines.enumerated() {
            if pending.isEmpty { firstLine = i }
            pending += pending.isEmpty ? line : "\n" + line
            if Session.needsMoreInput(pending) && i < lines.count - 1 { continue }
            let result = session.run(pending)
            pending = ""
            if var e = result.error {
                if let l = e.location { e.location = SourceLocation(line: l.line + firstLine, column: l.column) }
                return e
            }
            // fit reports its own interruption and returns; the cell stops after it.
            if interrupt.isRaised { return LabError("interrupted") }
        }
        return nil
    }

    // MARK: complete, inspect

    /// The REPL's completion of the text before the cursor (positions in Unicode scalars, as the protocol counts).
    func complete(_ content: [String: Any]) -> [String: Any] {
        let code = Array((content["code"] as? String ?? "").unicodeScalars)
        let cursor = min(max(0, content["cursor_pos"] as? Int ?? code.count), code.count)
        var before = String.UnicodeScalarView()
        before.append(contentsOf: code[..<cursor])
        let line = String(before).split(separator: "\n", omittingEmptySubsequences: false).last.map(String.init) ?? ""
        let matches = Completion.candidates(for: line, in: session)
        // Every candidate replaces the text after the last word-break character.
        let breaks = Set(Completion.wordBreaks.unicodeScalars)
        var start = cursor
        while start > 0, !breaks.contains(code[start - 1]) { start -= 1 }
        return ["status": "ok", "matches": matches, "cursor_start": start, "cursor_end": cursor, "metadata": [String: Any]()]
    }

    /// `help NAME` for the (possibly dotted) name at the cursor.
    func inspect(_ content: [String: Any]) -> [String: Any] {
        let code = Array((content["code"] as? String ?? "").unicodeScalars)
        let cursor = min(max(0, content["cursor_pos"] as? Int ?? code.count), code.count)
        func isNamePart(_ c: Unicode.Scalar) -> Bool { c == "_" || c == "." || c.properties.isAlphabetic || ("0"..."9").contains(c) }
        var start = cursor, end = cursor
        while start > 0, isNamePart(code[start - 1]) { start -= 1 }
        while end < code.count, isNamePart(code[end]) && code[end] != "." { end += 1 }
        var word = String.UnicodeScalarView()
        word.append(contentsOf: code[start..<end])
        let name = String(word).trimmingCharacters(in: CharacterSet(charactersIn: "."))
        var found: [String: Any] = ["status": "ok", "found": false, "data": [String: Any](), "metadata": [String: Any]()]
        guard !name.isEmpty, let text = helpText(forPath: name) else { return found }
        found["found"] = true
        found["data"] = ["text/plain": text]
        return found
    }

    /// Help for `name` or `a.b.c` (attributes are looked up, never called).
    private func helpText(forPath name: String) -> String? {
        let parts = name.split(separator: ".").map(String.init)
        if parts.count == 1 { return try? session.helpText(name) }
        guard var value = try? session.lookup(parts[0]) else { return nil }
        for p in parts.dropFirst() {
            guard let next = try? session.attribute(of: value, p) else { return nil }
            value = next
        }
        return try? session.helpText(for: value)
    }
}
