import Lab

/// The library bound into the command language: plots, the text pipeline (Text) and learners
/// (Learn, Models), with inspection and `trace`.
public enum LabBindings {
    /// Every binding, in the order they are installed.
    public static var all: [Binding] { [PlotBuiltins.install, TextBindings.install, LearnBindings.install] }
}

extension Session {
    /// A session with the language and every binding: the one the REPL, `play` and the
    /// Jupyter kernel run, so a value looks the same in all of them.
    ///
    ///     let s = Session()
    ///     s.run("tkn = WordTokenizer(); first(tkn(['The movie.']))").text
    public convenience init() { self.init(bindings: LabBindings.all) }
}
