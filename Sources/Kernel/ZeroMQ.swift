import CZeroMQ
import Foundation

/// An error of libzmq, with what we were doing.
public struct ZeroMQError: Error, CustomStringConvertible {
    public var description: String
    init(_ doing: String) { description = "\(doing): \(String(cString: zmq_strerror(zmq_errno())))" }
}

/// A ZeroMQ context (one per kernel).
final class ZMQContext: @unchecked Sendable {  // libzmq contexts are thread-safe
    let raw: UnsafeMutableRawPointer
    private var terminated = false
    init() { raw = zmq_ctx_new() }
    deinit { terminate() }

    /// Blocks until every socket of the context is closed and their messages still queued are
    /// sent (or their linger ran out). Call it once, from one thread.
    func terminate() {
        guard !terminated else { return }
        terminated = true
        while zmq_ctx_term(raw) != 0 && zmq_errno() == EINTR {}
    }
}

/// One ZeroMQ socket. Not thread-safe (libzmq sockets are not): each socket is used by one
/// thread, or behind a lock (`iopub`).
final class ZMQSocket: @unchecked Sendable {
    enum Kind {
        case router, pub, rep, dealer, sub, req
        var raw: Int32 {
            switch self {
            case .router: ZMQ_ROUTER
            case .pub: ZMQ_PUB
            case .rep: ZMQ_REP
            case .dealer: ZMQ_DEALER
            case .sub: ZMQ_SUB
            case .req: ZMQ_REQ
            }
        }
    }

    let raw: UnsafeMutableRawPointer
    let context: ZMQContext

    init(_ context: ZMQContext, _ kind: Kind) throws {
        guard let s = zmq_socket(context.raw, kind.raw) else { throw ZeroMQError("zmq_socket") }
        raw = s
        self.context = context
        // Close at once on shutdown: a reply still queued to a vanished client must not hang exit.
        var linger: Int32 = 0
        zmq_setsockopt(raw, ZMQ_LINGER, &linger, MemoryLayout<Int32>.size)
    }

    private var closed = false
    deinit { close() }

    /// Closes the socket. Messages still queued get `lingerMilliseconds` to reach their peer,
    /// while `ZMQContext.terminate` waits: a reply sent just before exit is not lost.
    func close(lingerMilliseconds: Int32 = 0) {
        guard !closed else { return }
        closed = true
        var linger = lingerMilliseconds
        zmq_setsockopt(raw, ZMQ_LINGER, &linger, MemoryLayout<Int32>.size)
        zmq_close(raw)
    }

    func bind(_ endpoint: String) throws {
        guard zmq_bind(raw, endpoint) == 0 else { throw ZeroMQError("cannot bind \(endpoint)") }
    }

    func connect(_ endpoint: String) throws {
        guard zmq_connect(raw, endpoint) == 0 else { throw ZeroMQError("cannot connect to \(endpoint)") }
    }

    /// The endpoint the socket was last bound to (`tcp://127.0.0.1:41234` after binding port `*`).
    var lastEndpoint: String {
        var buffer = [CChar](repeating: 0, count: 256)
        var size = buffer.count
        zmq_getsockopt(raw, ZMQ_LAST_ENDPOINT, &buffer, &size)
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Subscribes a SUB socket to every topic.
    func subscribeAll() { zmq_setsockopt(raw, ZMQ_SUBSCRIBE, "", 0) }

    /// Sends the frames as one multipart message.
    func send(_ frames: [Data]) throws {
        for (i, frame) in frames.enumerated() {
            let flags = i < frames.count - 1 ? ZMQ_SNDMORE : 0
            let sent = frame.withUnsafeBytes { zmq_send(raw, $0.baseAddress, frame.count, flags) }
            guard sent >= 0 else { throw ZeroMQError("zmq_send") }
        }
    }

    /// Receives one multipart message (blocks).
    func receive() throws -> [Data] {
        var frames: [Data] = []
        repeat {
            var msg = zmq_msg_t()
            zmq_msg_init(&msg)
            defer { zmq_msg_close(&msg) }
            guard zmq_msg_recv(&msg, raw, 0) >= 0 else { throw ZeroMQError("zmq_msg_recv") }
            frames.append(Data(bytes: zmq_msg_data(&msg), count: zmq_msg_size(&msg)))
        } while hasMore
        return frames
    }

    private var hasMore: Bool {
        var more: Int32 = 0
        var size = MemoryLayout<Int32>.size
        zmq_getsockopt(raw, ZMQ_RCVMORE, &more, &size)
        return more != 0
    }

    /// True when a message can be read within `milliseconds` (false on timeout or a signal).
    func waitForInput(milliseconds: Int) -> Bool {
        var item = zmq_pollitem_t(socket: raw, fd: 0, events: Int16(ZMQ_POLLIN), revents: 0)
        return zmq_poll(&item, 1, milliseconds) > 0 && item.revents & Int16(ZMQ_POLLIN) != 0
    }
}
