/// How NumPy prints a 2-D array of strings, as the book shows its token tables
/// (`np.array(rows)`): `str` gives `[['xxbos' 'xxmaj' …]\n ['movie' …]]`, `repr` gives
/// `array([['xxbos', 'xxmaj', …]], dtype='<U12')`. Lines wrap at NumPy's default width (75)
/// with NumPy's rules: elements are Python reprs, unpadded; a row wraps before an element
/// that would pass the width (less one column for the closing bracket).
public enum NumpyRepr {
    /// `str(np.array(rows))`.
    public static func str(_ rows: [[String]], lineWidth: Int = 75) -> String {
        format(rows, lineWidth: lineWidth, indent: " ", separator: " ")
    }

    /// `repr(np.array(rows))`, dtype `<U` + the longest element (in code points).
    public static func repr(_ rows: [[String]], lineWidth: Int = 75) -> String {
        let body = "array(" + format(rows, lineWidth: lineWidth - 1, indent: String(repeating: " ", count: 7),
                                     separator: ", ") + ","
        let width = rows.flatMap { $0 }.map { $0.unicodeScalars.count }.max() ?? 0
        let dtype = "dtype='<U\(width)')"
        let lastLine = body.split(separator: "\n", omittingEmptySubsequences: false).last.map { $0.unicodeScalars.count } ?? 0
        let spacer = lastLine + dtype.count + 1 > lineWidth ? "\n      " : " "
        return body + spacer + dtype
    }

    /// NumPy's `_formatArray` for two dimensions.
    private static func format(_ rows: [[String]], lineWidth: Int, indent: String, separator: String) -> String {
        let rowIndent = indent + " "
        // Inner rows may use one column less (for the closing "]"), and never less than the
        // trailing separator character.
        let elemWidth = lineWidth - 1 - max(separator.trimmingTrailingSpaces.count, 1)
        var out = ""
        for (r, row) in rows.enumerated() {
            var s = ""
            var line = rowIndent
            for (c, item) in row.enumerated() {
                let word = item.pythonRepr
                if line.unicodeScalars.count + word.unicodeScalars.count > elemWidth
                    && line.unicodeScalars.count > rowIndent.unicodeScalars.count {
                    s += line.trimmingTrailingSpaces + "\n"
                    line = rowIndent
                }
                line += word
                if c < row.count - 1 { line += separator }
            }
            s += line
            let formattedRow = "[" + s.dropFirst(rowIndent.count) + "]"
            out += indent + formattedRow
            if r < rows.count - 1 { out += separator.trimmingTrailingSpaces + "\n" }
        }
        return "[" + out.dropFirst(indent.count) + "]"
    }
}

extension String {
    fileprivate var trimmingTrailingSpaces: String {
        var s = self
        while s.last == " " { s.removeLast() }
        return s
    }
}
