import Foundation
import Lab
import Learn

/// The learner's epoch table: to the session's output, one output per line, or as one table
/// to the front end observing `onTrainingDisplay`.
final class EpochTableOutput: TextOutput {
    unowned let session: Session
    private let plain: SessionTextOutput
    private var lines: [String] = []
    init(_ session: Session) { self.session = session; plain = SessionTextOutput(session) }
    var isTerminal: Bool { false }
    func write(_ text: String) {
        guard let observe = session.onTrainingDisplay else { return plain.write(text) }
        var t = text
        while t.hasSuffix("\n") { t.removeLast() }
        let written = t.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        // The learner writes the header first, then one row per epoch: a header starts a new table.
        if written.first?.hasPrefix("epoch ") == true { lines = [] }
        lines += written
        let cells = lines.map { $0.split(separator: " ").map(String.init) }
        observe(.epochTable(names: cells.first ?? [], rows: Array(cells.dropFirst()), text: lines.joined(separator: "\n")))
    }
}

/// The learner's progress bar: redrawn on a terminal's stderr, sent to the front end observing
/// `onTrainingDisplay`, or dropped (a non-interactive run's stderr is not cluttered with it).
final class ProgressOutput: TextOutput {
    unowned let session: Session
    init(_ session: Session) { self.session = session }
    /// Terminal-style redraws (at most ten a second) suit both a terminal and a live display.
    var isTerminal: Bool { session.onTrainingDisplay != nil || isatty(2) != 0 }
    func write(_ text: String) {
        guard let observe = session.onTrainingDisplay else {
            if isatty(2) != 0 { FileHandle.standardError.write(Data(text.utf8)) }
            return
        }
        // A redraw is "\r" + line + erase-to-end; an empty line ends the phase.
        let line = text.replacingOccurrences(of: "\r", with: "").replacingOccurrences(of: "\u{1B}[K", with: "")
        guard !line.isEmpty else { return observe(.progressEnd) }
        // "train  12/37 [####....]  32% …": the label, then done/total.
        let words = line.split(separator: " ")
        let counts = words.count > 1 ? words[1].split(separator: "/").compactMap { Int($0) } : []
        observe(.progress(label: words.first.map(String.init) ?? "", done: counts.first ?? 0,
                          total: counts.count > 1 ? counts[1] : 0, line: line))
    }
}
