import ArgumentParser
import Foundation
import Kernel
import Lab

/// `lmlab notebook LESSON.md [-o OUT.ipynb]`: a lesson as a Jupyter notebook for the lmlab kernel.
struct NotebookCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "notebook",
        abstract: "Write a lesson as a Jupyter notebook (prose as markdown, each lmlab block as a code cell with its recorded output).")

    @Argument(help: ArgumentHelp("The lesson to convert.", valueName: "lesson.md")) var lesson: String
    @Option(name: .shortAndLong, help: ArgumentHelp("The notebook to write (default: the lesson's name with .ipynb, in the current folder).",
                                                    valueName: "out.ipynb"))
    var output: String?

    func run() throws {
        let parsed: Lesson
        do { parsed = try Lesson.load(lesson) } catch { throw CommandFailure(String(describing: error)) }
        let out = output ?? ((lesson as NSString).lastPathComponent as NSString).deletingPathExtension + ".ipynb"
        do { try Notebook.write(parsed, to: out) } catch { throw CommandFailure(String(describing: error)) }
        print("wrote \(out) (\(parsed.cells.count) code cells)")
    }
}
