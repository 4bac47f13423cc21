import ArgumentParser
import Foundation
import Kernel

/// `lmlab kernel -f FILE`: the Jupyter kernel; `lmlab kernel install`: its kernelspec.
struct KernelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kernel",
        abstract: "Run the Jupyter kernel (-f CONNECTION_FILE, as Jupyter starts it), or install its kernelspec.",
        discussion: """
        Jupyter starts the kernel itself once the kernelspec is installed: `lmlab kernel install --user`, \
        then choose "LMLab" in JupyterLab, or `jupyter console --kernel lmlab`.
        """,
        subcommands: [Install.self])

    @Option(name: .customShort("f"), help: ArgumentHelp("The connection file Jupyter wrote.", valueName: "connection-file"))
    var connectionFile: String?

    func run() throws {
        guard let connectionFile else { throw ValidationError("give -f CONNECTION_FILE (Jupyter passes it), or use 'lmlab kernel install'") }
        do {
            let info = try ConnectionInfo.load(connectionFile)
            try JupyterKernel(connection: info).run()
        } catch let e as KernelError {
            throw CommandFailure(e.description)
        }
    }

    /// `lmlab kernel install [--user | --prefix DIR]`.
    struct Install: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write the kernelspec (share/jupyter/kernels/lmlab/kernel.json) so Jupyter can start this lmlab.")
        @Flag(help: "Install into the user's Jupyter data folder (the default).") var user = false
        @Option(help: ArgumentHelp("Install under DIR/share/jupyter instead (e.g. a virtual environment's prefix).", valueName: "dir"))
        var prefix: String?

        func validate() throws {
            if user && prefix != nil { throw ValidationError("give --user or --prefix, not both") }
        }

        func run() throws {
            let folder = prefix.map { URL(fileURLWithPath: $0).appendingPathComponent("share/jupyter") } ?? KernelSpec.userDataFolder
            do {
                let file = try KernelSpec.install(into: folder)
                print("installed kernelspec lmlab in \(file.deletingLastPathComponent().path)")
            } catch let e as KernelError { throw CommandFailure(e.description) }
        }
    }
}
