import Foundation
import Testing
@testable import Interop
import Tensor
import TestSupport

@Suite struct SafeTensorsTests {
    /// Builds a file from a raw header string and data bytes.
    func file(header: String, data: [UInt8] = []) -> Data {
        var d = Data()
        var n = UInt64(header.utf8.count).littleEndian
        withUnsafeBytes(of: &n) { d.append(contentsOf: $0) }
        d.append(contentsOf: Array(header.utf8))
        d.append(contentsOf: data)
        return d
    }

    func message(_ body: () throws -> Void) -> String {
        do { try body(); return "" } catch { return "\(error)" }
    }

    @Test func roundTripsFloatsAndIntegers() throws {
        var st = SafeTensors(metadata: ["who": "test"])
        st.floats["w"] = Tensor(shape: [2, 3], data: [1, -2, 3.5, 0, 1e-8, -7])
        st.floats["s"] = Tensor(scalar: 4)
        st.integers["ids"] = IntTensor(shape: [3], data: [0, -1, 1 << 40])
        let back = try SafeTensors(data: st.serialized())
        #expect(back.floats == st.floats)
        #expect(back.integers == st.integers)
        #expect(back.metadata == ["who": "test"])
        #expect(back.names == ["ids", "s", "w"])
        // Deterministic bytes.
        #expect(st.serialized() == back.serialized())
    }

    @Test func readsFixtureHeaders() throws {
        let st = try SafeTensors(contentsOf: Fixtures.url("model/lm_forward.safetensors"))
        let x1 = try st.int("x1")
        #expect(x1.shape.count == 2 && x1.data.count == x1.shape[0] * x1.shape[1])
        #expect(throws: SafeTensorsError.self) { try st.float("x1") }
    }

    @Test func rejectsBadFilesWithClearErrors() {
        #expect(message { _ = try SafeTensors(data: Data([1, 2])) }.contains("too short"))
        #expect(message { _ = try SafeTensors(data: file(header: "{}").prefix(8) + Data([0xff])) }.contains("header length"))
        #expect(message { _ = try SafeTensors(data: file(header: "[1]")) }.contains("not a JSON object"))
        #expect(message { _ = try SafeTensors(data: file(header: "{\"a\":{\"dtype\":\"F16\",\"shape\":[1],\"data_offsets\":[0,2]}}", data: [0, 0])) }
            .contains("'a' has dtype F16"))
        // An absurd shape must be rejected before any allocation.
        #expect(message { _ = try SafeTensors(data: file(header: "{\"big\":{\"dtype\":\"F32\",\"shape\":[100000000000,100000000000],\"data_offsets\":[0,4]}}", data: [0, 0, 0, 0])) }
            .contains("'big'"))
        #expect(message { _ = try SafeTensors(data: file(header: "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", data: [0, 0, 0, 0])) }
            .contains("outside"))
        #expect(message { _ = try SafeTensors(data: file(header: "{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", data: Array(repeating: 0, count: 8))) }
            .contains("needs 12"))
        #expect(message { _ = try SafeTensors(data: file(header: "{\"a\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,0]}}")) }
            .contains("invalid dimension"))
    }
}
