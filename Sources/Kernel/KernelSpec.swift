import Foundation

/// The kernelspec Jupyter finds the kernel by: `share/jupyter/kernels/lmlab/kernel.json`.
public enum KernelSpec {
    public static let name = "lmlab"
    public static let displayName = "LMLab"

    /// The absolute path of the running executable.
    public static var executablePath: String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
            ?? URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL.path
    }

    /// kernel.json's content for `executable`.
    public static func json(executable: String) -> [String: Any] {
        ["argv": [executable, "kernel", "-f", "{connection_file}"], "display_name": displayName,
         "language": "lmlab", "interrupt_mode": "signal", "metadata": ["debugger": false]]
    }

    /// The user's Jupyter data folder: `$JUPYTER_DATA_DIR`, else `$XDG_DATA_HOME/jupyter`, else
    /// `~/.local/share/jupyter` (Linux).
    public static var userDataFolder: URL {
        let env = ProcessInfo.processInfo.environment
        if let d = env["JUPYTER_DATA_DIR"], !d.isEmpty { return URL(fileURLWithPath: d) }
        if let x = env["XDG_DATA_HOME"], !x.isEmpty { return URL(fileURLWithPath: x).appendingPathComponent("jupyter") }
        return FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".local/share/jupyter")
    }

    /// Writes the kernelspec into `dataFolder/kernels/lmlab/`; returns the file written.
    @discardableResult
    public static func install(into dataFolder: URL, executable: String = executablePath) throws -> URL {
        let dir = dataFolder.appendingPathComponent("kernels").appendingPathComponent(name)
        do {
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            let data = try JSONSerialization.data(withJSONObject: json(executable: executable), options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
            let file = dir.appendingPathComponent("kernel.json")
            try data.write(to: file, options: .atomic)
            return file
        } catch {
            throw KernelError("cannot write the kernelspec into \(dir.path): \(error.localizedDescription)")
        }
    }

    /// The repository's Lessons folder when this executable was built inside it (…/.build/…/lmlab).
    static var lessonsFolder: URL? {
        var dir = URL(fileURLWithPath: executablePath).deletingLastPathComponent()
        while dir.path != "/" {
            let lessons = dir.appendingPathComponent("Lessons")
            if FileManager.default.fileExists(atPath: lessons.appendingPathComponent("LANGUAGE.md").path) { return lessons }
            dir = dir.deletingLastPathComponent()
        }
        return nil
    }
}
