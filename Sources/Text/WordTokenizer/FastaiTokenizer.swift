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
/// Fidelity: we reproduce fastai's behaviour including its quirks, on purpose, because the
/// vocabulary and the pretrained models depend on them: `fix_html` matches entity bodies
/// without `&` (`&amp;` → `& &`), `...` → ` …`, only the exact `<br />` is replaced;
/// `replace_rep` mangles numbers (`1000` → `1 xxrep 3 0`); the case rules see whitespace-
/// delimited words with punctuation attached and ASCII A–Z only (`(Hello` and `ÉCOLE` get no
/// marker); `xxup` precedes only the first sub-token of `DON'T`; URLs are broken up by
/// `spec_add_spaces`; the single-text path skips `replace_space` while the dataset path applies
/// it. Decoding `xxrep`/`xxwrep` back to text is not done here.
/// Known differences from Python, none of which occur in IMDb: `\w`, `\s`-adjacent categories
/// and `lower()` come from Swift's Unicode tables (newer than Python 3.11's), so code points
/// assigned or re-categorised since Unicode 14 may be classed differently.
public final class FastaiTokenizer {
    /// The rules, applied in order to the whole raw string.
    public let rules: [TextRule]
    /// The word tokenizer run on the rule-processed text.
    public let words: WordTokenizer
    /// One tokenizer per worker thread for `tokenizeDataset`, kept warm between calls.
    var workerTokenizers: [FastaiTokenizer] = []

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
        var tokens = self(text)
        for i in tokens.indices where tokens[i].utf8.contains(0x20) { tokens[i] = TextRule.replaceSpace(tokens[i]) }
        return tokens
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
