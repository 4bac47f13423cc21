import Foundation

/// One logged epoch (fastai's Recorder row).
public struct EpochRow: Sendable, Equatable, Codable {
    /// Epoch within the fit call (0-based).
    public var epoch: Int
    /// Smoothed training loss at the epoch's last batch.
    public var trainLoss: Float
    /// Row-weighted validation loss (nil when validation was skipped).
    public var validLoss: Double?
    /// Metric values in the learner's metric order.
    public var metrics: [Double]
    /// Wall-clock seconds of the epoch (train + validation).
    public var seconds: Double
}

/// The epoch table as fastprogress prints it on a console:
///
///     epoch     train_loss  valid_loss  accuracy  perplexity  time    
///     0         3.413758    3.326229    0.032143  27.833187   00:20     
///
/// Header: names left-aligned in at least 8 characters, joined by two spaces. Rows: each value
/// left-aligned in (padded name length + 2) characters. Floats with 6 decimals, time as mm:ss.
/// One deliberate difference: a value as wide as its column or wider is followed by one space
/// (fastprogress would run it into the next value).
public struct EpochTable: Sendable {
    /// Column names: epoch, train_loss, valid_loss, metrics…, time.
    public let names: [String]

    public init(metrics: [Metric]) {
        names = ["epoch", "train_loss", "valid_loss"] + metrics.map(\.name) + ["time"]
    }

    private var widths: [Int] { names.map { max($0.count, 8) } }

    /// The header line (with newline).
    public var header: String {
        zip(names, widths).map { pad($0, $1) }.joined(separator: "  ") + "\n"
    }

    /// One row (with newline).
    public func row(_ r: EpochRow) -> String {
        var cells = [String(r.epoch), fixed6(Double(r.trainLoss)), r.validLoss.map(fixed6) ?? "None"]
        cells += r.metrics.map(fixed6)
        cells.append(formatTime(r.seconds))
        // fastprogress pads each value to (name width + 2) and glues an over-long value to the next
        // one (e.g. a random LM's perplexity "60000.000000"); we keep at least one space instead.
        return zip(cells, widths).map { $0.count >= $1 + 2 ? $0 + " " : pad($0, $1 + 2) }.joined() + "\n"
    }

    private func pad(_ s: String, _ w: Int) -> String {
        s.count >= w ? s : s + String(repeating: " ", count: w - s.count)
    }
}

/// Python's `f'{v:.6f}'` (nan/inf spelled as Python does).
func fixed6(_ v: Double) -> String {
    if v.isNaN { return "nan" }
    if v.isInfinite { return v > 0 ? "inf" : "-inf" }
    return String(format: "%.6f", v)
}

/// fastprogress's `format_time`: whole seconds as `mm:ss`, or `h:mm:ss` from one hour.
public func formatTime(_ seconds: Double) -> String {
    let t = seconds.isFinite && seconds > 0 ? Int(seconds) : 0
    let (h, m, s) = (t / 3600, (t / 60) % 60, t % 60)
    return h != 0 ? String(format: "%d:%02d:%02d", h, m, s) : String(format: "%02d:%02d", m, s)
}
