import Foundation

/// spaCy's English tokenizer data (`spacy.blank('en')` + fastai's nine special tokens), loaded
/// from `Resources/spacy_en_tokenizer_tables.json`. Immutable and shared between threads.
public final class SpacyRules: Sendable {
    /// spaCy version the tables were exported from.
    public let version: String
    /// Exception table: whole-span key → sub-token texts (`"don't"` → `["do", "n't"]`).
    public let specialCases: [String: [String]]
    /// Longest key of `specialCases`, in code points (longer spans skip the lookup).
    let maxSpecialLength: Int
    /// The affix searches used for tokenizing (fast scanners, or the regex reference).
    let affixes: AffixRules
    /// Final matcher pass patterns (B.3), grouped by their first token.
    let matcherPatterns: [String: [[String]]]

    /// The bundled English tables, loaded once.
    public static func english() throws -> SpacyRules { try englishResult.get() }

    private static let englishResult: Result<SpacyRules, Error> = Result {
        try SpacyRules(tables: TextResources.json("spacy_en_tokenizer_tables"), useRegex: false)
    }

    /// The same tables with the NSRegularExpression reference affix searches (slow; for tests).
    static func englishRegexReference() throws -> SpacyRules { try englishRegexResult.get() }

    private static let englishRegexResult: Result<SpacyRules, Error> = Result {
        try SpacyRules(tables: TextResources.json("spacy_en_tokenizer_tables"), useRegex: true)
    }

    init(tables: [String: Any], useRegex: Bool) throws {
        let name = "spacy_en_tokenizer_tables.json"
        guard let prefix = tables["prefix_search"] as? String,
              let suffix = tables["suffix_search"] as? String,
              let infix = tables["infix_finditer"] as? String,
              let url = tables["url_match"] as? String,
              let specials = tables["special_cases"] as? [String: [String]],
              let matcherKeys = tables["special_cases_in_matcher"] as? [String] else {
            throw TextResourceError.malformed(name)
        }
        version = tables["spacy_version"] as? String ?? "?"
        specialCases = specials
        maxSpecialLength = specials.keys.map { $0.unicodeScalars.count }.max() ?? 0
        let regex = try RegexAffixRules(prefix: prefix, suffix: suffix, infix: infix, url: url)
        // The scanners parse the patterns; a construct they do not know makes them refuse, and
        // the (slow, exact) regex implementation is used instead.
        affixes = useRegex ? regex
            : (try? FastAffixRules(prefix: prefix, suffix: suffix, infix: infix, url: url)) ?? regex

        // Each matcher key's pattern is its own tokenization without special cases.
        let plain = SpanTokenizer(specialCases: [:], maxSpecialLength: 0, affixes: regex)
        var patterns: [String: [[String]]] = [:]
        for key in matcherKeys {
            let tokens = plain.tokenizeDocument(Array(key.unicodeScalars)).texts
            guard let first = tokens.first else { continue }
            // A one-token pattern whose replacement is itself cannot change anything.
            if tokens.count == 1 && specials[key] == tokens { continue }
            patterns[first, default: []].append(tokens)
        }
        matcherPatterns = patterns
    }
}
