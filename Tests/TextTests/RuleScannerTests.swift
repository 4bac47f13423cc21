import Foundation
import Testing
import TestSupport
@testable import Text

/// The hand-written rule scanners against the regex reference (`RegexRules`), rule by rule,
/// on every fixture text and on tricky hand-made strings.
@Suite struct RuleScannerTests {
    static let tricky = [
        "a a a b b b", "a a a  b b b", "the the the the.", "the the theory", "Ha ha ha ha", "no, no, no",
        "go go go", "'go go go'", "x x x", "x x x\n", "a a a ab", "a  a\ta\na", "aaa", "Wow!!!", "10,000",
        "HELLO WORLD", "I'm OK.", "CAFÉ ÉCOLE", "McDonald iPhone (Hello \"The", "X-MEN U.S. A I",
        "¹ ¹ ¹ ½½½ é é é", "a\u{1C}a\u{1C}a", "http://x.com/a#b\\c", "a    b  c", "ΣΑΣ ΣΑΣ.",
        "", " ", "\n\n\n", "😀😀😀 😀 😀 😀",
    ]

    @Test func scannersMatchRegexReference() throws {
        var texts = Self.tricky
        for record in try Fixtures.jsonLines("text/tokenize.jsonl") {
            texts.append(try Fixtures.field(record, "text", as: String.self))
        }
        #expect(texts.count > Self.tricky.count)
        var failures: [String] = []
        for text in texts {
            var current = text
            for rule in TextRule.defaults {
                let fast = rule.apply(current)
                if let reference = RegexRules.byName[rule.name] {
                    let slow = reference(current)
                    if let d = firstTextMismatch(fast, slow) {
                        failures.append("\(rule.name) on \(debugRepr(String(current.prefix(60)))): \(d)")
                    }
                }
                current = fast
            }
        }
        #expect(failures.isEmpty, "\(failures.count) differences; first: \(failures.prefix(3))")
    }

    @Test func specialTokensInFastaiOrder() {
        #expect(SpecialTokens.all == ["xxunk", "xxpad", "xxbos", "xxeos", "xxfld", "xxrep", "xxwrep", "xxup", "xxmaj"])
        #expect(TextRule.defaults.map(\.name) == ["fix_html", "replace_rep", "replace_wrep", "spec_add_spaces",
                                                  "rm_useless_spaces", "replace_all_caps", "replace_maj", "lowercase"])
    }

    @Test func replaceSpaceOnlyTouchesU0020() {
        #expect(TextRule.replaceSpace("\n\n ") == "\n\n\u{2581}")
        #expect(TextRule.replaceSpace("a\u{A0}b") == "a\u{A0}b")
    }

    @Test func pythonWhitespaceTableMatches() throws {
        let url = try TextResources.url("spacy_en_tokenizer_tables")
        let tables = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        let listed = Set(try #require(tables["python_isspace"] as? [Int]))
        #expect(listed.count == 29)
        for v in 0..<0x3100 { #expect(PythonUnicode.isSpace(UInt32(v)) == listed.contains(v), "U+\(String(v, radix: 16))") }
    }

    @Test func pythonLowerQuirks() {
        // Full mappings and the final-sigma rule, as Python's str.lower().
        #expect(String(scalars: PythonUnicode.lowercased(Array("İ".unicodeScalars))) == "i\u{307}")
        #expect(String(scalars: PythonUnicode.lowercased(Array("ΟΔΟΣ ΣΑ".unicodeScalars))) == "οδος σα")
    }
}
