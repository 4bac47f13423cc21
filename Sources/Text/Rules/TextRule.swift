/// One of fastai's text-processing rules: a named rewrite of the whole raw string.
///
/// fastai v2 applies all eight default rules to the raw text *before* spaCy runs (the case
/// markers are string rewrites, not token post-rules). Each rule is a separate value so a REPL
/// can show the text after one rule at a time:
///
///     var text = "Hello &amp; WORLD"
///     for rule in TextRule.defaults { text = rule.apply(text); print(rule.name, text) }
///
/// Rules work on Unicode scalars (Python code points), never on `Character`s.
public struct TextRule: Sendable {
    /// fastai's function name, e.g. `"replace_rep"`.
    public let name: String
    let transform: @Sendable ([Unicode.Scalar]) -> [Unicode.Scalar]

    init(_ name: String, _ transform: @escaping @Sendable ([Unicode.Scalar]) -> [Unicode.Scalar]) {
        self.name = name
        self.transform = transform
    }

    /// The rule applied to `text`.
    public func apply(_ text: String) -> String {
        String(scalars: transform(text.scalarArray))
    }

    /// The rule applied to a scalar array.
    public func apply(scalars: [Unicode.Scalar]) -> [Unicode.Scalar] { transform(scalars) }

    public static let fixHTML = TextRule("fix_html", FixHTML.apply)
    public static let replaceRep = TextRule("replace_rep", RepetitionRules.replaceRep)
    public static let replaceWrep = TextRule("replace_wrep", RepetitionRules.replaceWrep)
    public static let specAddSpaces = TextRule("spec_add_spaces", SpacingRules.specAddSpaces)
    public static let rmUselessSpaces = TextRule("rm_useless_spaces", SpacingRules.rmUselessSpaces)
    public static let replaceAllCaps = TextRule("replace_all_caps", CaseRules.replaceAllCaps)
    public static let replaceMaj = TextRule("replace_maj", CaseRules.replaceMaj)
    /// `lowercase` with fastai's defaults: prepends `xxbos `, no `xxeos`.
    public static let lowercase = TextRule("lowercase") { CaseRules.lowercase($0, addEOS: false) }

    /// fastai's `defaults.text_proc_rules`, in order.
    public static let defaults: [TextRule] = [
        fixHTML, replaceRep, replaceWrep, specAddSpaces, rmUselessSpaces, replaceAllCaps, replaceMaj, lowercase,
    ]

    /// Applies `rules` in order.
    public static func apply(_ rules: [TextRule], to text: String) -> String {
        String(scalars: apply(rules, scalars: text.scalarArray))
    }

    static func apply(_ rules: [TextRule], scalars: [Unicode.Scalar]) -> [Unicode.Scalar] {
        var s = scalars
        for rule in rules { s = rule.transform(s) }
        return s
    }

    /// fastai's only post-rule (`replace_space`), applied per token in the batch path
    /// (`TokenizeWithRules`/TextBlock): every U+0020 becomes U+2581 `▁`.
    public static func replaceSpace(_ token: String) -> String {
        guard token.utf8.contains(0x20) else { return token }
        return String(scalars: token.unicodeScalars.map { $0 == " " ? "\u{2581}" : $0 })
    }
}
