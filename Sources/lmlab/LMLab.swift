import ArgumentParser
import Lab

@main
struct LMLabCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lmlab",
        abstract: "Walk through fastai's NLP chapter (ULMFiT) with a real library: tokenize, batch, train, generate.",
        discussion: """
        With no subcommand, opens the interactive REPL.
        """,
        version: LabInfo.version,
        subcommands: [Bench.self])

    mutating func run() throws {
        print("LMLab \(LabInfo.version): the REPL is not built yet. See `lmlab --help`.")
    }
}
