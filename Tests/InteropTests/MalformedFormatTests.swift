import Foundation
import Testing
@testable import Interop
import Tensor

/// Files that break their format's rules in ways that used to be accepted silently.
struct MalformedFormatTests {
    /// A safetensors file from a header dictionary and a data section.
    static func safetensors(_ header: String, data: Int) -> Data {
        var bytes = Data()
        var n = UInt64(header.utf8.count).littleEndian
        withUnsafeBytes(of: &n) { bytes.append(contentsOf: $0) }
        bytes.append(contentsOf: Array(header.utf8))
        bytes.append(Data(count: data))
        return bytes
    }

    @Test func safetensorsTensorsMustTileTheDataSection() throws {
        let ok = Self.safetensors(#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}"#, data: 12)
        #expect(try SafeTensors(data: ok).floats.count == 2)
        let overlap = Self.safetensors(#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#, data: 12)
        #expect { try SafeTensors(data: overlap) } throws: { "\($0)".contains("overlap another tensor's bytes") }
        let gap = Self.safetensors(#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#, data: 8)
        #expect { try SafeTensors(data: gap) } throws: { "\($0)".contains("belong to no tensor") }
    }

    @Test func aPickleFrameMayNotClaimMoreThanIsThere() throws {
        // PROTO 4, FRAME of 2^63 bytes, EMPTY_LIST, STOP.
        let bytes: [UInt8] = [0x80, 4, 0x95, 0, 0, 0, 0, 0, 0, 0, 0x80, 0x5d, 0x2e]
        #expect { try FastaiVocab.parse(bytes) } throws: { "\($0)".contains("FRAME claims") }
        let honest: [UInt8] = [0x80, 4, 0x95, 2, 0, 0, 0, 0, 0, 0, 0, 0x5d, 0x2e]
        #expect(try FastaiVocab.parse(honest) == [])
    }
}

/// A file that cannot be read is named with the operating system's reason, in one line, by
/// every reader (not Foundation's description of the error).
@Test func everyReaderNamesAMissingFileInOneLine() throws {
    let none = FileManager.default.temporaryDirectory.appendingPathComponent("no-such-\(UUID().uuidString)")
    let messages: [String?] = [
        { do { _ = try TorchCheckpointReader.load(none); return nil } catch { return "\(error)" } }(),
        { do { _ = try ZipArchive(contentsOf: none); return nil } catch { return "\(error)" } }(),
        { do { _ = try FastaiVocab.load(none); return nil } catch { return "\(error)" } }(),
    ]
    for m in messages { #expect(m == "\(none.path): cannot read file (no such file or folder)") }
    #expect { try SafeTensors(contentsOf: none) } throws: { "\($0)" == "safetensors: cannot read \(none.path): no such file or folder" }
}
