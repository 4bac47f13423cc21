import ArgumentParser

/// `lmlab bench …`: speed measurements (release builds only make sense).
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure throughput of LMLab's building blocks.",
        subcommands: [BenchTokenizeCommand.self, BenchLM.self, BenchGenerate.self, BenchRecipe.self, BenchClas.self, BenchAdam.self, BenchGEMM.self])
}

import Files
import Learn
import Tensor

/// Refuses a benchmark whose buffers would not fit in the memory available, before any is
/// allocated (`bench adam --floats 100000000000` is a one-line error, not a crash).
func ensureBenchFits(bytes: Double, _ what: String) throws {
    guard let available = AvailableMemory.current(), bytes > Double(available.bytes) else { return }
    throw ValidationError("\(what) needs about \(AtomicFile.byteCount(Int(min(bytes, 9e18)))), but only "
                          + "\(AtomicFile.byteCount(available.bytes)) is available (\(available.source)); choose smaller sizes")
}

/// `--threads`: parsed unconditionally so that `--threads -1` reaches the check below instead of
/// ArgumentParser's "Missing value" (it would read `-1` as an option).
func checkThreads(_ threads: Int?) throws {
    if let threads, !(1...1024).contains(threads) { throw ValidationError("--threads must be between 1 and 1024, got \(threads)") }
}
