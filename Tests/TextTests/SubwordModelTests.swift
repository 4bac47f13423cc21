import Foundation
import Testing
import TestSupport
@testable import Text

/// Parity of the sentencepiece reader and encoder with the fixtures recorded from
/// sentencepiece 0.2.x (Tests/Fixtures/text/subword).
enum SubwordFixtures {
    static let modelPath = "text/subword/spm.model"

    static func model() throws -> SentencePieceModel {
        try SentencePieceModel(contentsOf: Fixtures.url(modelPath))
    }

    static func info() throws -> [String: Any] {
        try #require(try Fixtures.json("text/subword/model_info.json") as? [String: Any])
    }

    static func records() throws -> [[String: Any]] {
        try Fixtures.jsonLines("text/subword/encode.jsonl")
    }
}

@Test func subwordModelVocabMatchesModelInfo() throws {
    let model = try SubwordFixtures.model()
    let info = try SubwordFixtures.info()
    let vocab = try #require(info["vocab"] as? [[Any]])
    #expect(model.count == vocab.count)
    #expect(model.count == (info["actual_piece_size"] as? Int))
    var mismatches: [String] = []
    for (id, entry) in vocab.enumerated() where id < model.count {
        let piece = entry[0] as? String
        // Scores are float32 in the file; the JSON holds their exact double value, so the
        // conversion back to Float is exact and equality is the right check.
        let score = (entry[1] as? NSNumber).map { Float($0.doubleValue) }
        let type = entry[2] as? String
        if piece != model.pieces[id] || score != model.scores[id] || type != model.types[id].name {
            mismatches.append("id \(id): expected \(entry), got \(model.pieces[id]) \(model.scores[id]) \(model.types[id].name)")
        }
    }
    #expect(mismatches.isEmpty, "\(mismatches.prefix(5))")
    if let symbols = info["user_defined_symbols"] as? [String] {
        #expect(model.proto.trainerSpec.userDefinedSymbols == symbols)
        for symbol in symbols { #expect(model.types[model.id(of: symbol)] == .userDefined) }
    }
}

@Test func subwordNormalizerSpecMatchesModelInfo() throws {
    let model = try SubwordFixtures.model()
    let spec = try #require(try SubwordFixtures.info()["normalizer_spec"] as? [String: Any])
    let ours = model.proto.normalizerSpec
    #expect(ours.name == spec["name"] as? String)
    #expect(ours.precompiledCharsmap.count == spec["precompiled_charsmap_bytes"] as? Int)
    #expect(ours.addDummyPrefix == spec["add_dummy_prefix"] as? Bool)
    #expect(ours.removeExtraWhitespaces == spec["remove_extra_whitespaces"] as? Bool)
    #expect(ours.escapeWhitespaces == spec["escape_whitespaces"] as? Bool)
}

@Test func subwordEncodeMatchesSentencepiece() throws {
    let model = try SubwordFixtures.model()
    let records = try SubwordFixtures.records()
    #expect(!records.isEmpty)
    for record in records {
        let id = record["id"] as? String ?? "?"
        let text = try #require(record["text"] as? String)
        let expectedPieces = try #require(record["pieces"] as? [String])
        let expectedIds = try #require(record["ids"] as? [Int])
        let encoded = model.encode(text)
        // Compare bytes: Swift's String == treats canonically equivalent text as equal.
        #expect(encoded.map { Array($0.piece.utf8) } == expectedPieces.map { Array($0.utf8) }, "record \(id): pieces differ")
        #expect(encoded.map(\.id) == expectedIds, "record \(id): ids differ")
        if let joined = record["joined"] as? String {
            #expect(Array(model.encodeAsPieces(text).joined(separator: " ").utf8) == Array(joined.utf8), "record \(id)")
        }
        #expect(model.encodeAsIds(text) == expectedIds, "record \(id)")
    }
}

/// `pieces_after_rules` is sentencepiece applied to the rule-processed text (`rules_text`);
/// encoding that text directly must give the same pieces and ids.
@Test func subwordEncodeRulesTextMatchesSentencepiece() throws {
    let model = try SubwordFixtures.model()
    var checked = 0
    for record in try SubwordFixtures.records() {
        guard let text = record["rules_text"] as? String,
              let expected = record["pieces_after_rules"] as? [String] else { continue }
        let id = record["id"] as? String ?? "?"
        #expect(model.encodeAsPieces(text).map { Array($0.utf8) } == expected.map { Array($0.utf8) }, "record \(id)")
        if let ids = record["ids_after_rules"] as? [Int] {
            #expect(model.encodeAsIds(text) == ids, "record \(id)")
        }
        checked += 1
    }
    #expect(checked > 0)
}

/// Decoding the pieces gives the normalised text back with `▁` as spaces (unknown pieces
/// keep their own text), as sentencepiece's DecodePieces does.
@Test func subwordDecodeInvertsEncode() throws {
    let model = try SubwordFixtures.model()
    for record in try SubwordFixtures.records() {
        let text = try #require(record["text"] as? String)
        let pieces = model.encodeAsPieces(text)
        var expected = model.normalize(text).replacingOccurrences(of: "\u{2581}", with: " ")
        if expected.hasPrefix(" ") { expected.removeFirst() }
        #expect(model.decode(pieces: pieces) == expected)
        // DecodeIds turns an unknown id into the unknown surface (` ⁇ `), so only texts
        // without unknowns decode back to themselves.
        let ids = model.encodeAsIds(text)
        if !ids.contains(model.unkId) { #expect(model.decode(ids: ids) == expected) }
    }
    #expect(model.decode(pieces: [model.pieces[model.unkId]]) == model.proto.trainerSpec.unkSurface)
}

/// Documented behaviour of nmt_nfkc (../shared/spec/tokenization.md C.3), checked only for models using that rule set.
@Test func subwordNormalizerNmtNfkcExamples() throws {
    let model = try SubwordFixtures.model()
    guard model.proto.normalizerSpec.name == "nmt_nfkc" else { return }
    #expect(model.normalize("  Hello   world ") == "▁Hello▁world")
    #expect(model.normalize("") == "")
    #expect(model.normalize(" \t\n ") == "")
    #expect(model.normalize("ﬁ…²①Ａ") == "▁fi...21A")
    #expect(model.normalize("a\u{00A0}b\u{200B}c▁d") == "▁a▁b▁c▁d")
    #expect(model.normalize("x\u{0001}y") == "▁xy")
    #expect(Array(model.normalize("ﾊﾟ").utf8) == Array("▁パ".utf8))
    #expect(Array(model.normalize("e\u{0301}").utf8) == Array("▁é".utf8))
}

/// A user-defined symbol in the input is matched before the charsmap and always wins the
/// Viterbi (its edge scores ≈ −0.1).
@Test func subwordUserDefinedSymbolsMatchGreedily() throws {
    let model = try SubwordFixtures.model()
    let symbols = model.proto.trainerSpec.userDefinedSymbols
    guard let symbol = symbols.first else { return }
    let word = symbol.replacingOccurrences(of: "\u{2581}", with: " ").trimmingCharacters(in: .whitespaces)
    // "xxbos" after a space normalises to "▁xxbos", which is a user-defined piece.
    let pieces = model.encodeAsPieces("hello \(word) there")
    #expect(pieces.contains(symbol))
    #expect(model.encodeAsIds("\(word)") == [model.id(of: symbol)])
}

/// Equal-scoring paths: sentencepiece keeps the path found first, i.e. the one whose last
/// piece starts earliest ("z"+"zz" beats "zz"+"z"), comparing Float32 path sums.
/// (Checked against sentencepiece 0.2.3 with this exact model.)
@Test func subwordViterbiTieKeepsEarliestStart() throws {
    var proto = SentencePieceModelProto()
    proto.pieces = [
        .init(piece: "<unk>", score: 0, type: .unknown),
        .init(piece: "\u{2581}biz", score: -8.868313789367676),
        .init(piece: "z", score: -7.183260917663574),
        .init(piece: "zz", score: -8.282327651977539),
        .init(piece: "\u{2581}", score: -3),
        .init(piece: "b", score: -5), .init(piece: "i", score: -5),
    ]
    proto.hasTrainerSpec = true
    proto.hasNormalizerSpec = true
    let model = try SentencePieceModel(serialized: proto.serialized(), source: "tie.model")
    #expect(model.encodeAsPieces("bizzzz") == ["\u{2581}biz", "z", "zz"])
    #expect(model.encodeAsPieces("zzz") == ["\u{2581}", "z", "zz"])
    // No pieces for "q": consecutive unknown characters merge into one <unk> piece.
    #expect(model.encode("qq bqq").map(\.piece) == ["\u{2581}", "qq", "\u{2581}", "b", "qq"])
    #expect(model.encode("qq bqq").map(\.id) == [4, 0, 4, 5, 0])
}

/// Our own nmt_nfkc table (Foundation NFKC + NMT overrides, compiled to a double array)
/// normalises the fixture texts exactly like the table stored in the fixture model.
@Test func subwordBuiltNmtNfkcMatchesFixtureCharsmap() throws {
    let model = try SubwordFixtures.model()
    guard model.proto.normalizerSpec.name == "nmt_nfkc" else { return }
    let ours = try SentencePieceNormalizer(spec: .nmtNFKC(), userDefinedSymbols: [])
    var checked = 0
    for record in try SubwordFixtures.records() {
        for key in ["text", "rules_text"] {
            guard let text = record[key] as? String else { continue }
            #expect(Array(ours.normalize(text).utf8) == Array(model.normalize(text).utf8), "record \(record["id"] ?? "?") \(key)")
            checked += 1
        }
    }
    #expect(checked > 0)
    // Decomposed accents (e + U+0301, a + U+0341) compose, as in sentencepiece's table.
    for sample in ["  Hello   world ", "ﬁ…²①Ａ", "a\u{00A0}b\u{200B}c▁d", "x\u{0001}y", "Ｔｅｓｔ　ｘ", "Café ½ ™ ㈱", "～",
                   "Cafe\u{0301} a\u{0341} A\u{030A}"] {
        #expect(Array(ours.normalize(sample).utf8) == Array(model.normalize(sample).utf8), "\(sample)")
    }
}
