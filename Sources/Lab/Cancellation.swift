import Synchronization

/// The "stop what you are doing" flag. The REPL's Ctrl-C handler sets it; long jobs
/// (training, generation) poll `requested` or call `check()` between steps.
///
///     for batch in batches { try Cancellation.shared.check(); … }
public final class Cancellation: Sendable {
    public static let shared = Cancellation()
    private let flag = Atomic<Bool>(false)

    public init() {}

    /// True once a cancellation was requested and not yet consumed.
    public var requested: Bool { flag.load(ordering: .relaxed) }

    /// Asks running work to stop. Safe to call from a signal handler (a lock-free store).
    public func request() { flag.store(true, ordering: .relaxed) }

    /// Clears the flag (the REPL does this before each new command).
    public func reset() { flag.store(false, ordering: .relaxed) }

    /// Clears the flag and tells whether it was set.
    public func consume() -> Bool { flag.exchange(false, ordering: .relaxed) }

    /// Throws `LabError("interrupted")` (and clears the flag) when cancellation was requested.
    public func check() throws {
        if consume() { throw LabError("interrupted") }
    }
}
