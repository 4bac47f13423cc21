import Foundation
import Testing
import TestSupport
@testable import Text

/// numericalize.json: both real vocabularies built from the recorded counter, and the ids of
/// the first documents encoded and decoded with them.
@Test func vocabFromFixtureCounter() throws {
    let fx = try FX.object("text/numericalize.json")
    let counter = try FX.counter(fx, "counter")
    let firstTokens = try FX.stringRows(fx, "first_tokens")
    for key in ["vocab_min3", "vocab_min1_max200"] {
        let spec: [String: Any] = try FX.get(fx, key)
        let vocab = Vocab(counter: counter, minFreq: try FX.get(spec, "min_freq"), maxVocab: try FX.get(spec, "max_vocab"))
        let expected = try FX.strings(spec, "vocab")
        #expect(vocab.items == expected, "\(key)")
        #expect(vocab.count == (try FX.get(spec, "len", as: Int.self)), "\(key) len")
        #expect(vocab.items.filter { $0 == SpecialTokens.fake }.count == (try FX.get(spec, "n_xxfake", as: Int.self)), "\(key)")
        let firstIDs = try FX.intRows(spec, "first_ids")
        let decoded = try FX.stringRows(spec, "first_ids_decoded")
        #expect(firstTokens.count == firstIDs.count)
        var unk = 0
        for (d, tokens) in firstTokens.enumerated() {
            let ids = vocab.encode(tokens)
            #expect(ids == firstIDs[d], "\(key) doc \(d)")
            #expect(vocab.decode(ids) == decoded[d], "\(key) decoded doc \(d)")
            unk += ids.filter { $0 == 0 }.count
        }
        #expect(unk == (try FX.get(spec, "n_unk_ids_in_first", as: Int.self)), "\(key) unknown count")
    }
}

/// numericalize.json toy cases: counting order, ties, min_freq, max_vocab cuts, specials in the
/// data and the xxfake rule; through `Numericalize.setup` as the chapter calls it.
@Test func vocabToyCases() throws {
    let fx = try FX.object("text/numericalize.json")
    let cases: [[String: Any]] = try FX.get(fx, "toy_cases")
    #expect(!cases.isEmpty)
    for c in cases {
        let name: String = try FX.get(c, "name")
        let docs = try FX.stringRows(c, "docs")
        let counter = TokenCounter(documents: docs)
        #expect(counter == (try FX.counter(c, "counter")), "\(name) counter")
        var num = Numericalize(minFreq: try FX.get(c, "min_freq"), maxVocab: try FX.get(c, "max_vocab"))
        num.setup(docs)
        #expect(num.vocab.items == (try FX.strings(c, "vocab")), "\(name) vocab")
        #expect((1...8).contains(num.vocab.items.filter { $0 == SpecialTokens.fake }.count), "\(name)")
        #expect(docs.map { num($0) } == (try FX.intRows(c, "ids")), "\(name) ids")
    }
}

/// The spec's worked example, and lookups on a given vocabulary (duplicates → last index).
@Test func vocabSpecExampleAndGivenVocab() {
    let counter = TokenCounter(entries: [("the", 10), ("a", 10), ("xxmaj", 7), ("b", 5), ("c", 3), ("d", 2)])
    let v = Vocab(counter: counter)
    #expect(v.items == SpecialTokens.all + ["the", "a", "b", "c", "xxfake", "xxfake", "xxfake"])
    #expect(v.id(of: "d") == 0)
    #expect(v.id(of: "xxfake") == 0)
    #expect(v.decode([13, 14]) == ["xxfake", "xxfake"])
    let given = Vocab(items: v.items)
    #expect(given.id(of: "xxfake") == 15)
    #expect(given.id(of: "the") == 9)
    #expect(given.id(of: "zzz") == 0)
    #expect(v[99] == "xxunk")
}
