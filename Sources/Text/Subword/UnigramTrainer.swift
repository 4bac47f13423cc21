import Foundation

/// Trains a sentencepiece-style unigram model from raw text, following sentencepiece's
/// `unigram_model_trainer` algorithm: normalise, choose required characters by coverage,
/// seed the vocabulary with frequent substrings, then alternate EM (with a digamma-based
/// M-step) and loss-based pruning until the vocabulary is about 1.1 × the target, and keep
/// the best pieces.
///
///     let options = UnigramTrainer.Options.fastai(vocabSize: 1000)
///     let model = try UnigramTrainer(options: options).train(texts: reviews, normalizer: .nmtNFKC())
///     try model.write(to: url)
///
/// The result is not bit-identical to sentencepiece's trainer (its multi-threaded float sums
/// and its suffix-array seed order differ) but follows the same steps.
public struct UnigramTrainer: Sendable {
    /// Trainer settings; defaults are sentencepiece's.
    public struct Options: Sendable {
        public var vocabSize: Int
        public var characterCoverage: Float = 0.9995
        public var userDefinedSymbols: [String] = []
        public var unkId = 0
        public var bosId = 1
        public var eosId = 2
        public var padId = -1
        /// When false the final vocabulary may be smaller than `vocabSize`.
        public var hardVocabLimit = true
        /// Input lines longer than this many UTF-8 bytes are skipped.
        public var maxSentenceLength = 4192
        public var maxPieceLength = 16
        public var seedSentencepieceSize = 1_000_000
        public var shrinkingFactor: Float = 0.75
        public var numSubIterations = 2

        public init(vocabSize: Int) { self.vocabSize = vocabSize }

        /// fastai's `SubwordTokenizer` settings: unigram, `unk_id=9`, no bos/eos/pad, the nine
        /// special tokens prefixed with `▁` as user-defined symbols (ids 0–8),
        /// `hard_vocab_limit=false`, coverage 0.99999 (`en`) or 0.9998.
        public static func fastai(vocabSize: Int, characterCoverage: Float = 0.99999) -> Options {
            var o = Options(vocabSize: vocabSize)
            o.characterCoverage = characterCoverage
            o.unkId = 9
            o.bosId = -1
            o.eosId = -1
            o.padId = -1
            o.hardVocabLimit = false
            o.userDefinedSymbols = fastaiSpecialTokens.map { "\u{2581}" + $0 }
            return o
        }
    }

    /// fastai's special tokens in id order.
    public static let fastaiSpecialTokens = ["xxunk", "xxpad", "xxbos", "xxeos", "xxfld", "xxrep",
                                             "xxwrep", "xxup", "xxmaj"]

    /// fastai's vocabulary size when `vocab_sz` is None: a quarter of the distinct
    /// whitespace-separated words (Python `str.split()`), rounded up to a multiple of 8, at
    /// least 29; `maxVocabSize` as soon as a quarter of the distinct words so far exceeds it.
    public static func fastaiVocabSize(texts: [String], maxVocabSize: Int = 30000) -> Int {
        var words = Set<Substring>()
        for text in texts {
            // fastai writes each text plus "\n" and reads it back line by line.
            for line in text.split(omittingEmptySubsequences: false, whereSeparator: isPythonLineBreak) {
                for word in line.split(whereSeparator: isPythonSpace) { words.insert(word) }
                if words.count / 4 > maxVocabSize { return maxVocabSize }
            }
        }
        var r = words.count / 4
        while r % 8 != 0 { r += 1 }
        return max(r, 29)
    }

    /// Python `str.isspace()` (29 code points).
    static func isPythonSpace(_ c: Character) -> Bool {
        c.unicodeScalars.allSatisfy { s in
            switch s.value {
            case 0x09...0x0D, 0x1C...0x20, 0x85, 0xA0, 0x1680, 0x2000...0x200A, 0x2028, 0x2029, 0x202F,
                 0x205F, 0x3000: true
            default: false
            }
        }
    }

    /// Python's universal-newline line ends when reading a text file.
    static func isPythonLineBreak(_ c: Character) -> Bool { c == "\n" || c == "\r" || c == "\r\n" }

    public var options: Options

    public init(options: Options) { self.options = options }

    static let unknownChar: UInt32 = 0x2585  // ▅ stands for characters outside the alphabet
    static let boundary: UInt32 = 0x09      // tab marks where a meta piece was removed
    static let spaceSymbol: UInt32 = 0x2581

    /// Trains on `texts` (each split into lines at `\n`, as sentencepiece reads its input
    /// file) using `normalizer` (typically the `nmt_nfkc` spec of an existing model).
    public func train(texts: [String], normalizer spec: SentencePieceModelProto.NormalizerSpec) throws -> SentencePieceModel {
        let o = options
        guard o.vocabSize > 0 else { throw SentencePieceError("vocab size must be positive, got \(o.vocabSize)") }
        guard spec.escapeWhitespaces else { throw SentencePieceError("unigram training needs escape_whitespaces") }
        let meta = try metaPieces()

        // 1. Load and normalise sentences; meta pieces become boundaries.
        let normalizer = try SentencePieceNormalizer(spec: spec, userDefinedSymbols: [])
        let metaMatcher = PieceTrie(meta.values.map { (Array($0.piece.utf8), 0) })
        var sentences: [[UInt32]] = []
        var normalized: [UInt8] = []
        for text in texts {
            for line in text.split(separator: "\n", omittingEmptySubsequences: true) {
                var line = String(line)
                if line.utf8.count > o.maxSentenceLength || line.unicodeScalars.contains(where: { $0.value == Self.unknownChar }) {
                    continue
                }
                line.withUTF8 { normalizer.normalize($0, into: &normalized) }
                let chars = Self.replacingMeta(normalized, metaMatcher)
                if !chars.isEmpty { sentences.append(chars) }
            }
        }
        guard !sentences.isEmpty else { throw SentencePieceError("no usable training sentences (all empty or longer than \(o.maxSentenceLength) bytes)") }

        // 2. Required characters: most frequent first until the coverage is reached.
        var charCount: [UInt32: Int] = [:]
        var allChars = 0
        for s in sentences { for c in s { charCount[c, default: 0] += 1; allChars += 1 } }
        var required: [UInt32: Int] = [:]
        var requiredOrder: [(UInt32, Int)] = []
        var accumulated = 0
        for (c, n) in charCount.sorted(by: { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }) {
            let coverage = Double(accumulated) / Double(allChars)
            if coverage >= Double(o.characterCoverage) { break }
            accumulated += n
            if c == Self.boundary { continue }
            required[c] = n
            requiredOrder.append((c, n))
        }
        guard required.count + meta.count <= o.vocabSize else {
            throw SentencePieceError("vocab size \(o.vocabSize) is smaller than the \(required.count) required characters + \(meta.count) meta pieces; raise the vocab size or lower the character coverage")
        }
        for i in sentences.indices {
            for k in sentences[i].indices where required[sentences[i][k]] == nil && sentences[i][k] != Self.boundary {
                sentences[i][k] = Self.unknownChar
            }
        }

        // 3. Words (cut before each ▁), merged with frequencies, most frequent first.
        var wordFreq: [[UInt32]: Int] = [:]
        for s in sentences {
            var start = 0
            for k in 1...s.count where k == s.count || s[k] == Self.spaceSymbol {
                wordFreq[Array(s[start..<k]), default: 0] += 1
                start = k
            }
        }
        let words = wordFreq.map { (chars: $0.key, freq: $0.value) }
            .sorted { $0.freq != $1.freq ? $0.freq > $1.freq : $0.chars.lexicographicallyPrecedes($1.chars) }

        // 4. Seed pieces, then EM + pruning.
        var model = TrainingModel(pieces: seedPieces(words: words))
        let wordBytes = words.map { (bytes: Array(String(String.UnicodeScalarView($0.chars.compactMap(Unicode.Scalar.init))).utf8), freq: $0.freq) }
        let desired = Int(Double(o.vocabSize) * 1.1)
        while true {
            for _ in 0..<max(1, o.numSubIterations) {
                let expected = model.expectedCounts(words: wordBytes)
                model = TrainingModel(pieces: Self.mStep(model.pieces, expected))
            }
            if model.pieces.count <= desired { break }
            let pruned = prune(model, words: wordBytes, desired: desired)
            if pruned.count >= model.pieces.count { break }  // no progress possible
            model = TrainingModel(pieces: pruned)
        }

        // 5. Final vocabulary and model file.
        let final = finalize(model, required: requiredOrder, metaCount: meta.count)
        if o.hardVocabLimit && final.count + meta.count != o.vocabSize {
            throw SentencePieceError("vocabulary size \(o.vocabSize) is too high for this corpus (only \(final.count + meta.count) pieces); use a smaller size or hardVocabLimit = false")
        }
        return try SentencePieceModel(proto: makeProto(final: final, meta: meta, normalizer: spec))
    }

    // MARK: Steps

    /// Reserved pieces by id: unk/bos/eos/pad at their ids, then user-defined symbols in
    /// the lowest free ids.
    func metaPieces() throws -> [Int: SentencePieceModelProto.Piece] {
        let o = options
        var meta: [Int: SentencePieceModelProto.Piece] = [:]
        func reserve(_ id: Int, _ piece: String, _ type: SentencePieceModelProto.PieceType) throws {
            guard id >= 0 else { return }
            guard meta[id] == nil else { throw SentencePieceError("id \(id) is given to both \(meta[id]!.piece) and \(piece)") }
            meta[id] = .init(piece: piece, score: 0, type: type)
        }
        guard o.unkId >= 0 else { throw SentencePieceError("unk_id must be set (got \(o.unkId))") }
        try reserve(o.unkId, "<unk>", .unknown)
        try reserve(o.bosId, "<s>", .control)
        try reserve(o.eosId, "</s>", .control)
        try reserve(o.padId, "<pad>", .control)
        var next = 0
        var seen = Set(meta.values.map(\.piece))
        for symbol in o.userDefinedSymbols {
            guard !symbol.isEmpty, seen.insert(symbol).inserted else {
                throw SentencePieceError("user-defined symbol '\(symbol)' is empty or repeated")
            }
            while meta[next] != nil { next += 1 }
            meta[next] = .init(piece: symbol, score: 0, type: .userDefined)
        }
        return meta
    }

    /// Replaces every (longest-matching) meta piece in a normalised sentence by a tab.
    static func replacingMeta(_ normalized: [UInt8], _ matcher: PieceTrie) -> [UInt32] {
        var out: [UInt8] = []
        out.reserveCapacity(normalized.count)
        normalized.withUnsafeBufferPointer { s in
            var i = 0
            while i < s.count {
                let n = matcher.longestPrefix(s, from: i, to: s.count)
                if n > 0 { out.append(0x09); i += n; continue }
                let len = min(SentencePieceNormalizer.oneCharLength(s[i]), s.count - i)
                out.append(contentsOf: s[i..<(i + len)])
                i += len
            }
        }
        return String(decoding: out, as: UTF8.self).unicodeScalars.map(\.value)
    }

    /// sentencepiece's `IsValidSentencePiece` for default options: 1…maxPieceLength chars,
    /// no ▅/NUL/tab/space, ▁ only first, a single script (ignoring ▁).
    func isValidPiece<C: Collection>(_ chars: C) -> Bool where C.Element == UInt32 {
        if chars.isEmpty || chars.count > options.maxPieceLength { return false }
        var previous: UnicodeScript?
        for (pos, c) in chars.enumerated() {
            if c == Self.unknownChar || c == 0 || c == Self.boundary || c == 0x20 { return false }
            if c == Self.spaceSymbol {
                if pos > 0 { return false }
                continue
            }
            var script = UnicodeScript(c)
            if script == .inherited { script = previous ?? .inherited }
            if let previous, previous != script { return false }
            previous = script
        }
        return true
    }

    /// Seed vocabulary: every character with its count, plus the most frequent repeated
    /// substrings (score = frequency × length) that are valid pieces. Like the suffix-tree
    /// enumeration in sentencepiece, only right-branching substrings are kept (a substring
    /// always followed by the same character is represented by its longer form).
    /// Scores are turned into log probabilities.
    func seedPieces(words: [(chars: [UInt32], freq: Int)]) -> [(String, Float)] {
        struct Stat { var count = 0; var follower: UInt32 = 0; var branches = false }
        var singles: [UInt32: Int] = [:]
        var stats: [[UInt32]: Stat] = [:]
        let endOfWord = UInt32.max
        for (chars, freq) in words {
            for c in chars where c != Self.unknownChar && c != Self.boundary { singles[c, default: 0] += freq }
            for start in chars.indices {
                var length = 2
                while start + length <= chars.count && length <= options.maxPieceLength {
                    let piece = chars[start..<(start + length)]
                    if !isValidPiece(piece) { break }
                    let follower = start + length < chars.count ? chars[start + length] : endOfWord
                    let key = Array(piece)
                    var stat = stats[key] ?? Stat(count: 0, follower: follower, branches: false)
                    stat.count += freq
                    if stat.follower != follower { stat.branches = true }
                    stats[key] = stat
                    length += 1
                }
            }
        }
        func string(_ chars: [UInt32]) -> String {
            String(String.UnicodeScalarView(chars.compactMap(Unicode.Scalar.init)))
        }
        var seeds: [(String, Float)] = singles
            .sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
            .map { (string([$0.key]), Float($0.value)) }
        let substrings = stats.filter { $0.value.count >= 2 && $0.value.branches }
            .map { (key: $0.key, score: $0.value.count * $0.key.count) }
            .sorted { $0.score != $1.score ? $0.score > $1.score : $0.key.lexicographicallyPrecedes($1.key) }
            .prefix(options.seedSentencepieceSize)
        seeds += substrings.map { (string($0.key), Float($0.score)) }
        let logSum = Float(log(Double(seeds.reduce(Float(0)) { $0 + $1.1 })))
        return seeds.map { ($0.0, Float(log(Double($0.1))) - logSum) }
    }

    /// M-step: drop pieces expected less than 0.5 times; score = ψ(count) − ψ(Σ counts).
    static func mStep(_ pieces: [(String, Float)], _ expected: [Double]) -> [(String, Float)] {
        var kept: [(String, Double)] = []
        var sum = 0.0
        for (k, piece) in pieces.enumerated() where expected[k] >= 0.5 {
            kept.append((piece.0, expected[k]))
            sum += expected[k]
        }
        let logSum = digamma(sum)
        return kept.map { ($0.0, Float(digamma($0.1) - logSum)) }
    }

    /// The digamma function ψ, by recurrence up to x ≥ 7 and an asymptotic series.
    static func digamma(_ x: Double) -> Double {
        var x = x
        var result = 0.0
        while x < 7 { result -= 1 / x; x += 1 }
        x -= 0.5
        let xx = 1 / x, xx2 = xx * xx, xx4 = xx2 * xx2
        result += log(x) + xx2 / 24 - 7.0 / 960 * xx4 + 31.0 / 8064 * xx4 * xx2 - 127.0 / 30720 * xx4 * xx4
        return result
    }

    /// Removes the pieces whose loss (how much the corpus likelihood drops when the piece is
    /// replaced by its second-best segmentation) is smallest, shrinking to
    /// max(desired, shrinkingFactor × size).
    func prune(_ model: TrainingModel, words: [(bytes: [UInt8], freq: Int)], desired: Int) -> [(String, Float)] {
        let n = model.pieces.count
        var alwaysKeep = [Bool](repeating: true, count: n)
        var alternatives = [[Int]](repeating: [], count: n)
        for k in 0..<n {
            let bytes = Array(model.pieces[k].0.utf8)
            if model.pieces[k].0.unicodeScalars.count == 1 { continue }
            let best = model.viterbi(bytes, excluding: nil)
            if best.count >= 2 {
                alwaysKeep[k] = false
            } else {
                alternatives[k] = model.viterbi(bytes, excluding: k).filter { $0 >= 0 }
            }
        }
        var freq = [Double](repeating: 0, count: n)
        var totalFreq = 0.0
        for (bytes, f) in words {
            totalFreq += Double(f)
            for id in model.viterbi(bytes, excluding: nil) where id >= 0 { freq[id] += Double(f) }
        }
        let sum = freq.reduce(0, +)
        let logSum = log(sum)
        var kept: [(String, Float)] = []
        var candidates: [(Int, Double)] = []
        for k in 0..<n {
            if freq[k] == 0 || !alwaysKeep[k] { continue }
            if alternatives[k].isEmpty { kept.append(model.pieces[k]); continue }
            // Every word occurrence that uses piece k adds its frequency: F = freq_k / Σ freq.
            let share = freq[k] / totalFreq
            let logProb = log(freq[k]) - logSum
            let logSumAlt = log(sum + freq[k] * Double(alternatives[k].count - 1))
            var logProbAlt = 0.0
            for j in alternatives[k] { logProbAlt += log(freq[j] + freq[k]) - logSumAlt }
            candidates.append((k, share * (logProb - logProbAlt)))
        }
        let target = max(desired, Int(Double(options.shrinkingFactor) * Double(n)))
        for (k, _) in candidates.sorted(by: { $0.1 != $1.1 ? $0.1 > $1.1 : $0.0 < $1.0 }) {
            if kept.count >= target { break }
            kept.append(model.pieces[k])
        }
        return kept
    }

    /// Required characters first (trained score, or just above the minimum if training
    /// dropped them), then the best-scoring pieces up to vocabSize − meta; sorted by score.
    func finalize(_ model: TrainingModel, required: [(UInt32, Int)], metaCount: Int) -> [(String, Float)] {
        var scores: [String: Float] = [:]
        for (piece, score) in model.pieces { scores[piece] = score }
        var final: [String: Float] = [:]
        var penalty: Float = 0
        for (c, _) in required {
            let s = String(Unicode.Scalar(c).map(Character.init) ?? "\u{FFFD}")
            if let score = scores[s] {
                final[s] = score
            } else {
                final[s] = model.minScore + penalty
                penalty += 0.0001
            }
        }
        let limit = options.vocabSize - metaCount
        for (piece, score) in Self.sortedByScore(model.pieces) where final[piece] == nil {
            if final.count >= limit { break }
            final[piece] = score
        }
        return Self.sortedByScore(final.map { ($0.key, $0.value) })
    }

    /// Descending score, ties by piece bytes ascending (sentencepiece's `Sorted`).
    static func sortedByScore(_ pieces: [(String, Float)]) -> [(String, Float)] {
        pieces.sorted { $0.1 != $1.1 ? $0.1 > $1.1 : Array($0.0.utf8).lexicographicallyPrecedes(Array($1.0.utf8)) }
    }

    func makeProto(final: [(String, Float)], meta: [Int: SentencePieceModelProto.Piece],
                   normalizer: SentencePieceModelProto.NormalizerSpec) -> SentencePieceModelProto {
        let o = options
        var proto = SentencePieceModelProto()
        var next = final.makeIterator()
        var placedMeta = 0
        var id = 0
        var finalLeft = final.count
        while placedMeta < meta.count || finalLeft > 0 {
            if let m = meta[id] {
                proto.pieces.append(m)
                placedMeta += 1
            } else if let (piece, score) = next.next() {
                proto.pieces.append(.init(piece: piece, score: score, type: .normal))
                finalLeft -= 1
            } else {
                // Ran out of pieces below a reserved id: mark the gap as unused.
                proto.pieces.append(.init(piece: "<unused\(id)>", score: 0, type: .unused))
            }
            id += 1
        }
        var t = SentencePieceModelProto.TrainerSpec()
        t.modelType = 1
        t.vocabSize = Int32(o.vocabSize)
        t.characterCoverage = o.characterCoverage
        t.userDefinedSymbols = o.userDefinedSymbols
        t.hardVocabLimit = o.hardVocabLimit
        t.unkId = Int32(o.unkId)
        t.bosId = Int32(o.bosId)
        t.eosId = Int32(o.eosId)
        t.padId = Int32(o.padId)
        t.maxSentenceLength = Int32(o.maxSentenceLength)
        t.present = [3, 4, 10, 18, 33, 40, 41, 42, 43]
        proto.trainerSpec = t
        proto.normalizerSpec = normalizer
        proto.normalizerSpec.present.formUnion([1, 3, 4, 5])
        if !normalizer.precompiledCharsmap.isEmpty { proto.normalizerSpec.present.insert(2) }
        proto.hasTrainerSpec = true
        proto.hasNormalizerSpec = true
        return proto
    }
}
