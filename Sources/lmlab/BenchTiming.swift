import Dispatch
import Foundation
#if canImport(Glibc)
import Glibc
#endif

// Timing shared by the `bench` commands: wall seconds from the monotonic clock, and the CPU
// seconds the process got (on a shared machine, wall-clock figures alone mislead).

/// Seconds on the monotonic clock (differences of two readings are wall time).
func wallSeconds() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }

/// User + system CPU seconds of this process (all threads).
func processCPUSeconds() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    func seconds(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }
    return seconds(usage.ru_utime) + seconds(usage.ru_stime)
}

/// Runs `body(i)` until `seconds` have passed (at least once); returns the steps run and the wall
/// and CPU seconds they took.
func timed(_ seconds: Double, _ body: (Int) throws -> Void) rethrows -> (steps: Int, wall: Double, cpu: Double) {
    let start = wallSeconds()
    let cpuStart = processCPUSeconds()
    var steps = 0
    var elapsed = 0.0
    repeat {
        try body(steps)
        steps += 1
        elapsed = wallSeconds() - start
    } while elapsed < seconds
    return (steps, elapsed, processCPUSeconds() - cpuStart)
}
