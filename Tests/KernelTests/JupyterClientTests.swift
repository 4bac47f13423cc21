import Foundation
import Testing
import TestSupport
@testable import Kernel
@testable import Lab

/// End-to-end tests with the real Jupyter client (jupyter_client, jupyter_kernel_test, nbclient)
/// from the virtual environment `Scripts/test` creates in `.venv-test/`.
@Suite struct JupyterClientTests {
    static let root = Fixtures.packageRoot
    static let scripts = root.appendingPathComponent("Tests/KernelTests/jupyter")
    static let python = root.appendingPathComponent(".venv-test/bin/python").path

    /// The lmlab executable built beside the tests.
    static var lmlab: String? {
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        var candidates: [String] = []
        for _ in 0..<4 { candidates.append(dir.appendingPathComponent("lmlab").path); dir = dir.deletingLastPathComponent() }
        candidates.append(root.appendingPathComponent(".build/release/lmlab").path)
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// A Jupyter data folder holding the kernelspec of this lmlab (`lmlab kernel install --prefix`).
    static let jupyterPath: String? = {
        guard let lmlab else { return nil }
        let prefix = FileManager.default.temporaryDirectory.appendingPathComponent("lmlab-kernelspec-\(getpid())")
        guard let r = try? run(lmlab, ["kernel", "install", "--prefix", prefix.path]), r.status == 0 else { return nil }
        return prefix.appendingPathComponent("share/jupyter").path
    }()

    struct Result { var status: Int32; var stdout: String; var stderr: String }

    @discardableResult
    static func run(_ executable: String, _ arguments: [String], directory: String? = nil, environment: [String: String] = [:]) throws -> Result {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: executable)
        p.arguments = arguments
        if let directory { p.currentDirectoryURL = URL(fileURLWithPath: directory) }
        p.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        p.standardInput = FileHandle.nullDevice
        try p.run()
        // Read both pipes while the process runs (a full pipe would block it).
        var outData = Data(), errData = Data()
        let group = DispatchGroup()
        let box = UncheckedBox(err)
        group.enter()
        let errBox = DataBox()
        DispatchQueue.global().async { errBox.data = box.value.fileHandleForReading.readDataToEndOfFile(); group.leave() }
        outData = out.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        errData = errBox.data
        p.waitUntilExit()
        return Result(status: p.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
                      stderr: String(decoding: errData, as: UTF8.self))
    }

    final class DataBox: @unchecked Sendable { var data = Data() }

    /// Runs a Python script of the venv with the kernelspec on JUPYTER_PATH.
    static func runPython(_ arguments: [String], directory: String) throws -> Result? {
        guard FileManager.default.isExecutableFile(atPath: python) else {
            Issue.record("no \(python): Scripts/test creates it (python3 -m venv + pinned jupyter_client, nbclient, nbformat, jupyter_kernel_test)")
            return nil
        }
        guard let jupyterPath else { Issue.record("cannot install the kernelspec (is lmlab built?)"); return nil }
        return try run(python, arguments, directory: directory, environment: ["JUPYTER_PATH": jupyterPath, "PYTHONDONTWRITEBYTECODE": "1"])
    }

    @Test func conformanceAndBehaviourWithJupyterClient() throws {
        guard let r = try Self.runPython(["-m", "unittest", "-v", "test_kernel"], directory: Self.scripts.path) else { return }
        #expect(r.status == 0, "jupyter_kernel_test / client tests failed:\n\(r.stderr.suffix(6000))")
        #expect(r.stderr.contains("OK"), "\(r.stderr.suffix(2000))")
    }

    @Test func badStartsGiveOneClearLine() throws {
        guard let lmlab = Self.lmlab else { Issue.record("lmlab is not built"); return }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("lmlab-kernel-bad-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }

        var r = try Self.run(lmlab, ["kernel", "-f", dir.appendingPathComponent("missing.json").path])
        #expect(r.status == 1)
        #expect(r.stderr == "Error: cannot read connection file \(dir.path)/missing.json\n")

        let malformed = dir.appendingPathComponent("malformed.json")
        try Data("{\"shell_port\": ".utf8).write(to: malformed)
        r = try Self.run(lmlab, ["kernel", "-f", malformed.path])
        #expect(r.status == 1)
        #expect(r.stderr == "Error: connection file \(malformed.path) is not valid JSON\n")

        // A port another socket holds.
        let context = ZMQContext()
        let holder = try ZMQSocket(context, .router)
        try holder.bind("tcp://127.0.0.1:*")
        let port = Int(holder.lastEndpoint.split(separator: ":").last!)!
        let info = ConnectionInfo(shellPort: port, iopubPort: 0, stdinPort: 0, controlPort: 0, hbPort: 0, key: "k")
        let busy = dir.appendingPathComponent("busy.json")
        try JSONEncoder().encode(info).write(to: busy)
        r = try Self.run(lmlab, ["kernel", "-f", busy.path])
        #expect(r.status == 1)
        #expect(r.stderr == "Error: cannot listen on the shell port \(port) (tcp://127.0.0.1:\(port)): Address already in use\n")
    }

    static var lessonFiles: [String] {
        let dir = root.appendingPathComponent("Lessons")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
        return names.filter { $0.hasSuffix(".md") && $0.first?.isNumber == true }.sorted().map { dir.appendingPathComponent($0).path }
    }

    /// Every numbered lesson, exported with `lmlab notebook`, runs in nbclient without a cell
    /// error, and each cell's outputs pass the lesson's checks (as `play --check`).
    @Test(arguments: lessonFiles)
    func lessonNotebookRunsInNbclient(_ lesson: String) throws {
        guard let lmlab = Self.lmlab else { Issue.record("lmlab is not built"); return }
        let name = URL(fileURLWithPath: lesson).deletingPathExtension().lastPathComponent
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("lmlab-nb-\(getpid())-\(name)")
        try? FileManager.default.removeItem(at: work)
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: work) }
        // The lessons name Datasets/… relative to the folder they run in; models/ goes to the work folder.
        try FileManager.default.createSymbolicLink(at: work.appendingPathComponent("Datasets"),
                                                   withDestinationURL: Self.root.appendingPathComponent("Datasets"))
        let source = work.appendingPathComponent("\(name).ipynb").path, executed = work.appendingPathComponent("out.ipynb").path
        let export = try Self.run(lmlab, ["notebook", lesson, "-o", source])
        #expect(export.status == 0, "\(export.stderr)")
        guard let r = try Self.runPython([Self.scripts.appendingPathComponent("run_notebook.py").path, source, executed, work.path],
                                         directory: work.path) else { return }
        #expect(r.status == 0, "\(name): a cell failed in nbclient: \(r.stderr.suffix(3000))")
        let data = try Data(contentsOf: URL(fileURLWithPath: executed))
        let nb = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let cells = (nb["cells"] as? [[String: Any]] ?? []).filter { $0["cell_type"] as? String == "code" }
        #expect(cells.count == (try Lesson.load(lesson)).cells.count)
        for cell in cells {
            let meta = (cell["metadata"] as? [String: Any])?["lmlab"] as? [String: Any] ?? [:]
            let expected = meta["expected"] as? [String] ?? []
            let line = meta["line"] as? Int ?? 0
            let actual = Notebook.outputLines(of: cell)
            if let m = OutputCheck.compare(expected: expected, actual: actual) {
                Issue.record("\(lesson):\(line + m.expectedIndex): \(m.message)\n\(m.diff)")
            }
        }
    }
}
