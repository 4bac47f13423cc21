import ArgumentParser

/// `lmlab bench …`: speed measurements (release builds only make sense).
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure throughput of LMLab's building blocks.",
        subcommands: [BenchTokenizeCommand.self, BenchLM.self, BenchGenerate.self, BenchRecipe.self, BenchAdam.self, BenchGEMM.self])
}
