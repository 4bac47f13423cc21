import Foundation
import Testing
import TestSupport
@testable import Text

/// The unigram trainer, run with fastai's settings on the fixture review texts and the
/// fixture model's normaliser (nmt_nfkc charsmap).
enum SubwordTraining {
    static func corpus() throws -> [String] {
        try SubwordFixtures.records().compactMap { $0["text"] as? String }
    }

    static func train(vocabSize: Int) throws -> (SentencePieceModel, SentencePieceModel, [String]) {
        let reference = try SubwordFixtures.model()
        let texts = try corpus()
        let trainer = UnigramTrainer(options: .fastai(vocabSize: vocabSize))
        let model = try trainer.train(texts: texts, normalizer: reference.proto.normalizerSpec)
        return (model, reference, texts)
    }
}

@Test(arguments: [200, 1000])
func subwordTrainedModelHasFastaiLayout(vocabSize: Int) throws {
    let (model, _, texts) = try SubwordTraining.train(vocabSize: vocabSize)
    let symbols = UnigramTrainer.fastaiSpecialTokens.map { "\u{2581}" + $0 }
    #expect(Array(model.pieces.prefix(9)) == symbols)
    #expect(model.types.prefix(9).allSatisfy { $0 == .userDefined })
    #expect(model.unkId == 9 && model.pieces[9] == "<unk>")
    // hard_vocab_limit=false: never more than requested, possibly fewer.
    #expect(model.count <= vocabSize)
    #expect(model.count > 10)
    let normal = Array(model.scores.dropFirst(10))
    #expect(model.types.dropFirst(10).allSatisfy { $0 == .normal })
    #expect(zip(normal, normal.dropFirst()).allSatisfy { $0 >= $1 }, "scores must be sorted descending")
    #expect(normal.allSatisfy { $0 < 0 && $0.isFinite })

    // Coverage rule: a character can only be left out if its count is at most
    // (1 − coverage) × all characters.
    var counts: [Character: Int] = [:]
    var total = 0
    let maxBytes = Int(model.proto.trainerSpec.maxSentenceLength)
    for text in texts {
        // The trainer reads lines and skips those over max_sentence_length bytes.
        for line in text.split(separator: "\n") where line.utf8.count <= maxBytes {
            for c in model.normalize(String(line)).unicodeScalars {
                counts[Character(c), default: 0] += 1
                total += 1
            }
        }
    }
    let coverage = Double(model.proto.trainerSpec.characterCoverage)
    for (c, n) in counts where Double(n) > (1 - coverage) * Double(total) {
        #expect(model.vocab[String(c)] != nil, "required character \(c.unicodeScalars.map { String($0.value, radix: 16) }) missing (\(n) of \(total))")
    }

    // The model segments its own corpus into fewer pieces than characters, and decodes back.
    var pieces = 0, chars = 0
    for text in texts {
        let p = model.encodeAsPieces(text)
        pieces += p.count
        chars += model.normalize(text).count
        var expected = model.normalize(text).replacingOccurrences(of: "\u{2581}", with: " ")
        if expected.hasPrefix(" ") { expected.removeFirst() }
        #expect(model.decode(pieces: p) == expected)
    }
    #expect(pieces < chars)
}

@Test func subwordTrainedModelRoundTripsThroughWriter() throws {
    let (model, _, texts) = try SubwordTraining.train(vocabSize: 200)
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("lmlab-trained-\(UUID()).model")
    try model.write(to: url)
    defer { try? FileManager.default.removeItem(at: url) }
    let reloaded = try SentencePieceModel(contentsOf: url)
    #expect(reloaded.pieces == model.pieces)
    #expect(reloaded.scores == model.scores)
    #expect(reloaded.types == model.types)
    #expect(reloaded.proto.trainerSpec == model.proto.trainerSpec)
    #expect(reloaded.proto.normalizerSpec == model.proto.normalizerSpec)
    #expect(reloaded.proto.pieces == model.proto.pieces)
    #expect(reloaded.proto.trainerSpec.userDefinedSymbols.count == 9)
    #expect(reloaded.proto.normalizerSpec.precompiledCharsmap == model.proto.normalizerSpec.precompiledCharsmap)
    for text in texts.prefix(10) { #expect(reloaded.encodeAsIds(text) == model.encodeAsIds(text)) }
}

@Test func subwordTrainerRejectsTooSmallVocab() throws {
    let reference = try SubwordFixtures.model()
    let texts = try SubwordTraining.corpus()
    let trainer = UnigramTrainer(options: .fastai(vocabSize: 20))
    #expect(throws: SentencePieceError.self) {
        try trainer.train(texts: texts, normalizer: reference.proto.normalizerSpec)
    }
}

/// Lines over 4192 UTF-8 bytes are skipped, like sentencepiece's max_sentence_length.
@Test func subwordTrainerSkipsLongLines() throws {
    let reference = try SubwordFixtures.model()
    let long = String(repeating: "zq ", count: 1500)  // 4500 bytes, unique letters q/z pairs
    let texts = try SubwordTraining.corpus().map { $0.replacingOccurrences(of: "z", with: "") } + [long]
    let model = try UnigramTrainer(options: .fastai(vocabSize: 200))
        .train(texts: texts, normalizer: reference.proto.normalizerSpec)
    #expect(model.vocab["z"] == nil)
    #expect(!model.pieces.contains { $0.contains("z") })
}

@Test func subwordFastaiVocabSizeRule() {
    // 4 distinct words → 1 → rounded up to 8 → at least 29.
    #expect(UnigramTrainer.fastaiVocabSize(texts: ["a b c", "a\td"]) == 29)
    // 400 distinct words → 100 → 104.
    let many = (0..<400).map { "w\($0)" }.joined(separator: " ")
    #expect(UnigramTrainer.fastaiVocabSize(texts: [many]) == 104)
    // A quarter of the distinct words above the maximum → the maximum.
    #expect(UnigramTrainer.fastaiVocabSize(texts: [many], maxVocabSize: 50) == 50)
}

@Test func subwordDigammaMatchesKnownValues() {
    // ψ(1) = −γ, ψ(10) = H₉ − γ; the asymptotic series is accurate to ~1e-12 here.
    let gamma = 0.5772156649015329
    #expect(abs(UnigramTrainer.digamma(1) + gamma) < 1e-10)
    let h9 = (1...9).reduce(0.0) { $0 + 1 / Double($1) }
    #expect(abs(UnigramTrainer.digamma(10) - (h9 - gamma)) < 1e-10)
}
