import Synchronization

/// The "stop what you are doing" flag, the one cancellation primitive of LMLab: front ends
/// (the REPL's Ctrl-C, `play`, the `-c`/FILE/stdin runs, a notebook kernel's interrupt) raise
/// it; long jobs poll it between steps: the learner's `fit` at each batch boundary, the
/// language's loops through `check()`.
///
///     for batch in batches { try Cancellation.shared.check(); … }
///
/// It lives in Tensor, the lowest module below both that poll it (Learn and the Lab language).
///
/// A termination signal (SIGTERM) also raises it through `requestTermination(signal:)`, which
/// additionally remembers the signal: that part is never consumed, so after the running job has
/// stopped at its next boundary the program can exit with status 128 + signal.
public final class Cancellation: Sendable {
    public static let shared = Cancellation()
    private let flag = Atomic<Bool>(false)
    private let terminating = Atomic<Int32>(0)

    public init() {}

    /// True once a cancellation was requested and not yet consumed.
    public var requested: Bool { flag.load(ordering: .relaxed) }

    /// Asks running work to stop. Safe to call from a signal handler (a lock-free store).
    public func request() { flag.store(true, ordering: .relaxed) }

    /// Asks running work to stop because the process was told to terminate by `signal`.
    /// Safe to call from a signal handler (two lock-free stores).
    public func requestTermination(signal: Int32) {
        terminating.store(signal, ordering: .relaxed)
        flag.store(true, ordering: .relaxed)
    }

    /// The termination signal received (e.g. 15 for SIGTERM), or nil. Never cleared.
    public var terminationSignal: Int32? {
        let s = terminating.load(ordering: .relaxed)
        return s == 0 ? nil : s
    }

    /// `SIGTERM`-style name of the termination signal, or nil.
    public var terminationSignalName: String? {
        terminationSignal.map { Cancellation.signalName($0) }
    }

    static func signalName(_ s: Int32) -> String {
        switch s {
        case 1: "SIGHUP"
        case 2: "SIGINT"
        case 15: "SIGTERM"
        default: "signal \(s)"
        }
    }

    /// Clears the flag (the REPL does this before each new command). A termination request stays.
    public func reset() {
        flag.store(terminating.load(ordering: .relaxed) != 0, ordering: .relaxed)
    }

    /// Clears the flag and tells whether it was set.
    public func consume() -> Bool { flag.exchange(false, ordering: .relaxed) }

    /// Throws `Interruption` (and clears the flag) when cancellation was requested:
    /// `interrupted`, or `stopped on SIGTERM` once a termination signal arrived (that one keeps
    /// throwing, so no further statement starts).
    public func check() throws {
        if let signal = terminationSignal { _ = consume(); throw Interruption(signal: signal) }
        if consume() { throw Interruption(signal: nil) }
    }
}

/// What `Cancellation.check()` throws: `interrupted` (Ctrl-C, SIGINT), or `stopped on SIGTERM`.
public struct Interruption: Error, CustomStringConvertible, Sendable {
    /// The termination signal that caused it (2 for SIGINT, 15 for SIGTERM), nil for Ctrl-C at
    /// the REPL.
    public var signal: Int32?
    public init(signal: Int32?) { self.signal = signal }
    public var description: String {
        guard let signal, signal != 2 else { return "interrupted" }
        return "stopped on \(Cancellation.signalName(signal))"
    }
}
