import Foundation

/// Axis ticks as matplotlib places them: round numbers on linear axes, decades on log axes.
public enum AxisTicks {
    /// Heckbert's "nice number" (Graphics Gems, 1990): 1, 2, 5 or 10 times a power of ten close to
    /// `x`, rounded to the nearest one or the next one up.
    public static func niceNumber(_ x: Double, round: Bool) -> Double {
        guard x > 0, x.isFinite else { return 1 }
        let exponent = floor(log10(x))
        let fraction = x / pow(10, exponent)
        let nice: Double
        if round { nice = fraction < 1.5 ? 1 : fraction < 3 ? 2 : fraction < 7 ? 5 : 10 }
        else { nice = fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10 }
        return nice * pow(10, exponent)
    }

    /// Round ticks inside [low, high] (Heckbert's loose labelling aiming at `count`, which gives 5–11,
    /// about as many as matplotlib shows), and the number of decimals their labels need.
    public static func linear(_ low: Double, _ high: Double, count: Int = 10) -> (ticks: [Double], decimals: Int) {
        guard high > low else { return ([low], 0) }
        let range = niceNumber(high - low, round: false)
        let step = niceNumber(range / Double(max(count - 1, 1)), round: true)
        let decimals = max(0, Int(-floor(log10(step))))
        var ticks: [Double] = []
        var k = ceil(low / step - 1e-9)
        while k * step <= high + step * 1e-9 {
            // Round away the float noise of k·step (0.30000000000000004 → 0.3).
            ticks.append(Double(String(format: "%.\(decimals + 1)f", k * step)) ?? k * step)
            k += 1
        }
        return (ticks, decimals)
    }

    /// Exponents of the decades 10^k inside [10^low, 10^high] (log axes take exponents).
    public static func decades(_ low: Double, _ high: Double) -> [Int] {
        guard high >= low else { return [] }
        return Array(Int(ceil(low - 1e-9))...Int(floor(high + 1e-9)))
    }

    /// A linear tick's label: its decimals, or powers of ten for very small or large numbers.
    public static func label(_ v: Double, decimals: Int) -> String {
        if v == 0 { return "0" }
        if decimals > 4 || abs(v) >= 1e6 { return String(format: "%.\(max(0, min(3, decimals - Int(-floor(log10(abs(v)))))))e", v) }
        return String(format: "%.\(decimals)f", v)
    }
}

extension LinePlot {
    /// The plot as a self-contained SVG document, laid out as matplotlib draws it: a framed axes
    /// box with outward ticks at round numbers (decades with minor ticks on a log axis), labels
    /// that fit, axis titles, a legend when there is more than one line or a marked point.
    /// `id` names its clip path, unique within a document that holds several plots.
    public func svg(width: Int = 640, height: Int = 400, id: String = "axes") -> String {
        let w = Double(width), h = Double(height)
        let lines = [PlotSeries(label: label, xs: xs, ys: ys)] + others
        let drawn = lines.map { line in
            zip(line.xs, line.ys).compactMap { x, y -> (Double, Double)? in
                guard x.isFinite, y.isFinite, !logX || x > 0 else { return nil }
                return (logX ? log10(x) : x, y)
            }
        }
        var all = drawn.flatMap { $0 }
        switch fill {
        case let .bars(edges, heights)?: all += zip(edges, [0] + heights).map { ($0, $1) } + zip(edges.dropFirst(), heights).map { ($0, $1) }
        case let .cells(cells, _, _)?: all += cells.flatMap { [($0.x0, $0.y0), ($0.x1, $0.y1)] }
        case nil: break
        }
        var s = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(width)\" height=\"\(height)\" viewBox=\"0 0 \(width) \(height)\" font-family=\"DejaVu Sans, Arial, sans-serif\" font-size=\"11\">\n"
        s += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
        guard let minX = all.map(\.0).min(), let maxX = all.map(\.0).max(),
              let minY = all.map(\.1).min(), let maxY = all.map(\.1).max() else {
            return s + "<text x=\"\(f(w / 2))\" y=\"\(f(h / 2))\" text-anchor=\"middle\">(nothing to plot)</text>\n</svg>\n"
        }
        // matplotlib's default margins: 5% of the data range on each side.
        func padded(_ a: Double, _ b: Double) -> (Double, Double) {
            // A heat map fills its axes, as matplotlib's imshow.
            if case .cells? = fill, b > a { return (a, b) }
            let span = b > a ? b - a : max(abs(a), 1) * 0.1
            return (a - span * 0.05, b + span * 0.05)
        }
        let (x0, x1) = padded(minX, maxX), (y0, y1) = padded(minY, maxY)
        let (yTicks, yDecimals) = AxisTicks.linear(y0, y1)
        let yLabels = yTicks.map { AxisTicks.label($0, decimals: yDecimals) }
        let xTicks: [(Double, String)]
        if logX {
            xTicks = AxisTicks.decades(x0, x1).map { (Double($0), "10^\($0)") }
        } else {
            let (t, d) = AxisTicks.linear(x0, x1)
            xTicks = t.map { ($0, AxisTicks.label($0, decimals: d)) }
        }
        // Room for the longest y label (≈ 6.5 px a character at 11 px) and the rotated y title.
        let charWidth = 6.5
        let ml = 12 + (ylabel.isEmpty ? 0 : 18) + Double(yLabels.map(\.count).max() ?? 1) * charWidth + 8
        let lastX = xTicks.last.map { Double($0.1.count) * charWidth / 2 } ?? 0
        let mr = max(20, lastX + 6)
        let mt = title.isEmpty ? 16.0 : 36.0
        let mb = 30.0 + (xlabel.isEmpty ? 0 : 20)
        let (pw, ph) = (w - ml - mr, h - mt - mb)
        func sx(_ x: Double) -> Double { ml + (x - x0) / (x1 - x0) * pw }
        func sy(_ y: Double) -> Double { invertY ? mt + (y - y0) / (y1 - y0) * ph : mt + (y1 - y) / (y1 - y0) * ph }

        if !title.isEmpty { s += "<text x=\"\(f(ml + pw / 2))\" y=\"22\" text-anchor=\"middle\" font-size=\"13\">\(escape(title))</text>\n" }
        // Ticks and labels.
        for (t, text) in zip(yTicks, yLabels) {
            let y = sy(t)
            s += "<line x1=\"\(f(ml - 4))\" y1=\"\(f(y))\" x2=\"\(f(ml))\" y2=\"\(f(y))\" stroke=\"black\" stroke-width=\"0.8\"/>"
            s += "<text x=\"\(f(ml - 7))\" y=\"\(f(y + 4))\" text-anchor=\"end\">\(escape(text))</text>\n"
        }
        for (t, text) in xTicks {
            let x = sx(t)
            s += "<line x1=\"\(f(x))\" y1=\"\(f(mt + ph))\" x2=\"\(f(x))\" y2=\"\(f(mt + ph + 4))\" stroke=\"black\" stroke-width=\"0.8\"/>"
            s += "<text x=\"\(f(x))\" y=\"\(f(mt + ph + 17))\" text-anchor=\"middle\">\(logX ? power(text) : escape(text))</text>\n"
        }
        if logX {
            // Minor ticks at 2…9 × 10^k.
            for k in Int(floor(x0))...Int(ceil(x1)) {
                for m in 2...9 {
                    let t = Double(k) + log10(Double(m))
                    guard t > x0, t < x1 else { continue }
                    s += "<line x1=\"\(f(sx(t)))\" y1=\"\(f(mt + ph))\" x2=\"\(f(sx(t)))\" y2=\"\(f(mt + ph + 2))\" stroke=\"black\" stroke-width=\"0.6\"/>"
                }
            }
            s += "\n"
        }
        // The lines, clipped to the axes box.
        s += "<clipPath id=\"\(id)\"><rect x=\"\(f(ml))\" y=\"\(f(mt))\" width=\"\(f(pw))\" height=\"\(f(ph))\"/></clipPath>\n"
        let colors = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd"]
        func box(_ xa: Double, _ xb: Double, _ ya: Double, _ yb: Double, _ style: String) -> String {
            let (left, right) = (min(sx(xa), sx(xb)), max(sx(xa), sx(xb))), (top, bottom) = (min(sy(ya), sy(yb)), max(sy(ya), sy(yb)))
            return "<rect x=\"\(f(left))\" y=\"\(f(top))\" width=\"\(f(right - left))\" height=\"\(f(bottom - top))\" \(style) clip-path=\"url(#\(id))\"/>\n"
        }
        switch fill {
        case let .bars(edges, heights)?:
            for (i, height) in heights.enumerated() where i + 1 < edges.count {
                s += box(edges[i], edges[i + 1], 0, height, "fill=\"\(colors[0])\" stroke=\"white\" stroke-width=\"0.8\"")
            }
        case let .cells(cells, low, high)?:
            for c in cells where c.value.isFinite {
                let level = high > low ? Int(((1 - (c.value - low) / (high - low)) * 255).rounded()) : 128
                let grey = String(format: "#%02x%02x%02x", level, level, level)
                // A hairline of the same colour hides the seams between neighbouring cells.
                s += box(c.x0, c.x1, c.y0, c.y1, "fill=\"\(grey)\" stroke=\"\(grey)\" stroke-width=\"0.5\"")
            }
        case nil: break
        }
        for (i, points) in drawn.enumerated() where !points.isEmpty {
            let pts = points.map { "\(f(sx($0.0))),\(f(sy($0.1)))" }.joined(separator: " ")
            let color = colors[i % colors.count]
            if points.count == 1 {
                s += "<circle cx=\"\(f(sx(points[0].0)))\" cy=\"\(f(sy(points[0].1)))\" r=\"3\" fill=\"\(color)\" clip-path=\"url(#\(id))\"/>\n"
            } else {
                s += "<polyline fill=\"none\" stroke=\"\(color)\" stroke-width=\"1.5\" stroke-linejoin=\"round\" clip-path=\"url(#\(id))\" points=\"\(pts)\"/>\n"
            }
        }
        if let mark, mark.x.isFinite, mark.y.isFinite, !logX || mark.x > 0 {
            let mx = logX ? log10(mark.x) : mark.x
            s += "<circle cx=\"\(f(sx(mx)))\" cy=\"\(f(sy(mark.y)))\" r=\"5\" fill=\"red\" clip-path=\"url(#\(id))\"/>\n"
        }
        s += "<rect x=\"\(f(ml))\" y=\"\(f(mt))\" width=\"\(f(pw))\" height=\"\(f(ph))\" fill=\"none\" stroke=\"black\" stroke-width=\"0.8\"/>\n"
        // Axis titles.
        if !xlabel.isEmpty { s += "<text x=\"\(f(ml + pw / 2))\" y=\"\(f(h - 10))\" text-anchor=\"middle\" font-size=\"12\">\(escape(xlabel))</text>\n" }
        if !ylabel.isEmpty {
            s += "<text transform=\"translate(16 \(f(mt + ph / 2))) rotate(-90)\" text-anchor=\"middle\" font-size=\"12\">\(escape(ylabel))</text>\n"
        }
        // Legend, top right, when there is more than one thing to name.
        var entries: [(String, String, Bool)] = lines.enumerated().compactMap { i, line in
            line.label.isEmpty ? nil : (line.label, colors[i % colors.count], false)
        }
        if let mark { entries.append((mark.label, "red", true)) }
        if entries.count > 1 {
            let boxW = 36 + Double(entries.map(\.0.count).max() ?? 0) * charWidth, boxH = 8 + Double(entries.count) * 18
            let lx = ml + pw - boxW - 8, ly = mt + 8
            s += "<rect x=\"\(f(lx))\" y=\"\(f(ly))\" width=\"\(f(boxW))\" height=\"\(f(boxH))\" fill=\"white\" fill-opacity=\"0.8\" stroke=\"#cccccc\" rx=\"3\"/>\n"
            for (i, e) in entries.enumerated() {
                let y = ly + 13 + Double(i) * 18
                if e.2 {
                    s += "<circle cx=\"\(f(lx + 16))\" cy=\"\(f(y))\" r=\"4\" fill=\"\(e.1)\"/>"
                } else {
                    s += "<line x1=\"\(f(lx + 6))\" y1=\"\(f(y))\" x2=\"\(f(lx + 26))\" y2=\"\(f(y))\" stroke=\"\(e.1)\" stroke-width=\"1.5\"/>"
                }
                s += "<text x=\"\(f(lx + 32))\" y=\"\(f(y + 4))\">\(escape(e.0))</text>\n"
            }
        }
        return s + "</svg>\n"
    }

    /// "10^-5" as 10 with a raised exponent.
    private func power(_ text: String) -> String {
        let exponent = text.dropFirst(3)
        return "10<tspan dy=\"-5\" font-size=\"8\">\(exponent.replacingOccurrences(of: "-", with: "−"))</tspan>"
    }

    private func f(_ d: Double) -> String { String(format: "%.1f", d) }

    private func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}
