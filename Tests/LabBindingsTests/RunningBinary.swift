import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A started `lmlab` process whose output can be watched while it runs, then signalled and
/// waited for (the robustness tests kill it mid-save, send SIGTERM mid-fit, and read its peak
/// memory).
final class RunningBinary: @unchecked Sendable {
    let pid: pid_t
    private let lock = NSLock()
    private var out = Data(), err = Data()
    private var readers: [Thread] = []
    private var done = 0

    /// Starts lmlab with `arguments` (stdin empty, or `stdinFile`); stdout goes to `stdoutFile`
    /// when given (for outputs too large to keep in the test's memory), else it is collected.
    /// `memoryLimitMB` caps the child's address space (`ulimit -v`), so a regression that
    /// allocates without bound fails in the child instead of taking the test run down.
    init(_ arguments: [String], stdoutFile: String? = nil, stdinFile: String? = nil, memoryLimitMB: Int? = nil) throws {
        guard let binary = LMLabBinary.path else { throw LMLabBinary.BinaryMissing() }
        var path = binary
        var arguments = arguments
        if let memoryLimitMB {
            path = "/bin/sh"
            arguments = ["-c", "ulimit -v \(memoryLimitMB * 1024) && exec \"$0\" \"$@\"", binary] + arguments
        }
        var outPipe: [Int32] = [0, 0], errPipe: [Int32] = [0, 0]
        guard pipe(&outPipe) == 0, pipe(&errPipe) == 0 else { throw POSIXError(.EMFILE) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, stdinFile ?? "/dev/null", O_RDONLY, 0)
        if let stdoutFile {
            posix_spawn_file_actions_addopen(&actions, 1, stdoutFile, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        } else {
            posix_spawn_file_actions_adddup2(&actions, outPipe[1], 1)
        }
        posix_spawn_file_actions_adddup2(&actions, errPipe[1], 2)
        for fd in outPipe + errPipe { posix_spawn_file_actions_addclose(&actions, fd) }
        var env = ProcessInfo.processInfo.environment
        env["HOME"] = FileManager.default.temporaryDirectory.path
        env["LMLAB_HISTORY"] = FileManager.default.temporaryDirectory.appendingPathComponent("lmlab-test-history").path
        let argv: [UnsafeMutablePointer<CChar>?] = ([path] + arguments).map { strdup($0) } + [nil]
        let envp: [UnsafeMutablePointer<CChar>?] = env.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { for p in argv + envp { free(p) } }
        var child: pid_t = 0
        // The test runner's threads block some signals, and a spawned child would inherit that
        // mask: give it an empty mask and default dispositions, as a shell would.
        var attr = posix_spawnattr_t()
        posix_spawnattr_init(&attr)
        defer { posix_spawnattr_destroy(&attr) }
        var none = sigset_t(), defaults = sigset_t()
        sigemptyset(&none)
        sigemptyset(&defaults)
        for s in [SIGTERM, SIGINT, SIGPIPE] { sigaddset(&defaults, s) }
        posix_spawnattr_setsigmask(&attr, &none)
        posix_spawnattr_setsigdefault(&attr, &defaults)
        posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        let rc = posix_spawn(&child, path, &actions, &attr, argv, envp)
        close(outPipe[1]); close(errPipe[1])
        guard rc == 0 else { close(outPipe[0]); close(errPipe[0]); throw POSIXError(POSIXErrorCode(rawValue: rc) ?? .EINVAL) }
        pid = child
        for (fd, isOut) in [(outPipe[0], true), (errPipe[0], false)] {
            let t = Thread { [self] in
                var buffer = [UInt8](repeating: 0, count: 65536)
                while true {
                    let n = read(fd, &buffer, buffer.count)
                    if n < 0 && errno == EINTR { continue }
                    if n <= 0 { break }
                    lock.lock()
                    if isOut { out.append(contentsOf: buffer[0..<n]) } else { err.append(contentsOf: buffer[0..<n]) }
                    lock.unlock()
                }
                close(fd)
                lock.lock(); done += 1; lock.unlock()
            }
            t.start()
            readers.append(t)
        }
    }

    var stdout: String { lock.lock(); defer { lock.unlock() }; return String(decoding: out, as: UTF8.self) }
    var stderr: String { lock.lock(); defer { lock.unlock() }; return String(decoding: err, as: UTF8.self) }

    /// Waits (up to `seconds`) until stdout contains `text`; false on timeout or exit.
    func waitForOutput(_ text: String, seconds: Double = 120) -> Bool {
        let end = Date().addingTimeInterval(seconds)
        while Date() < end {
            if stdout.contains(text) { return true }
            lock.lock(); let closed = done == 2; lock.unlock()
            if closed { return stdout.contains(text) }
            usleep(2000)
        }
        return false
    }

    func send(_ signal: Int32) { kill(pid, signal) }

    struct Exit {
        var status: Int32?; var signal: Int32?; var maxRSSKB: Int
        /// True when `wait(timeout:)` had to kill the process.
        var timedOut = false
    }

    /// `wait()`, but the process is killed (SIGKILL) after `seconds`: a hang fails the test
    /// with `timedOut` instead of stalling the run.
    func wait(timeout seconds: Double) -> Exit {
        let deadline = Date().addingTimeInterval(seconds)
        final class Flag: @unchecked Sendable { let lock = NSLock(); var value = false }
        let killed = Flag()
        let watcher = Thread { [pid] in
            while Date() < deadline {
                if kill(pid, 0) != 0 { return }
                usleep(20_000)
            }
            killed.lock.lock(); killed.value = true; killed.lock.unlock()
            kill(pid, SIGKILL)
        }
        watcher.start()
        var exit = wait()
        killed.lock.lock(); exit.timedOut = killed.value; killed.lock.unlock()
        return exit
    }

    /// Waits for the process and both pipes to close; the exit status or the killing signal,
    /// and the child's peak resident memory.
    ///
    /// The peak is `VmHWM` of `/proc/PID/status`, read every few milliseconds while the child
    /// runs: `wait4`'s `ru_maxrss` cannot be used, because Linux carries the high-water mark of
    /// the spawning process (this whole test process, with other suites running in it) into the
    /// child through `posix_spawn` and `exec`.
    func wait() -> Exit {
        var status: Int32 = 0
        var peakKB = 0
        while true {
            let r = waitpid(pid, &status, WNOHANG)
            if r == pid { break }
            if r < 0 && errno != EINTR { break }
            peakKB = max(peakKB, Self.highWaterKB(pid))
            usleep(5000)
        }
        while true { lock.lock(); let d = done; lock.unlock(); if d == 2 { break }; usleep(1000) }
        let termSig = status & 0x7f
        if termSig == 0 { return Exit(status: (status >> 8) & 0xff, signal: nil, maxRSSKB: peakKB) }
        return Exit(status: nil, signal: termSig, maxRSSKB: peakKB)
    }

    /// `VmHWM` of a running process in kB (0 once it has exited).
    static func highWaterKB(_ pid: pid_t) -> Int {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }) else { return 0 }
        return Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") ?? 0
    }
}
