import Files
import Testing

@Test func crc32KnownAnswer() {
    // The standard CRC-32 check value for the ASCII digits 1…9.
    #expect(CRC32.checksum(Array("123456789".utf8)) == 0xCBF4_3926)
    #expect(CRC32.checksum([UInt8]()) == 0)
    // Word-at-a-time and byte-at-a-time paths agree: feeding odd-sized pieces (so words
    // start at every alignment) gives the one-shot value.
    let bytes = (0..<1000).map { UInt8(truncatingIfNeeded: ($0 &* 2_654_435_761) >> 13) }
    var crc = CRC32()
    var i = 0
    for piece in [1, 3, 7, 8, 9, 15, 16, 17, 100, 824] { crc.update(bytes[i ..< i + piece]); i += piece }
    #expect(i == bytes.count && crc.value == CRC32.checksum(bytes))
}
