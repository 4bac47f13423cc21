import Foundation
import Testing
import TestSupport
@testable import Text

/// Parity with real fastai 2.8.12 + spaCy 3.8.18 on every record of `text/tokenize.jsonl`.
@Suite struct TokenizeParityTests {
    static func records() throws -> [[String: Any]] { try Fixtures.jsonLines("text/tokenize.jsonl") }

    /// Every stage of every record: pre_rules_text, rules_text, word_tokens, tokens,
    /// tokens_postproc and (hand-made strings) rule_steps.
    @Test func everyRecordMatchesFastai() throws {
        let tkn = try FastaiTokenizer()
        let records = try Self.records()
        #expect(!records.isEmpty, "text/tokenize.jsonl is empty")
        var failures: [String] = []
        for record in records {
            // Every field the README lists is required; a record without one fails the test.
            let id = try Fixtures.field(record, "id", as: String.self)
            func field<T>(_ k: String, _ t: T.Type) throws -> T { try Fixtures.field(record, k, as: t, in: id) }
            let text = try field("text", String.self)
            let st = tkn.stages(text)
            if let d = firstTextMismatch(st.preRulesText, try field("pre_rules_text", String.self)) {
                failures.append("\(id) pre_rules_text: \(d)")
            }
            if let d = firstTextMismatch(st.rulesText, try field("rules_text", String.self)) {
                failures.append("\(id) rules_text: \(d)")
            }
            if let d = firstTokenMismatch(st.wordTokens, try field("word_tokens", [String].self)) {
                failures.append("\(id) word_tokens: \(d)")
            }
            if let d = firstTokenMismatch(st.tokens, try field("tokens", [String].self)) {
                failures.append("\(id) tokens: \(d)")
            }
            if let d = firstTokenMismatch(st.tokensPostproc, try field("tokens_postproc", [String].self)) {
                failures.append("\(id) tokens_postproc: \(d)")
            }
            // rule_steps: present exactly for the hand-made strings (i = null), all 8 rules in order.
            let handMade = try #require(record["i"], "\(id): no field 'i'") is NSNull
            #expect((record["rule_steps"] != nil) == handMade, "\(id): rule_steps present \(record["rule_steps"] != nil)")
            if handMade {
                let steps = try field("rule_steps", [[String]].self)
                if steps.count != st.ruleSteps.count {
                    failures.append("\(id) rule_steps: \(st.ruleSteps.count) steps, want \(steps.count)")
                }
                for (got, want) in zip(st.ruleSteps, steps) {
                    try #require(want.count == 2, "\(id): rule step \(want)")
                    if got.name != want[0] { failures.append("\(id) rule name \(got.name), want \(want[0])") }
                    if let d = firstTextMismatch(got.text, want[1]) { failures.append("\(id) after \(want[0]): \(d)") }
                }
            }
            // The public one-call paths agree with the staged results.
            if tkn(text) != st.tokens { failures.append("\(id): callAsFunction differs from stages") }
            if tkn.tokenizeForDataset(text) != st.tokensPostproc { failures.append("\(id): tokenizeForDataset differs") }
        }
        #expect(failures.isEmpty, "\(failures.count) mismatches; first: \(failures.first ?? "")")
        if !failures.isEmpty { print(failures.prefix(10).joined(separator: "\n")) }
    }
}

/// The golden files from the spec (copied into Tests/Fixtures/spec-resources).
@Suite struct SpecGoldenTests {
    @Test func rulesGoldenEveryStage() throws {
        let cases = try #require(try SpecResources.json("fastai_rules_golden.json") as? [[String: Any]])
        #expect(!cases.isEmpty)
        var failures: [String] = []
        for c in cases {
            let input = try Fixtures.field(c, "input", as: String.self, in: "rules golden")
            let stages = try Fixtures.field(c, "stages", as: [String: String].self, in: debugRepr(input))
            var text = input
            for rule in TextRule.defaults {
                text = rule.apply(text)
                let want = try #require(stages[rule.name], "\(debugRepr(input)): no stage \(rule.name)")
                if let d = firstTextMismatch(text, want) {
                    failures.append("\(debugRepr(input)) after \(rule.name): \(d)")
                    break
                }
            }
        }
        #expect(failures.isEmpty, "\(failures.count) mismatches; first: \(failures.first ?? "")")
    }

    @Test func tokenizeGoldenBatchPath() throws {
        let cases = try #require(try SpecResources.json("fastai_tokenize_golden.json") as? [[String: Any]])
        #expect(!cases.isEmpty)
        let tkn = try FastaiTokenizer()
        var failures: [String] = []
        for c in cases {
            let input = try Fixtures.field(c, "input", as: String.self, in: "golden case")
            let want = try Fixtures.field(c, "tokens", as: [String].self, in: debugRepr(input))
            if let d = firstTokenMismatch(tkn.tokenizeForDataset(input), want) { failures.append("\(debugRepr(input)): \(d)") }
        }
        #expect(failures.isEmpty, "\(failures.count) mismatches; first: \(failures.first ?? "")")
    }

    @Test func spacyGoldenWholeStrings() throws {
        let cases = try #require(try SpecResources.json("spacy_en_golden.json") as? [[String: Any]])
        #expect(!cases.isEmpty)
        let words = try WordTokenizer()
        var failures: [String] = []
        for c in cases {
            let input = try Fixtures.field(c, "input", as: String.self, in: "golden case")
            let want = try Fixtures.field(c, "tokens", as: [String].self, in: debugRepr(input))
            if let d = firstTokenMismatch(words.tokenize(input), want) { failures.append("\(debugRepr(input)): \(d)") }
        }
        #expect(failures.isEmpty, "\(failures.count) mismatches; first: \(failures.first ?? "")")
    }

    /// Prefix/suffix lengths, infix spans and URL matches of both affix implementations.
    @Test(arguments: ["fast", "regex"])
    func spacyAffixGolden(_ which: String) throws {
        let golden = try #require(try SpecResources.json("spacy_affix_golden.json") as? [String: Any])
        let affix = try #require(golden["affix"] as? [[String: Any]])
        let urls = try #require(golden["url"] as? [[String: Any]])
        #expect(!affix.isEmpty && !urls.isEmpty)
        let rules = which == "fast" ? try SpacyRules.english().affixes : try SpacyRules.englishRegexReference().affixes
        var failures: [String] = []
        for c in affix {
            let s = try Fixtures.field(c, "s", as: String.self, in: "affix case")
            let p = try Fixtures.field(c, "prefix_len", as: Int.self, in: s), q = try Fixtures.field(c, "suffix_len", as: Int.self, in: s)
            let inf = try Fixtures.field(c, "infixes", as: [[Int]].self, in: s)
            let scalars = Array(s.unicodeScalars)
            scalars.withUnsafeBufferPointer { buf in
                if rules.prefixLength(buf) != p { failures.append("\(debugRepr(s)) prefix \(rules.prefixLength(buf)), want \(p)") }
                if rules.suffixLength(buf) != q { failures.append("\(debugRepr(s)) suffix \(rules.suffixLength(buf)), want \(q)") }
                let got = rules.infixes(buf).map { [$0.lowerBound, $0.upperBound] }
                if got != inf { failures.append("\(debugRepr(s)) infixes \(got), want \(inf)") }
            }
        }
        for c in urls {
            let s = try Fixtures.field(c, "s", as: String.self, in: "url case"), m = try Fixtures.field(c, "match", as: Bool.self, in: s)
            let got = Array(s.unicodeScalars).withUnsafeBufferPointer { rules.isURL($0) }
            if got != m { failures.append("\(debugRepr(s)) url \(got), want \(m)") }
        }
        #expect(failures.isEmpty, "\(which): \(failures.count) mismatches; first: \(failures.first ?? "")")
    }
}

/// The hand-written affix scanners against the NSRegularExpression reference, on every
/// whitespace-delimited span (and every suffix/infix sub-span the tokenizer would search) of the
/// fixture texts, raw and after the rules.
@Suite struct AffixScannerTests {
    @Test func fastScannersAreInUse() throws {
        #expect(try SpacyRules.english().affixes is FastAffixRules)
    }

    @Test func fastMatchesRegexOnFixtureSpans() throws {
        let fast = try #require(try SpacyRules.english().affixes as? FastAffixRules)
        let slow = try SpacyRules.englishRegexReference().affixes
        var spans = Set<String>()
        for record in try Fixtures.jsonLines("text/tokenize.jsonl") {
            let text = try Fixtures.field(record, "text", as: String.self)
            for t in [text, TextRule.apply(TextRule.defaults, to: text)] {
                for w in t.unicodeScalars.split(whereSeparator: { PythonUnicode.isSpace($0) }) {
                    spans.insert(String(String.UnicodeScalarView(w)))
                }
            }
        }
        #expect(spans.count > 100)
        var failures: [String] = []
        for span in spans {
            let a = Array(span.unicodeScalars)
            a.withUnsafeBufferPointer { full in
                // Every suffix of the span, as the affix loop searches shrinking strings.
                for k in 0..<full.count {
                    let s = UnsafeBufferPointer(rebasing: full[k...])
                    if fast.prefixLength(s) != slow.prefixLength(s) { failures.append("prefix \(debugRepr(String(scalars: s)))") }
                    if fast.suffixLength(s) != slow.suffixLength(s) { failures.append("suffix \(debugRepr(String(scalars: s)))") }
                    if fast.infixes(s) != slow.infixes(s) { failures.append("infix \(debugRepr(String(scalars: s)))") }
                    if fast.isURL(s) != slow.isURL(s) { failures.append("url \(debugRepr(String(scalars: s)))") }
                }
            }
            if failures.count > 20 { break }
        }
        #expect(failures.isEmpty, "\(failures.count) differences; first: \(failures.prefix(5))")
    }
}
