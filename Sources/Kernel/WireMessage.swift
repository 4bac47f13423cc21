import CSodium
import Foundation

/// HMAC-SHA256 signatures of Jupyter messages, by libsodium. An empty key means messages are
/// neither signed nor checked (the protocol's rule).
public struct MessageSigner: Sendable {
    public let key: [UInt8]

    public init(key: String) {
        _ = sodiumReady
        self.key = Array(key.utf8)
    }

    /// Lowercase hex HMAC-SHA256 of the parts, or "" without a key.
    public func signature(_ parts: [Data]) -> String {
        guard !key.isEmpty else { return "" }
        var state = crypto_auth_hmacsha256_state()
        var mac = [UInt8](repeating: 0, count: Int(crypto_auth_hmacsha256_BYTES))
        key.withUnsafeBufferPointer { k in _ = crypto_auth_hmacsha256_init(&state, k.baseAddress!, k.count) }
        for p in parts {
            p.withUnsafeBytes { b in
                _ = crypto_auth_hmacsha256_update(&state, b.bindMemory(to: UInt8.self).baseAddress, UInt64(b.count))
            }
        }
        crypto_auth_hmacsha256_final(&state, &mac)
        return mac.map { String(format: "%02x", $0) }.joined()
    }

    /// Whether `signature` (hex) is that of `parts`; compared in constant time.
    public func verify(_ signature: Data, _ parts: [Data]) -> Bool {
        guard !key.isEmpty else { return true }
        let expected = Data(self.signature(parts).utf8)
        guard expected.count == signature.count else { return false }
        return expected.withUnsafeBytes { a in
            signature.withUnsafeBytes { b in sodium_memcmp(a.baseAddress, b.baseAddress, a.count) == 0 }
        }
    }
}

/// libsodium must be initialised once before use (thread-safe, idempotent).
private let sodiumReady: Bool = sodium_init() >= 0

/// One Jupyter message (protocol 5.3): routing identities, the four JSON dictionaries and any
/// binary buffers. On the wire:
///
///     identities… | "<IDS|MSG>" | hmac | header | parent_header | metadata | content | buffers…
public struct WireMessage {
    public var identities: [Data]
    public var header: [String: Any]
    public var parentHeader: [String: Any]
    public var metadata: [String: Any]
    public var content: [String: Any]
    public var buffers: [Data] = []

    public static let delimiter = Data("<IDS|MSG>".utf8)
    public static let protocolVersion = "5.3"

    public var type: String { header["msg_type"] as? String ?? "" }
    public var id: String { header["msg_id"] as? String ?? "" }

    public init(identities: [Data] = [], header: [String: Any], parentHeader: [String: Any] = [:],
                metadata: [String: Any] = [:], content: [String: Any], buffers: [Data] = []) {
        self.identities = identities; self.header = header; self.parentHeader = parentHeader
        self.metadata = metadata; self.content = content; self.buffers = buffers
    }

    /// A new message of `type` answering or caused by `parent` (nil for none), with its own header.
    public init(type: String, content: [String: Any], parent: WireMessage?, session: String,
                identities: [Data]? = nil, metadata: [String: Any] = [:]) {
        let header: [String: Any] = [
            "msg_id": UUID().uuidString.lowercased(), "session": session, "username": "lmlab",
            "date": WireMessage.timestamp(), "msg_type": type, "version": WireMessage.protocolVersion,
        ]
        self.init(identities: identities ?? parent?.identities ?? [], header: header,
                  parentHeader: parent?.header ?? [:], metadata: metadata, content: content)
    }

    static func timestamp() -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f.string(from: Date())
    }

    /// The frames to send, signed.
    public func frames(signer: MessageSigner) throws -> [Data] {
        let parts = try [header, parentHeader, metadata, content].map(WireMessage.encode)
        return identities + [WireMessage.delimiter, Data(signer.signature(parts).utf8)] + parts + buffers
    }

    static func encode(_ dict: [String: Any]) throws -> Data {
        guard JSONSerialization.isValidJSONObject(dict) else { throw KernelError("message part cannot be written as JSON") }
        return try JSONSerialization.data(withJSONObject: dict, options: [.sortedKeys])
    }

    /// Parses received frames, checking the signature. Errors say what was wrong, in one line.
    public static func parse(_ frames: [Data], signer: MessageSigner) throws -> WireMessage {
        guard let d = frames.firstIndex(of: delimiter) else { throw KernelError("malformed message: no <IDS|MSG> delimiter") }
        guard frames.count >= d + 6 else {
            throw KernelError("malformed message: \(frames.count - d - 1) frames after the delimiter, expected at least 5")
        }
        let parts = Array(frames[(d + 2)..<(d + 6)])
        guard signer.verify(frames[d + 1], parts) else { throw KernelError("message with a wrong signature dropped") }
        var dicts: [[String: Any]] = []
        for (name, part) in zip(["header", "parent_header", "metadata", "content"], parts) {
            guard let obj = try? JSONSerialization.jsonObject(with: part), let dict = obj as? [String: Any] else {
                throw KernelError("malformed message: \(name) is not a JSON object")
            }
            dicts.append(dict)
        }
        let msg = WireMessage(identities: Array(frames[..<d]), header: dicts[0], parentHeader: dicts[1],
                              metadata: dicts[2], content: dicts[3], buffers: Array(frames[(d + 6)...]))
        guard !msg.type.isEmpty else { throw KernelError("malformed message: header has no msg_type") }
        return msg
    }
}
