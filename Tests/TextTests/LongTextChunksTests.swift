import Foundation
import Testing
import TestSupport
@testable import Text

/// Tokenizing a long text in pieces gives exactly the tokens of the whole text.
@Suite struct LongTextChunksTests {
    @Test func piecesGiveTheTokensOfTheWholeText() throws {
        let tkn = try FastaiTokenizer()
        let records = try Fixtures.jsonLines("text/subword/encode.jsonl").map { try Fixtures.field($0, "text", as: String.self) }
        // ~150 kB of reviews, plus the patterns that look across spaces, many times over.
        var text = records.joined(separator: " ")
        let tricky = ["the the the end", "so so good", "HELLO WORLD It", " @.@ and @-@ or", "word  spaced   out",
                      "aaaa bbb cccc", "<br />next line", "x\u{00A0}the the the", "end\nnew line the dog"]
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<200 {
            let at = text.utf8.index(text.utf8.startIndex, offsetBy: Int.random(in: 0..<text.utf8.count, using: &rng))
            guard let pos = text[at...].firstIndex(of: " ") else { continue }
            text.insert(contentsOf: " " + tricky.randomElement(using: &rng)! + " ", at: pos)
        }
        let whole = tkn.tokenizeForDataset(text)
        for chunk in [200, 1000, 8000] {
            var pieces: [[String]] = []
            tkn.tokenizeForDataset(text, chunkBytes: chunk) { pieces.append($0) }
            #expect(pieces.count > text.utf8.count / (4 * chunk), "too few cuts for \(chunk)-byte pieces")
            let joined = pieces.flatMap { $0 }
            let firstDifference = zip(joined, whole).enumerated().first { $0.element.0 != $0.element.1 }?.offset
            #expect(joined == whole, "chunk \(chunk): \(joined.count) vs \(whole.count) tokens, first difference at \(firstDifference ?? -1)")
        }
    }

    @Test func cutsAreOnlyMadeWhereNoRuleLooksAcross() {
        func cuts(_ s: String) -> [Int] { LongTextChunks.cutPoints(s, chunkBytes: 64) }
        let filler = String(repeating: "x", count: 70)
        // Repeated words, capitals, a letter three times, a double space: no safe space after the filler.
        #expect(cuts(filler + " the the the dog").isEmpty)
        #expect(cuts(filler + " Big House cat").isEmpty)
        #expect(cuts(filler + " sooo good cat").isEmpty)
        #expect(cuts(filler + "  ab  cd  ef").isEmpty)
        // Two different lowercase words between visible characters: the first such space after 64 bytes.
        let ok = filler + " a big dog ran"
        #expect(cuts(ok) == [ok.utf8.count - "big dog ran".utf8.count - 1])
    }
}
