import Lab
import Files
import Foundation
import Learn
import Tensor

/// A line plot (loss curves, learning-rate schedules): drawn in the terminal with
/// braille dots, and as SVG for files and transcripts.
public struct LinePlot {
    public var xs: [Double]
    public var ys: [Double]
    public var title: String
    public var xlabel: String
    public var ylabel: String
    /// Logarithmic x axis (as lr_find's plot).
    public var logX: Bool
    /// The legend's name of the line xs/ys (used when there are other lines).
    public var label = ""
    /// More lines on the same axes (plot_loss's validation loss); the SVG then has a legend.
    public var others: [PlotSeries] = []
    /// A marked point (lr_find's suggestion), drawn as a red dot named in the legend.
    public var mark: (x: Double, y: Double, label: String)?
    /// Filled areas drawn under the lines (a histogram's bars, a heat map's cells).
    public var fill: PlotFill?
    /// y grows downwards (a heat map's rows, as matplotlib's `imshow` draws them).
    public var invertY = false

    public init(xs: [Double], ys: [Double], title: String = "", xlabel: String = "", ylabel: String = "", logX: Bool = false) {
        self.xs = xs; self.ys = ys; self.title = title; self.xlabel = xlabel; self.ylabel = ylabel; self.logX = logX
    }

    /// Points that can be drawn (finite, and x > 0 on a log axis), in axis coordinates.
    var points: [(Double, Double)] {
        zip(xs, ys).compactMap { x, y in
            guard x.isFinite, y.isFinite, !logX || x > 0 else { return nil }
            return (logX ? log10(x) : x, y)
        }
    }

    private var bounds: (x0: Double, x1: Double, y0: Double, y1: Double)? {
        let p = points
        guard let x0 = p.map(\.0).min(), let x1 = p.map(\.0).max(),
              let y0 = p.map(\.1).min(), let y1 = p.map(\.1).max() else { return nil }
        return (x0, x1 > x0 ? x1 : x0 + 1, y0, y1 > y0 ? y1 : y0 + 1)
    }

    private func label(_ axisValue: Double, x: Bool) -> String {
        Tensor.format(Float(x && logX ? pow(10, axisValue) : axisValue))
    }

    /// The plot in braille: each character cell holds 2×4 dots.
    public func braille(width: Int = 60, height: Int = 12) -> String {
        var lines: [String] = []
        if !title.isEmpty { lines.append(title) }
        guard let b = bounds else { return (lines + ["(nothing to plot)"]).joined(separator: "\n") }
        let pw = width * 2, ph = height * 4
        var dots = [[Bool]](repeating: [Bool](repeating: false, count: pw), count: ph)
        func pixel(_ p: (Double, Double)) -> (Int, Int) {
            let px = Inspect.cell(((p.0 - b.x0) / (b.x1 - b.x0) * Double(pw - 1)).rounded(), pw)
            let py = Inspect.cell(((b.y1 - p.1) / (b.y1 - b.y0) * Double(ph - 1)).rounded(), ph)
            return (px, py)
        }
        let p = points.map(pixel)
        if p.count == 1 { dots[p[0].1][p[0].0] = true }
        for (a, c) in zip(p, p.dropFirst()) {
            // Bresenham between consecutive points.
            var (x, y) = a
            let dx = abs(c.0 - x), dy = -abs(c.1 - y)
            let sx = x < c.0 ? 1 : -1, sy = y < c.1 ? 1 : -1
            var err = dx + dy
            while true {
                dots[y][x] = true
                if x == c.0 && y == c.1 { break }
                let e2 = 2 * err
                if e2 >= dy { err += dy; x += sx }
                if e2 <= dx { err += dx; y += sy }
            }
        }
        // Braille dot bits: columns (0,1) × rows 0…3.
        let bits = [[0x01, 0x08], [0x02, 0x10], [0x04, 0x20], [0x40, 0x80]]
        let top = label(b.y1, x: false), bottom = label(b.y0, x: false)
        let lw = max(top.count, bottom.count)
        for row in 0..<height {
            var s = ""
            for col in 0..<width {
                var code = 0
                for dy in 0..<4 { for dx in 0..<2 where dots[row * 4 + dy][col * 2 + dx] { code |= bits[dy][dx] } }
                s.unicodeScalars.append(Unicode.Scalar(0x2800 + code)!)
            }
            let tick = row == 0 ? top : row == height - 1 ? bottom : ""
            let axis = row == 0 || row == height - 1 ? "┤" : "│"
            lines.append(String(repeating: " ", count: lw - tick.count) + tick + " " + axis + s)
        }
        lines.append(String(repeating: " ", count: lw + 1) + "└" + String(repeating: "─", count: width))
        let left = label(b.x0, x: true), right = label(b.x1, x: true)
        let gap = max(1, width - left.count - right.count)
        lines.append(String(repeating: " ", count: lw + 2) + left + String(repeating: " ", count: gap) + right)
        var axes: [String] = []
        if !xlabel.isEmpty { axes.append("x: \(xlabel)\(logX ? " (log scale)" : "")") } else if logX { axes.append("x: log scale") }
        if !ylabel.isEmpty { axes.append("y: \(ylabel)") }
        if !axes.isEmpty { lines.append(String(repeating: " ", count: lw + 2) + axes.joined(separator: "   ")) }
        return lines.joined(separator: "\n")
    }
}

/// Filled areas of a plot, in axis coordinates.
public enum PlotFill {
    /// Bars from 0 up to `heights[i]` between `edges[i]` and `edges[i + 1]`.
    case bars(edges: [Double], heights: [Double])
    /// Rectangles shaded from white (`low`) to black (`high`); NaN cells stay blank.
    case cells([(x0: Double, x1: Double, y0: Double, y1: Double, value: Double)], low: Double, high: Double)
}

/// A line of a plot besides its main one.
public struct PlotSeries {
    public var label: String
    public var xs: [Double]
    public var ys: [Double]
    public init(label: String, xs: [Double], ys: [Double]) { self.label = label; self.xs = xs; self.ys = ys }
}

/// `plot` and `savefig`.
enum PlotBuiltins {
    /// The session's Plot type, made and registered on first use (learners draw plots too).
    static func type(in s: Session) -> ObjectType<LinePlot> {
        if let t = s.objectType("Plot", LinePlot.self) { return t }
        let t = ObjectType<LinePlot>("Plot", summary: "a line plot (shown in braille; savefig writes SVG)")
            .sample("p = plot([3, 1, 2])")
            .attribute("xs", "x values") { .list($0.xs.map { .float($0) }) }
            .attribute("ys", "y values") { .list($0.ys.map { .float($0) }) }
            .attribute("title", "the title") { .string($0.title) }
            .display { $0.braille() }
            .svg { $0.svg() }
        s.register(type: t)
        return t
    }

    static func install(in s: Session) {
        let plotType = type(in: s)
        Inspect.type(in: s).svg(svg(of:))
        s.register(Builtin("plot", [Param("xs", "the x values (or the y values when ys is None): a list or tensor"),
                                    Param("ys", default: nil, "the y values; None: xs against 0, 1, 2, …"),
                                    Param("title", .str, default: .string(""), "the title"),
                                    Param("xlabel", .str, default: .string(""), "the x axis label"),
                                    Param("ylabel", .str, default: .string(""), "the y axis label"),
                                    Param("xscale", .str, default: .string("linear"), "'linear' or 'log'")],
                           summary: "a line plot of ys against xs (or of xs against 0, 1, 2, …)",
                           example: "plot(arange(0, 10), arange(0, 10) ** 2, title='squares')",
                           topic: "plots") { a in
            let first = try numbers(try a.value("xs"), a, "xs")
            var xs = first, ys = first
            if case let second = try a.value("ys"), !second.isNone {
                ys = try numbers(second, a, "ys")
                guard ys.count == xs.count else { throw a.error("xs has \(xs.count) values but ys has \(ys.count)") }
            } else {
                xs = (0..<ys.count).map(Double.init)
            }
            let scale = try a.string("xscale")
            guard scale == "linear" || scale == "log" else { throw a.error("xscale must be 'linear' or 'log', got \(pythonRepr(scale))") }
            return plotType.wrap(LinePlot(xs: xs, ys: ys, title: try a.string("title"),
                                          xlabel: try a.string("xlabel"),
                                          ylabel: try a.string("ylabel"), logX: scale == "log"))
        })
        s.register(Builtin("savefig", [Param("plot", "a plot, or anything with a picture"), Param("path", .str, "the file to write (.svg)"),
                                       Param("overwrite", .bool, default: false, "replace a file that is not an SVG picture")],
                           summary: "write a plot (or anything with a picture) to an SVG file",
                           example: "savefig(plot([3, 1, 2]), 'loss.svg')", topic: "plots") { a in
            let v = try a.value("plot")
            let path = try a.string("path")
            guard case .object(let o) = v, let svg = o.svg else { throw a.error("\(v.typeName) has no picture to save") }
            guard path.lowercased().hasSuffix(".svg") else { throw a.error("only SVG files can be written (path must end in .svg)") }
            let url = try DataBindings.resolve(path, a.session)
            do { try WritePaths.checkNotRoot(url.deletingLastPathComponent()) } catch { throw a.error("\(error)") }
            // Replaces an earlier picture, never another kind of file unless asked to.
            if !(try a.bool("overwrite")), let old = FileManager.default.contents(atPath: url.path),
               !(old.starts(with: Array("<svg".utf8)) || old.starts(with: Array("<?xml".utf8))) {
                throw a.error("\(path) exists and is not an SVG picture; pass overwrite=True to replace it")
            }
            do { try svg.write(to: url, atomically: true, encoding: .utf8) } catch {
                throw a.error("cannot write \(path): \(FileErrors.reason(error))")
            }
            a.session.emit("wrote \(path)")
            return .none
        })
    }

    /// A tensor's heat map and histogram, side by side as matplotlib's subplots; nil when it has neither.
    static func svg(of inspection: Inspection) -> String? {
        var plots: [LinePlot] = []
        if let map = inspection.heatMap {
            let (rows, cols) = (map.cells.count, map.cells.first?.count ?? 0)
            var cells: [(x0: Double, x1: Double, y0: Double, y1: Double, value: Double)] = []
            for (i, row) in map.cells.enumerated() {
                let r = HeatMap.block(i, of: map.rows, in: rows)
                for (j, v) in row.enumerated() {
                    let c = HeatMap.block(j, of: map.columns, in: cols)
                    cells.append((Double(c.lowerBound), Double(c.upperBound), Double(r.lowerBound), Double(r.upperBound), Double(v)))
                }
            }
            let part = map.label.isEmpty ? "" : " of [\(map.label)]"
            var p = LinePlot(xs: [], ys: [], title: "heat map\(part) (\(map.rows)×\(map.columns))", xlabel: "column", ylabel: "row")
            p.fill = .cells(cells, low: Double(map.low), high: Double(map.high))
            p.invertY = true
            plots.append(p)
        }
        if let h = inspection.histogram {
            var p = LinePlot(xs: [], ys: [], title: "histogram of \(h.counts.reduce(0, +)) values", xlabel: "value", ylabel: "count")
            p.fill = .bars(edges: h.edges.map(Double.init), heights: h.counts.map(Double.init))
            plots.append(p)
        }
        guard plots.count > 1 else { return plots.first?.svg() }
        let (width, height) = (480, 360)
        var s = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(width * plots.count)\" height=\"\(height)\" viewBox=\"0 0 \(width * plots.count) \(height)\">\n"
        for (k, p) in plots.enumerated() {
            s += p.svg(width: width, height: height, id: "axes\(k)").replacingOccurrences(of: "<svg ", with: "<svg x=\"\(k * width)\" ")
        }
        return s + "</svg>\n"
    }

    static func numbers(_ v: Value, _ a: Arguments, _ name: String) throws -> [Double] {
        if case .tensor(let t) = v { return t.data.map(Double.init) }
        return try CoreBuiltins.items(v, a).map {
            guard let d = $0.number else { throw a.error("'\(name)' must hold numbers, got \($0.typeName)") }
            return d
        }
    }
}
