/// Helpers that turn decoded batches into display text.
public enum BatchDisplay {
    /// Tokens joined by single spaces, cut to the first `truncAt` space-separated words;
    /// line breaks inside tokens are shown as the two characters `\n` (and `\r`, `\t` alike)
    /// so each row stays on one line.
    public static func text(_ tokens: [String], truncAt: Int = 150) -> String {
        let words = tokens.joined(separator: " ").split(separator: " ", omittingEmptySubsequences: false)
        var out = ""
        for s in words.prefix(truncAt).joined(separator: " ").unicodeScalars {
            switch s {
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default: out.unicodeScalars.append(s)
            }
        }
        return out
    }
}

/// A plain-text table like the one `show_batch` shows: an index column, then the given
/// columns; every line fits in `width` characters. Text columns share the room left by the
/// others; a cell that does not fit is cut and ends with `…`.
///
/// ```
///    text                       category
/// 0  xxbos xxmaj this movie…    neg
/// ```
public enum TextTable {
    public static func render(header: [String], rows: [[String]], width: Int = 100) -> String {
        let gap = "  "
        let indexWidth = max(1, String(max(0, rows.count - 1)).count)
        // Columns whose every cell is short (categories) keep their natural width; the rest
        // (text) split what is left equally.
        let natural = header.indices.map { c in
            ([header[c]] + rows.map { $0.indices.contains(c) ? $0[c] : "" }).map(\.count).max() ?? 0
        }
        let short = header.indices.filter { natural[$0] <= 16 }
        let flexible = header.indices.filter { natural[$0] > 16 }
        let fixed = short.reduce(indexWidth) { $0 + natural[$1] } + gap.count * header.count
        let share = flexible.isEmpty ? 0 : max(8, (width - fixed) / flexible.count)
        let widths = header.indices.map { short.contains($0) ? natural[$0] : min(natural[$0], share) }

        func line(_ index: String, _ cells: [String]) -> String {
            var s = index.padding(toLength: indexWidth, withPad: " ", startingAt: 0)
            for (c, w) in widths.enumerated() {
                let cell = c < cells.count ? cells[c] : ""
                s += gap + fit(cell, w)
            }
            while s.last == " " { s.removeLast() }
            return s
        }
        var out = [line("", header)]
        for (r, row) in rows.enumerated() { out.append(line(String(r), row)) }
        return out.joined(separator: "\n")
    }

    /// `text` cut to `width` characters (ending in `…` when cut) and padded to `width`.
    static func fit(_ text: String, _ width: Int) -> String {
        if text.count <= width { return text + String(repeating: " ", count: width - text.count) }
        return String(text.prefix(max(0, width - 1))) + "…"
    }
}
