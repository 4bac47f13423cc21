import Foundation

/// fastai's `Tokenizer(WordTokenizer())` with the default rules: the eight text rules on the
/// raw string, then spaCy's English tokenizer.
///
///     let tkn = try FastaiTokenizer()
///     tkn("&copy;   Fast.ai www.fast.ai/INDEX")
///     // ["xxbos", "©", "xxmaj", "fast.ai", "xxrep", "3", "w", ".fast.ai", "/", "xxup", "index"]
///
/// Not thread-safe (the word tokenizer caches spans); `tokenizeDataset` makes one per thread.
///
/// Known differences from Python, none of which occur in IMDb: Python `re`'s `\w`/`\s` and
/// `str.lower()` follow Python 3.11's Unicode tables while we use Swift's (newer) ones.
public final class FastaiTokenizer {
    /// The rules, applied in order to the whole raw string.
    public let rules: [TextRule]
    /// The word tokenizer run on the rule-processed text.
    public let words: WordTokenizer

    /// Everything the pipeline computes for one text (for the REPL and the parity tests).
    public struct Stages: Sendable {
        /// The raw text.
        public var text: String
        /// `(rule name, text after that rule)` for every rule, in order.
        public var ruleSteps: [(name: String, text: String)]
        /// The text after the five clean-up rules (fastai's `fix_html` … `rm_useless_spaces`).
        public var preRulesText: String
        /// The text after all rules: exactly what spaCy receives.
        public var rulesText: String
        /// spaCy tokens of `preRulesText` (cased, no markers).
        public var wordTokens: [String]
        /// `Tokenizer(WordTokenizer())(text)`: spaCy tokens of `rulesText`.
        public var tokens: [String]
        /// The dataset path: `tokens` with `replace_space` applied.
        public var tokensPostproc: [String]
    }

    /// The default pipeline (fastai's `defaults.text_proc_rules`).
    public convenience init() throws { self.init(rules: TextRule.defaults, words: try WordTokenizer()) }

    public init(rules: [TextRule], words: WordTokenizer) {
        self.rules = rules
        self.words = words
    }

    /// The book's `tkn(text)`: rules then spaCy, **without** `replace_space`.
    public func callAsFunction(_ text: String) -> [String] {
        words.tokenize(scalars: TextRule.apply(rules, scalars: text.scalarsFast))
    }

    /// The TextBlock/`tokenize_df` path: rules, spaCy, then `replace_space` on each token.
    public func tokenizeForDataset(_ text: String) -> [String] {
        self(text).map(TextRule.replaceSpace)
    }

    /// The text after all rules (what spaCy sees).
    public func rulesText(_ text: String) -> String { TextRule.apply(rules, to: text) }

    /// Every intermediate result for `text`.
    public func stages(_ text: String) -> Stages {
        var s = text.scalarsFast
        var steps: [(name: String, text: String)] = []
        var pre = s
        for (k, rule) in rules.enumerated() {
            s = rule.apply(scalars: s)
            steps.append((rule.name, String(scalars: s)))
            if k == min(4, rules.count - 1) { pre = s }
        }
        let tokens = words.tokenize(scalars: s)
        return Stages(text: text, ruleSteps: steps, preRulesText: String(scalars: pre),
                      rulesText: String(scalars: s), wordTokens: words.tokenize(scalars: pre), tokens: tokens,
                      tokensPostproc: tokens.map(TextRule.replaceSpace))
    }
}
