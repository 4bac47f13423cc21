import Foundation

/// The contents of a sentencepiece `.model` file (protobuf `ModelProto`, proto2), read and
/// written by hand so no protobuf library is needed.
///
/// Only the fields LMLab uses are named; every other field is kept as raw bytes and written
/// back unchanged, so `read → write` preserves a file's information.
public struct SentencePieceModelProto: Equatable, Sendable {
    /// The kind of a vocabulary entry (`ModelProto.SentencePiece.Type`).
    public enum PieceType: Int, Sendable {
        case normal = 1, unknown = 2, control = 3, userDefined = 4, unused = 5, byte = 6

        /// The lower-case protobuf name (`"user_defined"`, …), as Python prints it.
        public var name: String {
            switch self {
            case .normal: "normal"
            case .unknown: "unknown"
            case .control: "control"
            case .userDefined: "user_defined"
            case .unused: "unused"
            case .byte: "byte"
            }
        }
    }

    /// One vocabulary entry: its text (with `▁` for spaces), log-probability score and type.
    public struct Piece: Equatable, Sendable {
        public var piece: String
        public var score: Float
        public var type: PieceType
        public init(piece: String, score: Float, type: PieceType = .normal) {
            self.piece = piece
            self.score = score
            self.type = type
        }
    }

    /// Training settings (`TrainerSpec`); absent fields hold the proto2 defaults.
    public struct TrainerSpec: Equatable, Sendable {
        public var input: [String] = []
        public var modelPrefix: String = ""
        /// 1 unigram, 2 BPE, 3 word, 4 char.
        public var modelType: Int32 = 1
        public var vocabSize: Int32 = 8000
        public var characterCoverage: Float = 0.9995
        public var seedSentencepieceSize: Int32 = 1_000_000
        public var shrinkingFactor: Float = 0.75
        public var numSubIterations: Int32 = 2
        public var maxSentenceLength: Int32 = 4192
        public var maxSentencepieceLength: Int32 = 16
        public var splitByUnicodeScript = true
        public var splitByWhitespace = true
        public var splitByNumber = true
        public var treatWhitespaceAsSuffix = false
        public var splitDigits = false
        public var userDefinedSymbols: [String] = []
        public var hardVocabLimit = true
        public var byteFallback = false
        public var unkId: Int32 = 0
        public var bosId: Int32 = 1
        public var eosId: Int32 = 2
        public var padId: Int32 = -1
        public var unkSurface: String = " \u{2047} "
        /// Fields not named above, as raw key+value bytes.
        public var unknownFields: [UInt8] = []
        /// Which named fields were present in the file (proto2 `has_…`), so a rewrite
        /// emits the same set.
        public var present: Set<Int> = []
        public init() {}
    }

    /// Normalisation settings (`NormalizerSpec`).
    public struct NormalizerSpec: Equatable, Sendable {
        public var name: String = ""
        /// Darts double-array trie + replacement strings (see `PrecompiledCharsMap`).
        public var precompiledCharsmap: [UInt8] = []
        public var addDummyPrefix = true
        public var removeExtraWhitespaces = true
        public var escapeWhitespaces = true
        public var normalizationRuleTSV: String = ""
        public var unknownFields: [UInt8] = []
        public var present: Set<Int> = []
        public init() {}
    }

    public var pieces: [Piece] = []
    public var trainerSpec = TrainerSpec()
    public var normalizerSpec = NormalizerSpec()
    /// Other top-level fields (self-test data, denormalizer spec) kept verbatim.
    public var unknownFields: [UInt8] = []
    /// Whether the parsed bytes contained a trainer spec and a normalizer spec. sentencepiece
    /// always writes both after the pieces, so a file without them was cut short.
    public var hasTrainerSpec = false
    public var hasNormalizerSpec = false

    public init() {}

    // MARK: Reading

    /// Parses the wire bytes of a `ModelProto`. Errors carry no file name; callers add it.
    public init(serialized bytes: [UInt8]) throws {
        var reader = ProtobufReader(bytes: bytes)
        while !reader.isAtEnd {
            let keyStart = reader.position
            let (field, wire) = try reader.readKey()
            switch field {
            case 1:
                try reader.expect(wire, .lengthDelimited, field: field, in: "ModelProto")
                var sub = try reader.readMessage()
                pieces.append(try Self.readPiece(&sub))
            case 2:
                try reader.expect(wire, .lengthDelimited, field: field, in: "ModelProto")
                var sub = try reader.readMessage()
                trainerSpec = try Self.readTrainerSpec(&sub)
                hasTrainerSpec = true
            case 3:
                try reader.expect(wire, .lengthDelimited, field: field, in: "ModelProto")
                var sub = try reader.readMessage()
                normalizerSpec = try Self.readNormalizerSpec(&sub)
                hasNormalizerSpec = true
            default:
                unknownFields += try reader.skip(wireType: wire, keyStart: keyStart)
            }
        }
    }

    private static func readPiece(_ r: inout ProtobufReader) throws -> Piece {
        var piece = Piece(piece: "", score: 0, type: .normal)
        var sawPiece = false
        while !r.isAtEnd {
            let keyStart = r.position
            let (field, wire) = try r.readKey()
            switch field {
            case 1:
                try r.expect(wire, .lengthDelimited, field: field, in: "SentencePiece")
                piece.piece = try r.readString()
                sawPiece = true
            case 2:
                try r.expect(wire, .fixed32, field: field, in: "SentencePiece")
                piece.score = try r.readFloat()
            case 3:
                try r.expect(wire, .varint, field: field, in: "SentencePiece")
                let raw = try r.readVarint()
                guard let type = PieceType(rawValue: Int(truncatingIfNeeded: raw)), raw <= 6 else {
                    throw SentencePieceError("unknown piece type \(raw) at byte \(keyStart)")
                }
                piece.type = type
            default:
                _ = try r.skip(wireType: wire, keyStart: keyStart)
            }
        }
        guard sawPiece else { throw SentencePieceError("vocabulary entry without a piece string") }
        return piece
    }

    private static func readTrainerSpec(_ r: inout ProtobufReader) throws -> TrainerSpec {
        var spec = TrainerSpec()
        while !r.isAtEnd {
            let keyStart = r.position
            let (field, wire) = try r.readKey()
            let name = "TrainerSpec"
            switch field {
            case 1:
                try r.expect(wire, .lengthDelimited, field: field, in: name); spec.input.append(try r.readString())
            case 2:
                try r.expect(wire, .lengthDelimited, field: field, in: name); spec.modelPrefix = try r.readString()
            case 3: try r.expect(wire, .varint, field: field, in: name); spec.modelType = try r.readInt32()
            case 4: try r.expect(wire, .varint, field: field, in: name); spec.vocabSize = try r.readInt32()
            case 10: try r.expect(wire, .fixed32, field: field, in: name); spec.characterCoverage = try r.readFloat()
            case 14: try r.expect(wire, .varint, field: field, in: name); spec.seedSentencepieceSize = try r.readInt32()
            case 15: try r.expect(wire, .fixed32, field: field, in: name); spec.shrinkingFactor = try r.readFloat()
            case 17: try r.expect(wire, .varint, field: field, in: name); spec.numSubIterations = try r.readInt32()
            case 18: try r.expect(wire, .varint, field: field, in: name); spec.maxSentenceLength = try r.readInt32()
            case 20: try r.expect(wire, .varint, field: field, in: name); spec.maxSentencepieceLength = try r.readInt32()
            case 21: try r.expect(wire, .varint, field: field, in: name); spec.splitByUnicodeScript = try r.readBool()
            case 22: try r.expect(wire, .varint, field: field, in: name); spec.splitByWhitespace = try r.readBool()
            case 23: try r.expect(wire, .varint, field: field, in: name); spec.splitByNumber = try r.readBool()
            case 24: try r.expect(wire, .varint, field: field, in: name); spec.treatWhitespaceAsSuffix = try r.readBool()
            case 25: try r.expect(wire, .varint, field: field, in: name); spec.splitDigits = try r.readBool()
            case 31:
                try r.expect(wire, .lengthDelimited, field: field, in: name)
                spec.userDefinedSymbols.append(try r.readString())
            case 33: try r.expect(wire, .varint, field: field, in: name); spec.hardVocabLimit = try r.readBool()
            case 35: try r.expect(wire, .varint, field: field, in: name); spec.byteFallback = try r.readBool()
            case 40: try r.expect(wire, .varint, field: field, in: name); spec.unkId = try r.readInt32()
            case 41: try r.expect(wire, .varint, field: field, in: name); spec.bosId = try r.readInt32()
            case 42: try r.expect(wire, .varint, field: field, in: name); spec.eosId = try r.readInt32()
            case 43: try r.expect(wire, .varint, field: field, in: name); spec.padId = try r.readInt32()
            case 44:
                try r.expect(wire, .lengthDelimited, field: field, in: name); spec.unkSurface = try r.readString()
            default:
                spec.unknownFields += try r.skip(wireType: wire, keyStart: keyStart)
                continue
            }
            // Repeated fields are written whenever non-empty; only singular ones need `has`.
            if field != 1 && field != 31 { spec.present.insert(field) }
        }
        return spec
    }

    private static func readNormalizerSpec(_ r: inout ProtobufReader) throws -> NormalizerSpec {
        var spec = NormalizerSpec()
        while !r.isAtEnd {
            let keyStart = r.position
            let (field, wire) = try r.readKey()
            let name = "NormalizerSpec"
            switch field {
            case 1: try r.expect(wire, .lengthDelimited, field: field, in: name); spec.name = try r.readString()
            case 2:
                try r.expect(wire, .lengthDelimited, field: field, in: name); spec.precompiledCharsmap = try r.readBytes()
            case 3: try r.expect(wire, .varint, field: field, in: name); spec.addDummyPrefix = try r.readBool()
            case 4: try r.expect(wire, .varint, field: field, in: name); spec.removeExtraWhitespaces = try r.readBool()
            case 5: try r.expect(wire, .varint, field: field, in: name); spec.escapeWhitespaces = try r.readBool()
            case 6:
                try r.expect(wire, .lengthDelimited, field: field, in: name); spec.normalizationRuleTSV = try r.readString()
            default:
                spec.unknownFields += try r.skip(wireType: wire, keyStart: keyStart)
                continue
            }
            spec.present.insert(field)
        }
        return spec
    }

    // MARK: Writing

    /// The wire bytes of this `ModelProto`, loadable by sentencepiece itself.
    public func serialized() -> [UInt8] {
        var w = ProtobufWriter()
        for p in pieces {
            var sub = ProtobufWriter()
            sub.writeString(1, p.piece)
            sub.writeFloat(2, p.score)
            // proto2 default NORMAL is omitted, as protobuf does.
            if p.type != .normal { sub.writeUInt64(3, UInt64(p.type.rawValue)) }
            w.writeMessage(1, sub)
        }
        w.writeMessage(2, Self.write(trainerSpec))
        w.writeMessage(3, Self.write(normalizerSpec))
        w.appendRaw(unknownFields)
        return w.bytes
    }

    private static func write(_ s: TrainerSpec) -> ProtobufWriter {
        var w = ProtobufWriter()
        let has = s.present
        for input in s.input { w.writeString(1, input) }
        if has.contains(2) { w.writeString(2, s.modelPrefix) }
        if has.contains(3) { w.writeInt32(3, s.modelType) }
        if has.contains(4) { w.writeInt32(4, s.vocabSize) }
        if has.contains(10) { w.writeFloat(10, s.characterCoverage) }
        if has.contains(14) { w.writeInt32(14, s.seedSentencepieceSize) }
        if has.contains(15) { w.writeFloat(15, s.shrinkingFactor) }
        if has.contains(17) { w.writeInt32(17, s.numSubIterations) }
        if has.contains(18) { w.writeInt32(18, s.maxSentenceLength) }
        if has.contains(20) { w.writeInt32(20, s.maxSentencepieceLength) }
        if has.contains(21) { w.writeBool(21, s.splitByUnicodeScript) }
        if has.contains(22) { w.writeBool(22, s.splitByWhitespace) }
        if has.contains(23) { w.writeBool(23, s.splitByNumber) }
        if has.contains(24) { w.writeBool(24, s.treatWhitespaceAsSuffix) }
        if has.contains(25) { w.writeBool(25, s.splitDigits) }
        for symbol in s.userDefinedSymbols { w.writeString(31, symbol) }
        if has.contains(33) { w.writeBool(33, s.hardVocabLimit) }
        if has.contains(35) { w.writeBool(35, s.byteFallback) }
        if has.contains(40) { w.writeInt32(40, s.unkId) }
        if has.contains(41) { w.writeInt32(41, s.bosId) }
        if has.contains(42) { w.writeInt32(42, s.eosId) }
        if has.contains(43) { w.writeInt32(43, s.padId) }
        if has.contains(44) { w.writeString(44, s.unkSurface) }
        w.appendRaw(s.unknownFields)
        return w
    }

    private static func write(_ s: NormalizerSpec) -> ProtobufWriter {
        var w = ProtobufWriter()
        let has = s.present
        if has.contains(1) { w.writeString(1, s.name) }
        if has.contains(2) { w.writeBytes(2, s.precompiledCharsmap) }
        if has.contains(3) { w.writeBool(3, s.addDummyPrefix) }
        if has.contains(4) { w.writeBool(4, s.removeExtraWhitespaces) }
        if has.contains(5) { w.writeBool(5, s.escapeWhitespaces) }
        if has.contains(6) { w.writeString(6, s.normalizationRuleTSV) }
        w.appendRaw(s.unknownFields)
        return w
    }
}
