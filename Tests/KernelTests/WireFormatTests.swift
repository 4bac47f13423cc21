import Foundation
import Testing
@testable import Kernel
import Lab
import LabBindings

@Suite struct WireFormatTests {
    let signer = MessageSigner(key: "a0436f6c-1916-498b-8eb9-e81ab9368e84")

    @Test func hmacSHA256MatchesRFC4231() {
        // RFC 4231, test case 2: key "Jefe".
        let s = MessageSigner(key: "Jefe").signature([Data("what do ya want ".utf8), Data("for nothing?".utf8)])
        #expect(s == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
    }

    @Test func emptyKeyMeansUnsigned() {
        let s = MessageSigner(key: "")
        #expect(s.signature([Data("x".utf8)]) == "")
        #expect(s.verify(Data("anything".utf8), [Data("x".utf8)]))
    }

    func request(_ type: String, _ content: [String: Any] = [:]) -> WireMessage {
        WireMessage(identities: [Data("client-1".utf8)],
                    header: ["msg_id": "m1", "session": "s1", "username": "u", "date": "2026-12-07T00:00:00Z",
                             "msg_type": type, "version": "5.3"],
                    content: content)
    }

    @Test func framesAreIdentitiesDelimiterSignatureAndFourJSONParts() throws {
        let frames = try request("kernel_info_request").frames(signer: signer)
        #expect(frames.count == 7)
        #expect(frames[0] == Data("client-1".utf8))
        #expect(frames[1] == Data("<IDS|MSG>".utf8))
        #expect(String(decoding: frames[2], as: UTF8.self) == signer.signature(Array(frames[3...6])))
        #expect(String(decoding: frames[2], as: UTF8.self).count == 64)
        let header = try JSONSerialization.jsonObject(with: frames[3]) as? [String: Any]
        #expect(header?["msg_type"] as? String == "kernel_info_request")
    }

    @Test func parseRoundTripsWithBuffers() throws {
        var m = request("execute_request", ["code": "1 + 1", "silent": false])
        m.buffers = [Data([0, 1, 2])]
        let back = try WireMessage.parse(try m.frames(signer: signer), signer: signer)
        #expect(back.type == "execute_request")
        #expect(back.identities == [Data("client-1".utf8)])
        #expect(back.content["code"] as? String == "1 + 1")
        #expect(back.buffers == [Data([0, 1, 2])])
    }

    @Test func replyCarriesParentHeaderAndIdentities() throws {
        let req = request("kernel_info_request")
        let reply = WireMessage(type: "kernel_info_reply", content: ["status": "ok"], parent: req, session: "k")
        #expect(reply.identities == req.identities)
        #expect(reply.parentHeader["msg_id"] as? String == "m1")
        #expect(reply.header["version"] as? String == "5.3")
        #expect(reply.header["msg_id"] as? String != "m1")
    }

    @Test func wrongSignatureIsRejected() throws {
        var frames = try request("kernel_info_request").frames(signer: signer)
        frames[2] = Data(String(repeating: "0", count: 64).utf8)
        #expect(throws: KernelError("message with a wrong signature dropped")) { try WireMessage.parse(frames, signer: signer) }
        // Signed with another key.
        let other = try request("kernel_info_request").frames(signer: MessageSigner(key: "other"))
        #expect(throws: KernelError("message with a wrong signature dropped")) { try WireMessage.parse(other, signer: signer) }
    }

    @Test func malformedMessagesAreRejectedWithOneLine() throws {
        let good = try request("kernel_info_request").frames(signer: signer)
        #expect(throws: KernelError("malformed message: no <IDS|MSG> delimiter")) {
            try WireMessage.parse(good.filter { $0 != WireMessage.delimiter }, signer: signer)
        }
        #expect(throws: KernelError("malformed message: 3 frames after the delimiter, expected at least 5")) {
            try WireMessage.parse(Array(good.prefix(5)), signer: signer)
        }
        // Correctly signed, but the content is not JSON.
        var parts = Array(good[3...6])
        parts[3] = Data("{not json".utf8)
        let bad = [good[0], good[1], Data(signer.signature(parts).utf8)] + parts
        #expect(throws: KernelError("malformed message: content is not a JSON object")) { try WireMessage.parse(bad, signer: signer) }
        // A JSON array is not a header.
        parts = Array(good[3...6])
        parts[0] = Data("[1, 2]".utf8)
        let array = [good[0], good[1], Data(signer.signature(parts).utf8)] + parts
        #expect(throws: KernelError("malformed message: header is not a JSON object")) { try WireMessage.parse(array, signer: signer) }
        parts[0] = Data("{}".utf8)
        let untyped = [good[0], good[1], Data(signer.signature(parts).utf8)] + parts
        #expect(throws: KernelError("malformed message: header has no msg_type")) { try WireMessage.parse(untyped, signer: signer) }
    }

    @Test func connectionFileErrorsNameTheProblem() throws {
        let ok = #"{"transport": "tcp", "ip": "127.0.0.1", "shell_port": 1, "iopub_port": 2, "stdin_port": 3, "control_port": 4, "hb_port": 5, "key": "k", "signature_scheme": "hmac-sha256"}"#
        let info = try ConnectionInfo.parse(Data(ok.utf8), origin: "c.json")
        #expect(info.endpoint(info.shellPort) == "tcp://127.0.0.1:1")
        #expect(throws: KernelError("connection file c.json is not valid JSON")) { try ConnectionInfo.parse(Data("{".utf8), origin: "c.json") }
        #expect(throws: KernelError("connection file c.json: missing \"hb_port\"")) {
            try ConnectionInfo.parse(Data(ok.replacingOccurrences(of: #", "hb_port": 5"#, with: "").utf8), origin: "c.json")
        }
        #expect(throws: KernelError("connection file c.json: \"shell_port\" has the wrong type")) {
            try ConnectionInfo.parse(Data(ok.replacingOccurrences(of: #""shell_port": 1"#, with: #""shell_port": "one""#).utf8), origin: "c.json")
        }
        #expect(throws: KernelError("connection file c.json: signature scheme \"hmac-md5\" is not supported (only hmac-sha256)")) {
            try ConnectionInfo.parse(Data(ok.replacingOccurrences(of: "hmac-sha256", with: "hmac-md5").utf8), origin: "c.json")
        }
        #expect(throws: KernelError("cannot read connection file /nonexistent/c.json")) { try ConnectionInfo.load("/nonexistent/c.json") }
    }

    @Test func alignedTextTablesBecomeHTMLTables() throws {
        let text = """
           text                 category
        0  xxbos xxmaj a movie  neg
        1  xxbos i liked it     pos
        """
        let t = try #require(MimeBundle.columns(of: text))
        #expect(t.header == ["", "text", "category"])
        #expect(t.rows == [["0", "xxbos xxmaj a movie", "neg"], ["1", "xxbos i liked it", "pos"]])
        #expect(MimeBundle.columns(of: "just one line") == nil)
        #expect(MimeBundle.tableHTML(header: ["a<b"], rows: [["1"]], caption: "model").contains("<caption style=\"text-align: left;\">model</caption>\n<thead>\n<tr style=\"text-align: left;\"><th>a&lt;b</th>"))
    }
}

@Suite struct DisplayTests {
    /// `inspect` of a matrix: text/plain is exactly the REPL's lines, and its heat map and
    /// histogram come as one SVG (the kernel sends such a bundle as display_data).
    @Test func inspectShowsTheREPLTextAndAnSVGPicture() throws {
        let s = Session()
        let outputs = s.run("inspect(tensor([[0, 1, 2, 3], [1, 2, 3, 4], [2, 3, 4, 5]]))").outputs
        let repl = outputs.map(\.rendered).joined(separator: "\n")
        #expect(repl.hasPrefix("Tensor [3, 4] float32, 12 values") && repl.contains("heat map (3×4)") && repl.contains("histogram of 12 values:"))
        guard case .value(let v)? = outputs.first, outputs.count == 1 else { Issue.record("inspect showed \(outputs)"); return }
        let data = MimeBundle.of(v)
        #expect(data["text/plain"] as? String == repl)
        let svg = try #require(data["image/svg+xml"] as? String)
        #expect(svg.hasPrefix("<svg") && svg.contains("heat map (3×4)") && svg.contains("histogram of 12 values"))
        // 12 cells from white (0) to black (5), and 8 bars.
        #expect(svg.contains("fill=\"#ffffff\"") && svg.contains("fill=\"#000000\""))
        #expect(svg.components(separatedBy: "fill=\"#1f77b4\"").count - 1 == 8)
        // A vector has no heat map; a value that is not a tensor has no picture.
        #expect((MimeBundle.of(s.run("inspect(tensor([1, 2, 3]))").outputs[0].value!)["image/svg+xml"] as? String)?.contains("heat map") == false)
        #expect(MimeBundle.of(s.run("inspect('abc')").outputs[0].value!)["image/svg+xml"] == nil)
    }
}

extension Output {
    var value: Value? { if case .value(let v) = self { return v }; return nil }
}
