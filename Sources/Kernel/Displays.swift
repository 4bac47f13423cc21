import Foundation
import Lab

/// The displays of the cell that is running: what it prints, the values it shows and the
/// live training displays (updated in place through their display ids).
struct CellDisplays {
    let parent: WireMessage
    let count: Int
    let silent: Bool
    var progressID: String?
    var tableID: String?
}

extension JupyterKernel {
    /// Routes the session's outputs to iopub: printed text to the stdout stream, values as
    /// execute results, and fit's progress bar and epoch table as displays updated in place.
    func installDisplays() {
        let box = UncheckedBox(self)
        session.onOutput = { output in box.value.show(output) }
        session.onTrainingDisplay = { display in box.value.show(display) }
    }

    private func show(_ output: Output) {
        guard let cell = current, !cell.silent else { return }
        switch output {
        case .text(let s):
            iopub.publish("stream", ["name": "stdout", "text": s + "\n"], parent: cell.parent)
        case .value(let v):
            let data = MimeBundle.of(v)
            // Pictures are displays, as a plot is in IPython; other values are the cell's results.
            if data["image/svg+xml"] != nil {
                iopub.publish("display_data", ["data": data, "metadata": [String: Any](), "transient": [String: Any]()], parent: cell.parent)
            } else {
                iopub.publish("execute_result", ["execution_count": cell.count, "data": data, "metadata": [String: Any]()],
                              parent: cell.parent)
            }
        case .error:
            break   // the cell's one error message is sent when it ends
        }
    }

    private func show(_ display: TrainingDisplay) {
        guard var cell = current, !cell.silent else { return }
        defer { current = cell }
        switch display {
        case let .progress(_, done, total, line):
            let data: [String: Any] = ["text/plain": line, "text/html": MimeBundle.progressHTML(done: done, total: total, line: line)]
            publishDisplay(data, id: &cell.progressID, parent: cell.parent)
        case .progressEnd:
            // The bar disappears when its phase ends, as on a terminal; the next phase reuses its place.
            if cell.progressID != nil { publishDisplay([:], id: &cell.progressID, parent: cell.parent) }
        case let .epochTable(names, rows, text):
            if rows.isEmpty { cell.tableID = nil }   // a new fit: a new table
            let data: [String: Any] = ["text/plain": text, "text/html": MimeBundle.tableHTML(header: names, rows: rows)]
            publishDisplay(data, id: &cell.tableID, parent: cell.parent)
        }
    }

    /// A display with a display id: created the first time, updated in place after.
    private func publishDisplay(_ data: [String: Any], id: inout String?, parent: WireMessage) {
        let isNew = id == nil
        let displayID = id ?? UUID().uuidString.lowercased()
        id = displayID
        iopub.publish(isNew ? "display_data" : "update_display_data",
                      ["data": data, "metadata": [String: Any](), "transient": ["display_id": displayID]], parent: parent)
    }
}

/// The MIME bundles of values: `text/plain` exactly as the REPL prints the value, `text/html`
/// for tables, `image/svg+xml` for pictures.
public enum MimeBundle {
    /// Types whose display is a column-aligned text table.
    static let tableTypes: Set<String> = ["Table", "Module", "Trace", "TraceMasks", "TraceLayer", "TraceGrads"]

    public static func of(_ value: Value) -> [String: Any] {
        var data: [String: Any] = ["text/plain": value.repr]
        guard case .object(let o) = value else { return data }
        if let svg = o.svg { data["image/svg+xml"] = svg }
        if tableTypes.contains(o.typeName) {
            // A first line without column gaps is the table's caption (a model summary's name).
            var lines = o.display.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            var caption: String?
            if lines.count > 2, !lines[0].contains("  ") { caption = lines.removeFirst() }
            if let table = columns(of: lines.joined(separator: "\n")) {
                data["text/html"] = tableHTML(header: table.header, rows: table.rows, caption: caption)
            }
        }
        return data
    }

    /// Splits a column-aligned text table into cells: columns are separated by runs of at least
    /// two spaces at the same place on every line. Nil when the text is not such a table.
    public static func columns(of text: String) -> (header: [String], rows: [[String]])? {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { Array($0) }
        guard lines.count >= 2, let width = lines.map(\.count).max(), width > 0 else { return nil }
        var blank = [Bool](repeating: true, count: width)
        for line in lines {
            for (i, c) in line.enumerated() where c != " " { blank[i] = false }
        }
        // Column spans: maximal runs of positions that are not inside a gap of 2+ blank positions.
        var gap = [Bool](repeating: false, count: width)
        var i = 0
        while i < width {
            guard blank[i] else { i += 1; continue }
            var j = i
            while j < width, blank[j] { j += 1 }
            if j - i >= 2 || i == 0 { for k in i..<j { gap[k] = true } }
            i = j
        }
        var spans: [Range<Int>] = []
        var start: Int?
        for k in 0...width {
            let inGap = k == width || gap[k]
            if !inGap, start == nil { start = k }
            if inGap, let s = start { spans.append(s..<k); start = nil }
        }
        guard spans.count >= 2 else { return nil }
        let cells = lines.map { line in
            spans.map { span in
                String(line[min(span.lowerBound, line.count)..<min(span.upperBound, line.count)]).trimmingCharacters(in: .whitespaces)
            }
        }
        return (cells[0], Array(cells.dropFirst()))
    }

    /// An HTML table in the style of a pandas DataFrame's (which Jupyter front ends style).
    public static func tableHTML(header: [String], rows: [[String]], caption: String? = nil) -> String {
        var s = "<table border=\"1\" class=\"dataframe\">\n"
        if let caption { s += "<caption style=\"text-align: left;\">\(escape(caption))</caption>\n" }
        s += "<thead>\n<tr style=\"text-align: left;\">"
        for h in header { s += "<th>\(escape(h))</th>" }
        s += "</tr>\n</thead>\n<tbody>\n"
        for row in rows {
            s += "<tr>" + row.map { "<td>\(escape($0))</td>" }.joined() + "</tr>\n"
        }
        return s + "</tbody>\n</table>"
    }

    static func progressHTML(done: Int, total: Int, line: String) -> String {
        let rest = line.split(separator: "]", maxSplits: 1).last.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
        let label = line.split(separator: " ").first.map(String.init) ?? ""
        return "<div><progress value=\"\(done)\" max=\"\(max(total, 1))\" style=\"width:300px; height:20px; vertical-align: middle;\"></progress>"
            + " \(escape(label)) \(done)/\(total) \(escape(rest))</div>"
    }

    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}
