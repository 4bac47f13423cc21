import Foundation
import Lab
import LabBindings
import Synchronization
import Tensor
#if canImport(Glibc)
import Glibc
#endif

/// A Jupyter kernel for the LMLab language (messaging protocol 5.3 over ZeroMQ): one ``Session``
/// per kernel, so variables persist across cells and values look as they do in the REPL.
///
///     let kernel = try JupyterKernel(connection: ConnectionInfo.load(path))
///     kernel.run()   // returns after a shutdown request
///
/// Threads: the shell socket is served on the calling thread (cells run there); the control
/// socket on its own thread, so an interrupt or shutdown gets through while a cell runs; the
/// heartbeat on a third. The iopub socket is shared behind a lock.
public final class JupyterKernel {
    let connection: ConnectionInfo
    let signer: MessageSigner
    let session: Session
    let context = ZMQContext()
    let shell: ZMQSocket
    let control: ZMQSocket
    let stdin: ZMQSocket
    let heartbeat: ZMQSocket
    let iopub: Publisher
    /// This kernel's id in message headers.
    let sessionID = UUID().uuidString.lowercased()
    var executionCount = 0
    /// The cell running now (its request, number and live displays).
    var current: CellDisplays?
    /// Raised by an interrupt (control message or SIGINT) so the running cell stops after the
    /// statement that was running.
    let interrupt: InterruptFlag
    /// Set by a shutdown request on either channel: each thread then closes its socket.
    let stopping = Atomic<Bool>(false)

    /// Binds the five sockets; throws a one-line error when a port cannot be bound.
    public init(connection: ConnectionInfo, session: Session = Session()) throws {
        self.connection = connection
        self.signer = MessageSigner(key: connection.key)
        self.session = session
        shell = try ZMQSocket(context, .router)
        control = try ZMQSocket(context, .router)
        stdin = try ZMQSocket(context, .router)
        heartbeat = try ZMQSocket(context, .rep)
        let pub = try ZMQSocket(context, .pub)
        iopub = Publisher(pub, signer: signer, session: sessionID)
        for (socket, name, port) in [(shell, "shell", connection.shellPort), (control, "control", connection.controlPort),
                                     (stdin, "stdin", connection.stdinPort), (heartbeat, "heartbeat", connection.hbPort),
                                     (pub, "iopub", connection.iopubPort)] {
            do { try socket.bind(connection.endpoint(port)) } catch {
                throw KernelError("cannot listen on the \(name) port \(port) (\(connection.endpoint(port))): \(error)"
                                  .replacingOccurrences(of: "cannot bind \(connection.endpoint(port)): ", with: ""))
            }
        }
        interrupt = InterruptFlag(session.cancellation)
    }

    /// Serves requests until a shutdown request or the parent process's death.
    public func run() {
        InterruptFlag.installSignalHandler(interrupt)
        startHeartbeat()
        startControl()
        installDisplays()
        iopub.status("starting", parent: nil)
        while !stopping.load(ordering: .acquiring) {
            guard shell.waitForInput(milliseconds: Self.pollMilliseconds) else { continue }
            guard let frames = try? shell.receive() else { continue }
            guard let msg = parse(frames, from: "shell") else { continue }
            if handleShell(msg) == .stop { stopping.store(true, ordering: .releasing) }
        }
        shell.close(lingerMilliseconds: Self.lingerMilliseconds)
        stdin.close()
        iopub.close(lingerMilliseconds: Self.lingerMilliseconds)
        // Waits for the heartbeat and control threads to close their sockets, and for the
        // shutdown reply to leave: exiting at once could drop it.
        context.terminate()
    }

    /// How often the threads look at `stopping`.
    static let pollMilliseconds = 200
    /// How long a last reply may take to leave once its socket is closed.
    static let lingerMilliseconds: Int32 = 2000

    enum Next { case goOn, stop }

    /// Parses a request; a bad one is dropped with one line on stderr.
    func parse(_ frames: [Data], from channel: String) -> WireMessage? {
        do { return try WireMessage.parse(frames, signer: signer) } catch {
            report("\(channel): \(error)")
            return nil
        }
    }

    func report(_ line: String) {
        FileHandle.standardError.write(Data("lmlab kernel: \(line)\n".utf8))
    }

    /// Sends `type` with `content` back on `socket` to the sender of `request`.
    func reply(_ socket: ZMQSocket, to request: WireMessage, _ type: String, _ content: [String: Any]) {
        let msg = WireMessage(type: type, content: content, parent: request, session: sessionID)
        do { try socket.send(try msg.frames(signer: signer)) } catch { report("cannot send \(type): \(error)") }
    }

    // MARK: heartbeat, control, parent

    private func startHeartbeat() {
        let box = UncheckedBox(self)
        Thread.detachNewThread {
            let kernel = box.value
            // Echo every ping as it came.
            while !kernel.stopping.load(ordering: .acquiring) {
                guard kernel.heartbeat.waitForInput(milliseconds: Self.pollMilliseconds),
                      let frames = try? kernel.heartbeat.receive() else { continue }
                try? kernel.heartbeat.send(frames)
            }
            kernel.heartbeat.close()
        }
    }

    private func startControl() {
        // Jupyter names its pid in JPY_PARENT_PID: a parent that died before we looked is noticed too.
        let parentAtStart = ProcessInfo.processInfo.environment["JPY_PARENT_PID"].flatMap { pid_t($0) } ?? getppid()
        let box = UncheckedBox(self)
        Thread.detachNewThread {
            let kernel = box.value
            while !kernel.stopping.load(ordering: .acquiring) {
                if !kernel.control.waitForInput(milliseconds: Self.pollMilliseconds) {
                    // An orphaned kernel (its Jupyter parent died) exits by itself.
                    if getppid() != parentAtStart {
                        kernel.report("parent process \(parentAtStart) is gone; exiting")
                        exit(0)
                    }
                    continue
                }
                guard let frames = try? kernel.control.receive(), let msg = kernel.parse(frames, from: "control") else { continue }
                kernel.handleControl(msg)
            }
            kernel.control.close(lingerMilliseconds: Self.lingerMilliseconds)
            // The shell thread ends the process once its cell is done; a cell deaf to the
            // interrupt (one long statement) must not keep a kernel that was told to stop.
            Thread.sleep(forTimeInterval: Self.shutdownGraceSeconds)
            kernel.report("a cell was still running \(Int(Self.shutdownGraceSeconds)) s after shutdown; exiting")
            exit(0)
        }
    }

    /// How long a running cell has to stop after a shutdown request.
    static let shutdownGraceSeconds = 5.0

    /// Control requests, on the control thread: they must not touch the session, which the
    /// shell thread may be using.
    func handleControl(_ msg: WireMessage) {
        switch msg.type {
        case "interrupt_request":
            interrupt.raise()
            reply(control, to: msg, "interrupt_reply", ["status": "ok"])
        case "shutdown_request":
            let restart = msg.content["restart"] as? Bool ?? false
            reply(control, to: msg, "shutdown_reply", ["status": "ok", "restart": restart])
            iopub.status("idle", parent: msg)
            stopping.store(true, ordering: .releasing)
            interrupt.raise()
        case "kernel_info_request":
            reply(control, to: msg, "kernel_info_reply", kernelInfo)
        default:
            report("control: unknown message type '\(msg.type)' ignored")
        }
    }
}

/// The iopub socket, shared by the shell and control threads.
final class Publisher: @unchecked Sendable {  // every use of the socket holds the lock
    private let socket: ZMQSocket
    private let lock = NSLock()
    private var closed = false
    let signer: MessageSigner
    let session: String

    init(_ socket: ZMQSocket, signer: MessageSigner, session: String) {
        self.socket = socket; self.signer = signer; self.session = session
    }

    /// Publishes `type` with `content`, caused by `parent`.
    func publish(_ type: String, _ content: [String: Any], parent: WireMessage?) {
        let msg = WireMessage(type: type, content: content, parent: parent, session: session,
                              identities: [Data("kernel.\(session).\(type)".utf8)])
        lock.lock()
        defer { lock.unlock() }
        guard !closed, let frames = try? msg.frames(signer: signer) else { return }
        try? socket.send(frames)
    }

    /// Closes the socket; later messages are dropped.
    func close(lingerMilliseconds: Int32) {
        lock.lock()
        defer { lock.unlock() }
        closed = true
        socket.close(lingerMilliseconds: lingerMilliseconds)
    }

    func status(_ state: String, parent: WireMessage?) { publish("status", ["execution_state": state], parent: parent) }
}

/// The interrupt of the running cell: raised by an `interrupt_request` or SIGINT (Jupyter's
/// signal mode). It raises the session's cancellation flag too, which stops `fit` at the next
/// batch, as Ctrl-C does in the REPL.
final class InterruptFlag: Sendable {
    private let raised = Atomic<Bool>(false)
    let cancellation: Cancellation
    init(_ cancellation: Cancellation) { self.cancellation = cancellation }

    /// Safe in a signal handler (lock-free stores).
    func raise() {
        raised.store(true, ordering: .relaxed)
        cancellation.request()
    }
    var isRaised: Bool { raised.load(ordering: .relaxed) }
    /// Lowers both flags (before a cell runs).
    func reset() {
        raised.store(false, ordering: .relaxed)
        cancellation.reset()
    }

    nonisolated(unsafe) private static var forSignal: InterruptFlag?

    static func installSignalHandler(_ flag: InterruptFlag) {
        forSignal = flag
        var action = sigaction()
        action.__sigaction_handler.sa_handler = { _ in InterruptFlag.forSignal?.raise() }
        sigemptyset(&action.sa_mask)
        action.sa_flags = Int32(SA_RESTART)
        sigaction(SIGINT, &action, nil)
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGINT)
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
    }
}

/// Hands a non-Sendable value to a thread that alone uses the parts it touches.
struct UncheckedBox<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
