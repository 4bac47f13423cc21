import Foundation
import Testing
import TestSupport
@testable import Text

/// Empty, huge and malformed inputs: correct tokens or a clear error, never a crash or a hang.
@Suite struct BadInputTests {
    @Test func emptyAndBlankTexts() throws {
        let tkn = try FastaiTokenizer()
        #expect(tkn("") == ["xxbos"])
        #expect(tkn(" \n\t\u{A0} ") == ["xxbos"])
        #expect(try WordTokenizer().tokenize("") == [])
        #expect(TextRule.apply(TextRule.defaults, to: "") == "xxbos ")
    }

    /// A long single-line text (many reviews joined by spaces) gives the per-review tokens
    /// concatenated: nothing is dropped or merged at scale, and the scanners stay linear.
    @Test func longSingleLineText() throws {
        let records = try Fixtures.jsonLines("text/tokenize.jsonl")
        let texts = try records.map { try Fixtures.field($0, "text", as: String.self) }.filter { t in
            // Only texts whose first and last characters cannot interact with a neighbour.
            !t.contains("\n") && !t.isEmpty && t.first!.isLetter && t.last! == "."
        }
        try #require(!texts.isEmpty)
        let tkn = try FastaiTokenizer()
        var pieces: [String] = []
        var expected = ["xxbos"]
        var size = 0
        var k = 0
        while size < 2_000_000 {
            let t = texts[k % texts.count]
            pieces.append(t)
            expected += tkn(t).dropFirst()
            size += t.utf8.count + 1
            k += 1
        }
        let got = tkn(pieces.joined(separator: " "))
        #expect(firstTokenMismatch(got, expected) == nil, "\(firstTokenMismatch(got, expected) ?? "")")
    }

    /// Spans that stress the affix loop (one prefix and one suffix per round) and the
    /// scanners: a huge span must come out as the right tokens, not hang.
    @Test func hugeSpans() throws {
        let words = try WordTokenizer()
        let n = 20_000
        let parens = String(repeating: "(", count: 1) + String(repeating: "()", count: n) + "x" + String(repeating: ")", count: 1)
        let tokens = words.tokenize(parens)
        #expect(tokens.count == 2 * n + 3)
        #expect(tokens.joined() == parens)
        let dots = String(repeating: "a.", count: n)
        #expect(words.tokenize(dots).joined() == dots)
        let colons = String(repeating: "ab:", count: n) + "c.com"
        #expect(words.tokenize(colons).joined() == colons)
    }

    @Test func parallelDatasetMatchesSequential() throws {
        let texts = try Fixtures.jsonLines("text/tokenize.jsonl").map { try Fixtures.field($0, "text", as: String.self) }
        try #require(texts.count > 2)
        let tkn = try FastaiTokenizer()
        let sequential = texts.map { tkn.tokenizeForDataset($0) }
        let counter = ProgressCounter()
        let parallel = tkn.tokenizeDataset(texts, threads: 2) { done, total in counter.record(done, total) }
        #expect(parallel == sequential)
        // A second call reuses the warm per-thread tokenizers and must not change anything.
        #expect(tkn.tokenizeDataset(texts.reversed(), threads: 2) == sequential.reversed())
        #expect(counter.last == texts.count && counter.total == texts.count)
        #expect(tkn.tokenizeDataset([], threads: 2).isEmpty)
        #expect(tkn.tokenizeDataset(Array(texts.prefix(1)), threads: 2, postprocess: false) == [tkn(texts[0])])
    }

    // MARK: JSON lines

    private func runJSONLines(_ bytes: [UInt8]) -> (lines: [String], error: JSONLinesError?) {
        let tkn = try! FastaiTokenizer()
        var data = bytes
        var lines: [String] = []
        var failure: JSONLinesError?
        data.withUnsafeMutableBytes { raw in
            guard let f = fmemopen(raw.baseAddress, raw.count, "rb") else { return }
            defer { fclose(f) }
            do {
                try JSONLinesTokenization.run(input: f, batchLines: 2, tokenize: { tkn.tokenizeDataset($0) }) { lines.append($0) }
            } catch let e as JSONLinesError {
                failure = e
            } catch {}
        }
        return (lines, failure)
    }

    @Test func jsonLinesInOrderWithEscapes() {
        let input = "{\"text\":\"Hello\"}\n\n{\"text\":\"a\\u2028b \\\"q\\\"\",\"other\":1}\r\n{\"text\":\"x\\\\y\\n\\n z\"}\n{\"text\":\"Last\"}"
        let (lines, error) = runJSONLines(Array(input.utf8))
        #expect(error == nil)
        #expect(lines == [
            "{\"tokens\":[\"xxbos\",\"xxmaj\",\"hello\"]}",
            "{\"tokens\":[\"xxbos\",\"a\",\"\\u2028\",\"b\",\"\\\"\",\"q\",\"\\\"\"]}",
            "{\"tokens\":[\"xxbos\",\"x\",\"\\\\\",\"y\",\"\\n\\n▁\",\"z\"]}",
            "{\"tokens\":[\"xxbos\",\"xxmaj\",\"last\"]}",
        ])
        // Every output line is valid JSON that decodes back to the tokens.
        for line in lines {
            let obj = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: [String]]
            #expect(obj?["tokens"] != nil)
        }
    }

    @Test func jsonLinesErrorsNameTheLine() {
        let ok = Array("{\"text\":\"fine\"}\n".utf8)
        var r = runJSONLines(ok + ok + [0x7B, 0x22, 0x74, 0xFF, 0xFE, 0x0A] + ok)
        #expect(r.error == JSONLinesError(line: 3, message: "invalid UTF-8"))
        #expect(r.lines.count == 2)  // lines before the bad one are written first
        r = runJSONLines(ok + Array("{\"text\": \"unterminated}\n".utf8))
        #expect(r.error == JSONLinesError(line: 2, message: "malformed JSON"))
        r = runJSONLines(Array("[1,2]\n".utf8))
        #expect(r.error?.line == 1)
        r = runJSONLines(Array("{\"txt\":\"x\"}\n".utf8))
        #expect(r.error == JSONLinesError(line: 1, message: "no string field \"text\""))
        #expect(r.error?.description == "line 1: no string field \"text\"")
        r = runJSONLines([])
        #expect(r.error == nil && r.lines.isEmpty)
    }
}

private final class ProgressCounter: @unchecked Sendable {
    private let lock = NSLock()
    private(set) var last = 0
    private(set) var total = 0
    func record(_ done: Int, _ total: Int) {
        lock.lock(); defer { lock.unlock() }
        precondition(done >= last, "progress went backwards")
        last = done
        self.total = total
    }
}

@Test func overDeepJSONIsNamedAsSuch() throws {
    let deep = String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)
    let broken = #"{"text": "a""#
    for (line, expected) in [(deep, "JSON nested too deeply (10000 levels; the reader takes up to 500)"), (broken, "malformed JSON")] {
        let bytes = Array(line.utf8)
        #expect { try bytes.withUnsafeBytes { try JSONLinesTokenization.text(ofLine: $0, 3) } } throws: {
            ($0 as? JSONLinesError) == JSONLinesError(line: 3, message: expected)
        }
    }
}
