import Foundation

/// A flag the REPL raises (Ctrl-C, SIGTERM) and the training loop checks at batch boundaries.
/// Thread-safe; set it from a dispatch signal source or another thread, not from a raw signal
/// handler.
public final class CancellationFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var raised = false
    public init() {}
    /// Requests a stop at the next batch boundary.
    public func cancel() { lock.lock(); raised = true; lock.unlock() }
    /// Whether a stop was requested.
    public var isCancelled: Bool { lock.lock(); defer { lock.unlock() }; return raised }
    /// Returns whether a stop was requested and lowers the flag.
    public func consume() -> Bool { lock.lock(); defer { lock.unlock() }; let r = raised; raised = false; return r }
}
