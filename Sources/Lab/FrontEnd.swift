/// What front ends other than the REPL (the Jupyter kernel) ask of a session, through the same
/// rules the REPL uses.
extension Session {
    /// Whether `source` is ready to run: the REPL's continuation rule (open brackets or string:
    /// incomplete), then the parser (a syntax error: invalid).
    public enum Completeness: String, Sendable { case complete, incomplete, invalid }

    public static func completeness(of source: String) -> Completeness {
        if needsMoreInput(source) { return .incomplete }
        do { _ = try Parser.parse(source) } catch { return .invalid }
        return .complete
    }

    /// The text `help NAME` prints (nil: the overview); throws for an unknown name.
    public func helpText(_ name: String?) throws -> String {
        try Help.text(for: name.map { .string($0) }, in: self)
    }

    /// The text `help(value)` prints.
    public func helpText(for value: Value) throws -> String {
        try Help.text(for: value, in: self)
    }
}
