import Foundation

/// A live progress line for training or validation batches:
///
///     train  12/37 [########............]  32%  2.50 it/s  eta 00:10  loss 3.4138
///
/// On a terminal the line is redrawn in place (`\r` + erase-to-end, at most every
/// `minInterval` seconds); otherwise one plain line is written each time another tenth of the
/// batches is done, with no control characters.
public final class ProgressBar {
    public let output: TextOutput
    /// Characters of the bar itself.
    public var barWidth = 20
    /// Minimum seconds between terminal redraws.
    public var minInterval: Double
    private let clock: () -> Double
    private var label = ""
    private var total = 0
    private var start = 0.0
    private var lastDraw = -Double.infinity
    private var lastTenth = 0

    public init(output: TextOutput = StandardStream.standardError, minInterval: Double = 0.1,
                clock: @escaping () -> Double = { Date().timeIntervalSinceReferenceDate }) {
        self.output = output; self.minInterval = minInterval; self.clock = clock
    }

    /// Starts a phase (`train`, `valid`) of `total` batches.
    public func begin(_ label: String, total: Int) {
        self.label = label; self.total = total; start = clock(); lastDraw = -.infinity; lastTenth = 0
    }

    /// Reports `done` batches finished; `loss` is the running loss to show (nil hides it).
    public func update(done: Int, loss: Float?) {
        let now = clock()
        if output.isTerminal {
            guard now - lastDraw >= minInterval || done == total else { return }
            lastDraw = now
            output.write("\r" + line(done: done, loss: loss, now: now) + "\u{1B}[K")
        } else {
            let tenth = total > 0 ? done * 10 / total : 10
            guard tenth > lastTenth else { return }
            lastTenth = tenth
            output.write(line(done: done, loss: loss, now: now) + "\n")
        }
    }

    /// Ends the phase; on a terminal the line is erased so a table row can follow.
    public func end() {
        if output.isTerminal { output.write("\r\u{1B}[K") }
    }

    /// The text of the progress line (no control characters).
    public func line(done: Int, loss: Float?, now: Double) -> String {
        let elapsed = max(now - start, 0)
        let frac = total > 0 ? Double(done) / Double(total) : 1
        let filled = Int(frac * Double(barWidth))
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: barWidth - filled)
        var s = "\(label)  \(done)/\(total) [\(bar)] \(String(format: "%3d", Int(frac * 100)))%"
        if done > 0 && elapsed > 0 {
            let rate = Double(done) / elapsed
            s += String(format: "  %.2f it/s", rate)
            s += "  eta " + formatTime(Double(total - done) / rate)
        }
        if let loss { s += String(format: "  loss %.4f", Double(loss)) }
        return s
    }
}
