import Foundation
import Tensor
import Lab
#if canImport(Glibc)
import Glibc
#endif

/// SIGTERM (and SIGINT, when no line editor owns Ctrl-C) in a non-interactive run or `play`:
/// instead of dying wherever it is (possibly between two optimizer updates, with stdout still
/// buffered), the process raises the cancellation flag, lets training stop at the next batch
/// boundary (the fit then reports `stopped on SIGTERM at epoch E, batch B`, or `interrupted …`
/// for SIGINT, as the run's one error line), starts no further statement, flushes what it
/// printed, and exits with 128 + signal (130 for SIGINT, 143 for SIGTERM). A second signal kills
/// at once (`SA_RESETHAND`), so a stuck job can still be ended.
enum TerminationSignal {
    /// `interrupt`: also take SIGINT (not when the REPL's line editor handles Ctrl-C).
    static func install(interrupt: Bool) {
        _ = Cancellation.shared.requested   // initialise before the handler can touch it
        var action = sigaction()
        action.__sigaction_handler.sa_handler = { sig in Cancellation.shared.requestTermination(signal: sig) }
        sigemptyset(&action.sa_mask)
        action.sa_flags = Int32(bitPattern: UInt32(SA_RESETHAND)) | Int32(SA_RESTART)
        var set = sigset_t()
        sigemptyset(&set)
        for sig in interrupt ? [SIGTERM, SIGINT] : [SIGTERM] {
            sigaction(sig, &action, nil)
            sigaddset(&set, sig)
        }
        // A parent may have started us with the signals blocked (the mask is inherited):
        // unblock them, or the request would stay pending until the job ends.
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
    }

    /// The exit status of a non-interactive run that ended with `succeeded`: 128 + signal when a
    /// termination signal arrived (with a line on stderr if the run itself reported nothing).
    static func exitStatus(succeeded: Bool) -> Int32 {
        fflush(nil)
        guard let signal = Cancellation.shared.terminationSignal else { return succeeded ? 0 : 1 }
        if succeeded { Runner.report("lmlab: \(Interruption(signal: signal))") }
        return 128 + signal
    }
}
