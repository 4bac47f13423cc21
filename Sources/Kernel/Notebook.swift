import Foundation
import Lab

/// A lesson as a Jupyter notebook (nbformat 4.5): its prose as markdown cells and each `lmlab`
/// block as a code cell showing the lesson's recorded output, with the lmlab kernelspec.
///
/// Each code cell keeps its expected block in `metadata.lmlab.expected` (and the lesson line in
/// `metadata.lmlab.line`), so an executed notebook can be checked as `play --check` checks the
/// lesson; a cell whose expected output is an error is tagged `raises-exception`, so the
/// notebook still runs top to bottom.
public enum Notebook {
    public static func from(_ lesson: Lesson) -> [String: Any] {
        var cells: [[String: Any]] = []
        for block in lesson.blocks {
            switch block {
            case .prose(let text):
                let trimmed = text.trimmingCharacters(in: .newlines)
                guard !trimmed.trimmingCharacters(in: .whitespaces).isEmpty else { continue }
                cells.append(["cell_type": "markdown", "id": "cell-\(cells.count)", "metadata": [String: Any](),
                              "source": sourceLines(trimmed)])
            case .cell(let cell):
                var meta: [String: Any] = ["lmlab": ["expected": cell.expected ?? [], "line": cell.expectedLine] as [String: Any]]
                if cell.expected?.contains(where: { $0.hasPrefix("error: ") || $0 == "~ error" }) == true {
                    meta["tags"] = ["raises-exception"]
                }
                var outputs: [[String: Any]] = []
                if let expected = cell.expected, !expected.isEmpty {
                    outputs.append(["output_type": "stream", "name": "stdout",
                                    "text": sourceLines(expected.joined(separator: "\n") + "\n")])
                }
                cells.append(["cell_type": "code", "id": "cell-\(cells.count)", "metadata": meta,
                              "execution_count": NSNull(), "source": sourceLines(cell.code), "outputs": outputs])
            }
        }
        return [
            "nbformat": 4, "nbformat_minor": 5, "cells": cells,
            "metadata": [
                "kernelspec": ["name": KernelSpec.name, "display_name": KernelSpec.displayName, "language": "lmlab"],
                "language_info": ["name": "lmlab", "file_extension": ".lmlab", "mimetype": "text/x-lmlab",
                                  "pygments_lexer": "python", "codemirror_mode": "python"],
            ] as [String: Any],
        ]
    }

    /// Writes the notebook of `lesson` to `path` (atomically).
    public static func write(_ lesson: Lesson, to path: String) throws {
        let data = try JSONSerialization.data(withJSONObject: from(lesson), options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        do { try data.write(to: URL(fileURLWithPath: path), options: .atomic) } catch {
            throw KernelError("cannot write \(path): \(error.localizedDescription)")
        }
    }

    /// nbformat's multi-line strings: lines keeping their "\n", the last without.
    static func sourceLines(_ text: String) -> [String] {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { String($0) + "\n" }
        if let last = lines.last {
            lines[lines.count - 1] = String(last.dropLast())
            if lines[lines.count - 1].isEmpty { lines.removeLast() }
        }
        return lines
    }

    /// The lines an executed code cell showed, as the REPL would print them: streams as
    /// written, each result's `text/plain`, an error as `error: message`. Displays with no
    /// `text/plain` (a finished progress bar) show nothing.
    public static func outputLines(of cell: [String: Any]) -> [String] {
        var text = ""
        for output in cell["outputs"] as? [[String: Any]] ?? [] {
            switch output["output_type"] as? String {
            case "stream": text += joined(output["text"])
            case "execute_result", "display_data":
                let data = output["data"] as? [String: Any] ?? [:]
                if let plain = data["text/plain"] { text += joined(plain) + "\n" }
            case "error": text += "error: \(output["evalue"] as? String ?? "")\n"
            default: break
            }
        }
        if text.hasSuffix("\n") { text.removeLast() }
        return text.isEmpty ? [] : text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    }

    private static func joined(_ v: Any?) -> String {
        if let s = v as? String { return s }
        return (v as? [String] ?? []).joined()
    }
}
