import Foundation
import Files
import Tensor

/// A sentencepiece unigram model: loads a `.model` file and encodes text exactly as
/// sentencepiece's `EncodeAsPieces` / `EncodeAsIds` do.
///
///     let sp = try SentencePieceModel(contentsOf: url)
///     sp.encodeAsPieces("Hello world")   // ["▁Hello", "▁world"]
///     sp.decode(pieces: ["▁Hello", "▁world"])  // "Hello world"
public struct SentencePieceModel: Sendable {
    public typealias PieceType = SentencePieceModelProto.PieceType

    /// The parsed file contents.
    public let proto: SentencePieceModelProto
    /// Piece strings by id.
    public let pieces: [String]
    /// Piece scores (log probabilities) by id.
    public let scores: [Float]
    /// Piece types by id.
    public let types: [PieceType]
    /// Piece string → id, for normal, user-defined, unused and meta pieces.
    public let vocab: [String: Int]
    /// Id of the `<unk>` piece.
    public let unkId: Int

    let normalizer: SentencePieceNormalizer
    let trie: PieceTrie
    /// `EdgeKind` of each id, read in the Viterbi loop.
    let edgeKinds: [UInt8]
    /// Smallest/largest score over NORMAL pieces; the largest starts at FLT_MIN as in
    /// sentencepiece, so with negative scores it stays ≈ 0.
    let minScore: Float
    let maxScore: Float
    /// Score given to a one-character unknown edge.
    var unkScore: Float { minScore - 10 }

    /// Loads a `.model` file. Errors name the file.
    public init(contentsOf url: URL) throws {
        let name = url.lastPathComponent
        let data: Data
        do { data = try FileErrors.contents(of: url) } catch {
            throw SentencePieceError("\(error)")   // already "cannot read PATH: REASON"
        }
        try self.init(serialized: [UInt8](data), source: name)
    }

    /// Parses the bytes of a `.model` file; `source` names it in errors.
    public init(serialized bytes: [UInt8], source: String? = nil) throws {
        let hint = " (not a sentencepiece model, or the file is damaged)"
        guard !bytes.isEmpty else { throw SentencePieceError("empty file" + hint, source: source) }
        let proto: SentencePieceModelProto
        do { proto = try SentencePieceModelProto(serialized: bytes) } catch let error as SentencePieceError {
            throw SentencePieceError(error.message + hint, source: source)
        }
        guard proto.hasTrainerSpec, proto.hasNormalizerSpec else {
            let missing = proto.hasTrainerSpec ? "normalizer_spec" : "trainer_spec"
            throw SentencePieceError("no \(missing) after \(proto.pieces.count) pieces" + hint, source: source)
        }
        do { try self.init(proto: proto) } catch let error as SentencePieceError {
            throw SentencePieceError(error.message + hint, source: source)
        }
    }

    /// Builds an encoder from an in-memory model.
    public init(proto: SentencePieceModelProto) throws {
        guard !proto.pieces.isEmpty else { throw SentencePieceError("model has no pieces") }
        guard proto.trainerSpec.modelType == 1 else {
            throw SentencePieceError("model type \(proto.trainerSpec.modelType) is not unigram (1)")
        }
        self.proto = proto
        pieces = proto.pieces.map(\.piece)
        scores = proto.pieces.map(\.score)
        types = proto.pieces.map(\.type)
        var vocab: [String: Int] = [:]
        var unk: Int?
        var userDefined: [String] = []
        var trieEntries: [([UInt8], Int)] = []
        var minScore = Float.greatestFiniteMagnitude
        var maxScore = Float.leastNormalMagnitude
        for (id, p) in proto.pieces.enumerated() {
            guard !p.piece.isEmpty else { throw SentencePieceError("piece \(id) is empty") }
            guard vocab[p.piece] == nil else { throw SentencePieceError("piece '\(p.piece)' is defined twice (ids \(vocab[p.piece]!) and \(id))") }
            vocab[p.piece] = id
            switch p.type {
            case .normal:
                minScore = min(minScore, p.score)
                maxScore = max(maxScore, p.score)
                trieEntries.append((Array(p.piece.utf8), id))
            case .userDefined:
                userDefined.append(p.piece)
                trieEntries.append((Array(p.piece.utf8), id))
            case .unused:
                trieEntries.append((Array(p.piece.utf8), id))
            case .unknown:
                guard unk == nil else { throw SentencePieceError("more than one unknown piece (ids \(unk!) and \(id))") }
                unk = id
            case .control, .byte:
                break
            }
        }
        guard let unk else { throw SentencePieceError("model has no unknown (<unk>) piece") }
        self.vocab = vocab
        unkId = unk
        self.minScore = minScore
        self.maxScore = maxScore
        trie = PieceTrie(trieEntries)
        edgeKinds = proto.pieces.map {
            switch $0.type {
            case .userDefined: EdgeKind.userDefined
            case .unused: EdgeKind.unused
            default: EdgeKind.normal
            }
        }
        normalizer = try SentencePieceNormalizer(spec: proto.normalizerSpec,
                                                 treatWhitespaceAsSuffix: proto.trainerSpec.treatWhitespaceAsSuffix,
                                                 userDefinedSymbols: userDefined)
    }

    /// Number of pieces.
    public var count: Int { pieces.count }

    /// The id of a piece string (`<unk>`'s id when unknown), like `PieceToId`.
    public func id(of piece: String) -> Int { vocab[piece] ?? unkId }

    /// sentencepiece's normalised form of `text` (charsmap, whitespace, `▁`).
    public func normalize(_ text: String) -> String { normalizer.normalize(text) }

    /// Saves the model as a `.model` file that sentencepiece can load.
    public func write(to url: URL) throws {
        do { try Data(proto.serialized()).write(to: url) } catch {
            throw SentencePieceError("cannot write model (\(error.localizedDescription))", source: url.path)
        }
    }

    // MARK: Encoding

    /// Segments `text` into pieces, like `EncodeAsPieces`.
    public func encodeAsPieces(_ text: String) -> [String] { encode(text).map(\.piece) }

    /// Segments `text` into piece ids, like `EncodeAsIds`.
    public func encodeAsIds(_ text: String) -> [Int] {
        var text = text
        var normalized: [UInt8] = []
        text.withUTF8 { normalizer.normalize($0, into: &normalized) }
        let path = normalized.withUnsafeBufferPointer { viterbi($0) }
        var ids: [Int] = []
        ids.reserveCapacity(path.count)
        for (_, id) in path where !(id == unkId && ids.last == unkId) { ids.append(id) }
        return ids
    }

    /// Segments `text` into (piece, id) pairs. Consecutive unknown characters are merged into
    /// one `<unk>`-id piece whose text is the characters themselves.
    public func encode(_ text: String) -> [(piece: String, id: Int)] {
        var text = text
        var normalized: [UInt8] = []
        text.withUTF8 { normalizer.normalize($0, into: &normalized) }
        return normalized.withUnsafeBufferPointer { s in
            let path = viterbi(s)
            var result: [(piece: String, id: Int)] = []
            result.reserveCapacity(path.count)
            var k = 0
            while k < path.count {
                let (start, id) = path[k]
                var end = k + 1 < path.count ? path[k + 1].start : s.count
                var next = k + 1
                if id == unkId {
                    while next < path.count, path[next].id == unkId {
                        next += 1
                        end = next < path.count ? path[next].start : s.count
                    }
                }
                result.append((String(decoding: UnsafeBufferPointer(rebasing: s[start..<end]), as: UTF8.self), id))
                k = next
            }
            return result
        }
    }

    /// The best segmentation of normalised bytes `s`: (start byte, id) of each piece in order.
    ///
    /// Follows sentencepiece's optimised Viterbi: positions are UTF-8 byte offsets, path
    /// scores are summed and compared in Float32 (Double sums pick a different path on
    /// near-ties, e.g. "zzz" on a model trained from the fixture texts, checked against
    /// sentencepiece 0.2.3), and a tie keeps the edge found first, i.e. the one starting
    /// earliest. A user-defined piece scores `length·maxScore − 0.1` so it always wins.
    func viterbi(_ s: UnsafeBufferPointer<UInt8>) -> [(start: Int, id: Int)] {
        let size = s.count
        if size == 0 { return [] }
        // Best path ending at each byte position: its score, where its last piece starts
        // (-1 = not reached yet) and that piece's id.
        var bestScore = [Float](repeating: 0, count: size + 1)
        var bestStart = [Int32](repeating: -1, count: size + 1)
        var bestId = [Int32](repeating: -1, count: size + 1)
        let unkScore = self.unkScore
        let maxScore = self.maxScore
        let unkId = Int32(self.unkId)
        bestScore.withUnsafeMutableBufferPointer { bestScore in
        bestStart.withUnsafeMutableBufferPointer { bestStart in
        bestId.withUnsafeMutableBufferPointer { bestId in
        scores.withUnsafeBufferPointer { scores in
        edgeKinds.withUnsafeBufferPointer { kinds in
        trie.withView { trie in
            var start = 0
            while start < size {
                let here = bestScore[start]
                let charLength = min(SentencePieceNormalizer.oneCharLength(s[start]), size - start)
                var hasSingleChar = false
                var node = 0
                var pos = start
                while pos < size {
                    node = trie.child(node, s[pos])
                    if node < 0 { break }
                    pos += 1
                    let id = trie.value(node)
                    if id < 0 { continue }
                    let kind = kinds[id]
                    if kind == EdgeKind.unused { continue }
                    let length = pos - start
                    let edge: Float = kind == EdgeKind.userDefined
                        ? Float(Double(Float(length) * maxScore) - 0.1)
                        : scores[id]
                    let candidate = edge + here
                    if bestStart[pos] == -1 || candidate > bestScore[pos] {
                        bestScore[pos] = candidate
                        bestStart[pos] = Int32(start)
                        bestId[pos] = Int32(id)
                    }
                    if length == charLength { hasSingleChar = true }
                }
                if !hasSingleChar {
                    let target = start + charLength
                    let candidate = unkScore + here
                    if bestStart[target] == -1 || candidate > bestScore[target] {
                        bestScore[target] = candidate
                        bestStart[target] = Int32(start)
                        bestId[target] = unkId
                    }
                }
                start += charLength
            }
        }
        }
        }
        }
        }
        }
        var path: [(start: Int, id: Int)] = []
        var end = size
        while end > 0 {
            let start = Int(bestStart[end])
            path.append((start, Int(bestId[end])))
            end = start
        }
        path.reverse()
        return path
    }

    /// How a trie match is scored in the Viterbi.
    enum EdgeKind {
        static let normal: UInt8 = 0
        static let userDefined: UInt8 = 1
        static let unused: UInt8 = 2
    }

    // MARK: Decoding

    /// Joins pieces back into text, like `DecodePieces`: `▁` becomes a space, the dummy-prefix
    /// space is dropped, `<unk>` becomes the unknown surface (` ⁇ `).
    public func decode(pieces: [String]) -> String {
        decode(pieces.map { ($0, id(of: $0)) })
    }

    /// Decodes ids, like `DecodeIds`. Out-of-range ids decode to the unknown surface.
    public func decode(ids: [Int]) -> String {
        decode(ids.map { ($0 >= 0 && $0 < pieces.count ? pieces[$0] : pieces[unkId], $0 >= 0 && $0 < pieces.count ? $0 : unkId) })
    }

    private func decode(_ items: [(piece: String, id: Int)]) -> String {
        let spec = proto.normalizerSpec
        let stripLeading = spec.addDummyPrefix || spec.removeExtraWhitespaces
        var text = ""
        var isBosSpace = true
        var sawBosSpace = false
        for (piece, id) in items {
            let type = types[id]
            if sawBosSpace || !text.isEmpty { isBosSpace = false }
            if type == .control { sawBosSpace = false; continue }
            if type == .unknown {
                text += piece == pieces[id] ? proto.trainerSpec.unkSurface : piece
                sawBosSpace = false
                continue
            }
            var body = Substring(piece)
            sawBosSpace = false
            if isBosSpace && stripLeading && !proto.trainerSpec.treatWhitespaceAsSuffix, body.hasPrefix("\u{2581}") {
                body = body.dropFirst()
                // With remove_extra_whitespaces every leading space is dropped.
                sawBosSpace = !spec.removeExtraWhitespaces
            }
            text += body.replacingOccurrences(of: "\u{2581}", with: " ")
        }
        return text
    }
}
