import Foundation

/// The connection file Jupyter writes for a kernel it starts: where to bind the five sockets
/// and how to sign messages.
///
///     {"transport": "tcp", "ip": "127.0.0.1", "shell_port": 53794, "iopub_port": 53795,
///      "stdin_port": 53796, "control_port": 53797, "hb_port": 53798,
///      "key": "a0436f6c-…", "signature_scheme": "hmac-sha256"}
public struct ConnectionInfo: Codable, Equatable, Sendable {
    public var transport: String
    public var ip: String
    public var shellPort: Int
    public var iopubPort: Int
    public var stdinPort: Int
    public var controlPort: Int
    public var hbPort: Int
    public var key: String
    public var signatureScheme: String

    enum CodingKeys: String, CodingKey {
        case transport, ip, key
        case shellPort = "shell_port", iopubPort = "iopub_port", stdinPort = "stdin_port"
        case controlPort = "control_port", hbPort = "hb_port", signatureScheme = "signature_scheme"
    }

    public init(transport: String = "tcp", ip: String = "127.0.0.1", shellPort: Int, iopubPort: Int, stdinPort: Int,
                controlPort: Int, hbPort: Int, key: String, signatureScheme: String = "hmac-sha256") {
        self.transport = transport; self.ip = ip; self.shellPort = shellPort; self.iopubPort = iopubPort
        self.stdinPort = stdinPort; self.controlPort = controlPort; self.hbPort = hbPort
        self.key = key; self.signatureScheme = signatureScheme
    }

    /// Reads and checks a connection file; errors name the file and what is wrong with it.
    public static func load(_ path: String) throws -> ConnectionInfo {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw KernelError("cannot read connection file \(path)")
        }
        return try parse(data, origin: path)
    }

    public static func parse(_ data: Data, origin: String) throws -> ConnectionInfo {
        let info: ConnectionInfo
        do { info = try JSONDecoder().decode(ConnectionInfo.self, from: data) } catch DecodingError.keyNotFound(let key, _) {
            throw KernelError("connection file \(origin): missing \"\(key.stringValue)\"")
        } catch DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context) {
            let field = context.codingPath.map(\.stringValue).joined(separator: ".")
            throw KernelError("connection file \(origin): \"\(field)\" has the wrong type")
        } catch {
            throw KernelError("connection file \(origin) is not valid JSON")
        }
        guard info.transport == "tcp" || info.transport == "ipc" else {
            throw KernelError("connection file \(origin): transport must be \"tcp\" or \"ipc\", got \"\(info.transport)\"")
        }
        guard info.signatureScheme == "hmac-sha256" || info.key.isEmpty else {
            throw KernelError("connection file \(origin): signature scheme \"\(info.signatureScheme)\" is not supported (only hmac-sha256)")
        }
        for (name, port) in info.ports where !(0...65535).contains(port) {
            throw KernelError("connection file \(origin): \(name) \(port) is not a port number")
        }
        return info
    }

    var ports: [(String, Int)] {
        [("shell_port", shellPort), ("iopub_port", iopubPort), ("stdin_port", stdinPort),
         ("control_port", controlPort), ("hb_port", hbPort)]
    }

    /// The ZeroMQ endpoint of a port: `tcp://127.0.0.1:5555`, or `ipc://IP-5555` for ipc.
    public func endpoint(_ port: Int) -> String {
        transport == "ipc" ? "ipc://\(ip)-\(port)" : "tcp://\(ip):\(port)"
    }
}

/// An error of the kernel's set-up or protocol, one line.
public struct KernelError: Error, CustomStringConvertible, Equatable {
    public var description: String
    public init(_ description: String) { self.description = description }
}
