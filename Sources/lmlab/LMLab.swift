import ArgumentParser
import Foundation
import Lab
import LabBindings
import Tensor

@main
struct LMLabCommand: ParsableCommand {
    /// Subcommands of `lmlab`. Other parts of the tool add their command types here
    /// (one line each, e.g. `Bench.self`, `Tokenize.self`). `Start` is the default.
    static let subcommandList: [any ParsableCommand.Type] = [
        Start.self,
        Play.self,
        TokenizeCommand.self,
        BenchCommand.self,
        KernelCommand.self,
        NotebookCommand.self,
    ]

    static let configuration = CommandConfiguration(
        commandName: "lmlab",
        abstract: "Walk through fastai's NLP chapter (ULMFiT) with a real library: tokenize, batch, train, generate.",
        discussion: """
        With no arguments, opens the interactive REPL (type `help` there for the builtins). \
        When stdin is not a terminal, runs the statements read from stdin. \
        `lmlab -c "a = randn(2, 3); a.shape"` runs statements; `lmlab FILE` runs a script of statements or a lesson (.md). \
        Any error stops a non-interactive run with exit status 1 and one line on stderr. \
        The statements' words are fastai's; `help` lists them and `help WORD` explains one. \
        The bidirectional model (ULMFiT's forward + backward): `backwards=True` in `sample_lm_data`, \
        `lm_dataloaders` and `clas_dataloaders` reads every text reversed, and \
        `ensemble([learn_fwd, learn_bwd])` averages two classifiers' probabilities \
        (`.accuracy(dls)`, `.accuracies(dls)`, `.get_preds(dls)`, `.predict(text)`).

        Default command (start): lmlab [-c <statements>] [<file>]
          -c <statements>   run statements separated by ';' or new lines, then exit
          <file>            a script of statements, or a lesson .md, to run
        Lessons: lmlab play [--step] [--check] [--transcript <out.md>] <lesson.md>...
        Jupyter: lmlab kernel install [--user | --prefix <dir>]; lmlab kernel -f <connection-file>; \
        lmlab notebook <lesson.md> [-o <out.ipynb>]
        To fastai: learn.save('lm', format='pth') writes fastai's Learner.save file models/lm.pth and the \
        vocabulary models/itos_lm.pkl (fastai: learn.load('lm'), torch.load(..., weights_only=True)). \
        From fastai: language_model_learner(dls, pretrained_fnames=['lm', 'itos_lm']) reads a fastai .pth \
        and its itos .pkl from models/.
        """,
        version: LabInfo.version,
        subcommands: subcommandList,
        defaultSubcommand: Start.self)

    static func main() {
        runWithTunedBLASKernels()
        main(nil)
    }

    /// When OpenBLAS did not recognise the CPU and loaded slow generic kernels, sets
    /// `OPENBLAS_CORETYPE` (read only when the library loads) and replaces this process with itself.
    static func runWithTunedBLASKernels() {
        guard let core = BLAS.kernelOverride else { return }
        setenv("OPENBLAS_CORETYPE", core, 1)
        setenv(BLAS.relaunchMarker, core, 1)
        _ = replaceProcess(arguments: CommandLine.arguments)
        // Exec failed: carry on with the slow kernels; results are the same.
    }

    /// Replaces this process with this executable run with `arguments` (the environment as it now
    /// is: OpenBLAS reads its variables only when it loads). Returns only on failure, with why.
    static func replaceProcess(arguments: [String]) -> String {
        var cArgs: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        execv("/proc/self/exe", &cArgs)
        return String(cString: strerror(errno))
    }
}

/// `lmlab [start] [-c STATEMENTS] [FILE]`: the REPL, or a non-interactive run.
struct Start: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "start",
        abstract: "Open the REPL, or run statements (-c), a script or lesson file, or stdin.")

    @Option(name: .customShort("c"), help: ArgumentHelp("Run these statements (separated by ';' or new lines) and exit.",
                                                         valueName: "statements"))
    var command: String?

    @Argument(help: ArgumentHelp("A script of statements, or a lesson .md, to run.", valueName: "file"))
    var file: String?

    mutating func validate() throws {
        if command != nil, let file { throw ValidationError("give either -c statements or a file (\(file)), not both") }
    }

    mutating func run() throws {
        let session = Session()
        if command != nil || file != nil || isatty(0) == 0 { TerminationSignal.install(interrupt: true) }
        if let command {
            throw ExitCode(TerminationSignal.exitStatus(succeeded: Runner.runSource(command, origin: "-c", in: session)))
        }
        if let file {
            throw ExitCode(TerminationSignal.exitStatus(succeeded: Runner.runFile(file, in: session)))
        }
        if isatty(0) == 0 {
            throw ExitCode(TerminationSignal.exitStatus(succeeded: Runner.runStream(origin: "<stdin>", in: session)))
        }
        REPL(session: session).loop()
    }
}
