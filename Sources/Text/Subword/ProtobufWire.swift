import Foundation

/// Reads the protobuf wire format (only what sentencepiece's `ModelProto` needs).
///
/// Every length is checked against the bytes that remain, so a damaged file gives an
/// error instead of a crash or a huge allocation.
struct ProtobufReader {
    /// Wire types of the protobuf encoding.
    enum WireType: Int {
        case varint = 0, fixed64 = 1, lengthDelimited = 2, startGroup = 3, endGroup = 4, fixed32 = 5
    }

    let bytes: [UInt8]
    private(set) var position: Int
    let end: Int

    init(bytes: [UInt8]) {
        self.init(bytes: bytes, range: 0..<bytes.count)
    }

    init(bytes: [UInt8], range: Range<Int>) {
        self.bytes = bytes
        self.position = range.lowerBound
        self.end = range.upperBound
    }

    var isAtEnd: Bool { position >= end }

    mutating func readVarint() throws -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        let start = position
        while true {
            guard position < end else {
                throw SentencePieceError("truncated varint at byte \(start)")
            }
            let byte = bytes[position]
            position += 1
            // The tenth byte may only carry the top bit of a 64-bit value.
            guard shift < 64, shift < 63 || byte <= 1 else {
                throw SentencePieceError("varint longer than 10 bytes at byte \(start)")
            }
            result |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return result }
            shift += 7
        }
    }

    /// Reads a field key; returns the field number and wire type.
    mutating func readKey() throws -> (field: Int, wireType: WireType) {
        let start = position
        let key = try readVarint()
        guard let wireType = WireType(rawValue: Int(key & 7)) else {
            throw SentencePieceError("invalid wire type \(key & 7) at byte \(start)")
        }
        let field = key >> 3
        guard field >= 1, field < (1 << 29) else {
            throw SentencePieceError("invalid field number \(field) at byte \(start)")
        }
        return (Int(field), wireType)
    }

    /// Reads a length prefix and returns the byte range of the payload, advancing past it.
    mutating func readLengthDelimited() throws -> Range<Int> {
        let start = position
        let length = try readVarint()
        guard length <= UInt64(end - position) else {
            throw SentencePieceError("length \(length) at byte \(start) runs past the end of its message")
        }
        let range = position..<(position + Int(length))
        position = range.upperBound
        return range
    }

    mutating func readFixed32() throws -> UInt32 {
        guard end - position >= 4 else {
            throw SentencePieceError("truncated 32-bit value at byte \(position)")
        }
        var value: UInt32 = 0
        for k in 0..<4 { value |= UInt32(bytes[position + k]) << (8 * UInt32(k)) }
        position += 4
        return value
    }

    mutating func readFloat() throws -> Float { Float(bitPattern: try readFixed32()) }

    /// proto2 `int32`: negative values are sent as 64-bit two's complement varints.
    mutating func readInt32() throws -> Int32 { Int32(truncatingIfNeeded: try readVarint()) }

    mutating func readBool() throws -> Bool { try readVarint() != 0 }

    mutating func readString() throws -> String {
        let range = try readLengthDelimited()
        guard let text = String(validating: bytes[range], as: UTF8.self) else {
            throw SentencePieceError("string at byte \(range.lowerBound) is not valid UTF-8")
        }
        return text
    }

    mutating func readBytes() throws -> [UInt8] { Array(bytes[try readLengthDelimited()]) }

    /// A reader over an embedded message.
    mutating func readMessage() throws -> ProtobufReader {
        ProtobufReader(bytes: bytes, range: try readLengthDelimited())
    }

    /// Skips a field's value; returns the raw bytes of key + value so unknown fields survive a rewrite.
    mutating func skip(wireType: WireType, keyStart: Int) throws -> ArraySlice<UInt8> {
        switch wireType {
        case .varint: _ = try readVarint()
        case .fixed64:
            guard end - position >= 8 else { throw SentencePieceError("truncated 64-bit value at byte \(position)") }
            position += 8
        case .lengthDelimited: _ = try readLengthDelimited()
        case .fixed32: _ = try readFixed32()
        case .startGroup, .endGroup:
            throw SentencePieceError("unsupported group field at byte \(keyStart)")
        }
        return bytes[keyStart..<position]
    }

    /// Checks that a known field arrived with the wire type its schema requires.
    func expect(_ actual: WireType, _ expected: WireType, field: Int, in message: String) throws {
        guard actual == expected else {
            throw SentencePieceError("\(message) field \(field) has wire type \(actual.rawValue), expected \(expected.rawValue) (byte \(position))")
        }
    }
}

/// Writes the protobuf wire format.
struct ProtobufWriter {
    private(set) var bytes: [UInt8] = []

    mutating func writeVarint(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            bytes.append(UInt8(v & 0x7F) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    mutating func writeKey(_ field: Int, _ wireType: ProtobufReader.WireType) {
        writeVarint(UInt64(field) << 3 | UInt64(wireType.rawValue))
    }

    /// proto2 `int32`: negative values become 10-byte varints, as protobuf itself writes them.
    mutating func writeInt32(_ field: Int, _ value: Int32) {
        writeKey(field, .varint)
        writeVarint(UInt64(bitPattern: Int64(value)))
    }

    mutating func writeUInt64(_ field: Int, _ value: UInt64) {
        writeKey(field, .varint)
        writeVarint(value)
    }

    mutating func writeBool(_ field: Int, _ value: Bool) {
        writeKey(field, .varint)
        writeVarint(value ? 1 : 0)
    }

    mutating func writeFloat(_ field: Int, _ value: Float) {
        writeKey(field, .fixed32)
        let bits = value.bitPattern
        for k in 0..<4 { bytes.append(UInt8(truncatingIfNeeded: bits >> (8 * UInt32(k)))) }
    }

    mutating func writeBytes<C: Collection>(_ field: Int, _ value: C) where C.Element == UInt8 {
        writeKey(field, .lengthDelimited)
        writeVarint(UInt64(value.count))
        bytes.append(contentsOf: value)
    }

    mutating func writeString(_ field: Int, _ value: String) {
        writeBytes(field, Array(value.utf8))
    }

    mutating func writeMessage(_ field: Int, _ message: ProtobufWriter) {
        writeBytes(field, message.bytes)
    }

    mutating func appendRaw<C: Collection>(_ raw: C) where C.Element == UInt8 {
        bytes.append(contentsOf: raw)
    }
}
