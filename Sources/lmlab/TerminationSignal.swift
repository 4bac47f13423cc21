import Foundation
import Lab
#if canImport(Glibc)
import Glibc
#endif

/// SIGTERM in a non-interactive run: instead of dying wherever it is (possibly between two
/// optimizer updates), the process raises the cancellation flag, lets training stop at the next
/// batch boundary (the fit then reports `stopped on SIGTERM at epoch E, batch B` as the run's one
/// error line), starts no further statement, and exits with 128 + 15 = 143. A second SIGTERM
/// kills at once (`SA_RESETHAND`), so a stuck job can still be ended.
enum TerminationSignal {
    static func install() {
        _ = Cancellation.shared.requested   // initialise before the handler can touch it
        var action = sigaction()
        action.__sigaction_handler.sa_handler = { sig in Cancellation.shared.requestTermination(signal: sig) }
        sigemptyset(&action.sa_mask)
        action.sa_flags = Int32(bitPattern: UInt32(SA_RESETHAND)) | Int32(SA_RESTART)
        sigaction(SIGTERM, &action, nil)
        // A parent may have started us with SIGTERM blocked (the mask is inherited): unblock it,
        // or the request would stay pending until the job ends.
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGTERM)
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
    }

    /// The exit status of a non-interactive run that ended with `succeeded`: 128 + signal when a
    /// termination signal arrived (with a line on stderr if the run itself reported nothing).
    static func exitStatus(succeeded: Bool) -> Int32 {
        guard let signal = Cancellation.shared.terminationSignal else { return succeeded ? 0 : 1 }
        if succeeded { Runner.report("lmlab: stopped on \(Cancellation.shared.terminationSignalName ?? "signal")") }
        return 128 + signal
    }
}
