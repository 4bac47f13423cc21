import Tensor

/// What `inspect(x)` shows: its text, and for a tensor the numbers behind its pictures, so that
/// a front end that can draw (the Jupyter kernel, transcripts) draws them too.
public struct Inspection {
    public var text: String
    public var heatMap: HeatMap?
    public var histogram: Histogram?
}

/// A matrix block-averaged to at most `maxRows`×`maxColumns` cells (NaN where a block had no
/// finite value); `rows`×`columns` is the matrix's own size, `label` names it inside the tensor.
public struct HeatMap {
    public var cells: [[Float]]
    public var rows: Int
    public var columns: Int
    public var label: String
    public var low: Float { cells.joined().filter(\.isFinite).min() ?? 0 }
    public var high: Float { cells.joined().filter(\.isFinite).max() ?? 0 }

    /// The rows (or columns) of the matrix, out of `n`, that cell `i` of `k` averages.
    public static func block(_ i: Int, of n: Int, in k: Int) -> Range<Int> {
        let start = i * n / k
        return start..<max(start + 1, (i + 1) * n / k)
    }
}

/// Counts of values in equal bins between `edges.first` and `edges.last`.
public struct Histogram {
    public var edges: [Float]
    public var counts: [Int]
}

/// `inspect(x)`: a look inside a value. Tensors get statistics, a slice of values and a
/// terminal picture (a heat map for matrices, a histogram of the values); objects list
/// their attributes (with values) and methods.
public enum Inspect {
    /// The session's type of what `inspect(x)` shows, made and registered on first use: displayed
    /// as its text (bindings that draw SVG give it a picture).
    public static func type(in s: Session) -> ObjectType<Inspection> {
        if let t = s.objectType("Inspection", Inspection.self) { return t }
        let t = ObjectType<Inspection>("Inspection", summary: "what inspect(x) shows: its text, and its pictures where a front end draws them")
            .display { $0.text }
        s.register(type: t)
        return t
    }

    public static func inspection(_ v: Value, session: Session) -> Inspection {
        if case .tensor(let t) = v { return tensor(t) }
        return Inspection(text: text(v, session: session))
    }

    public static func text(_ v: Value, session: Session) -> String {
        switch v {
        case .tensor(let t): return tensor(t).text
        case .object, .function: return object(v, session: session)
        case .list(let a), .tuple(let a):
            return "\(v.typeName) of \(a.count) item\(a.count == 1 ? "" : "s"): \(clip(v.repr, 200))"
        case .string(let s):
            return "str of \(s.count) character\(s.count == 1 ? "" : "s"): \(clip(v.repr, 200))"
        default: return "\(v.typeName): \(v.repr)"
        }
    }

    static func clip(_ s: String, _ n: Int) -> String {
        let line = s.split(separator: "\n", omittingEmptySubsequences: false).first.map(String.init) ?? ""
        if line.count <= n && !s.contains("\n") { return line }
        return String(line.prefix(n - 1)) + "…"
    }

    static func object(_ v: Value, session: Session) -> String {
        if case .function(let f) = v { return Help.describe(f) }
        var lines = ["\(v.typeName): \(clip(v.repr, 100))"]
        let members = session.members(of: v)
        let attrs = members.filter { $0.kind == .attribute }
        if !attrs.isEmpty {
            lines.append("  attributes:")
            let w = attrs.map(\.name.count).max() ?? 0
            for m in attrs {
                let shown: String
                do { shown = clip(try session.attribute(of: v, m.name).repr, 70) } catch {
                    shown = "<error: \((error as? LabError)?.message ?? String(describing: error))>"
                }
                lines.append("    \(Help.pad(m.name, w)) = \(shown)")
            }
        }
        let methods = members.filter { $0.kind == .method }
        if !methods.isEmpty {
            lines.append("  methods:")
            let w = methods.map(\.signature.count).max() ?? 0
            for m in methods { lines.append("    \(Help.pad(m.signature, w))  \(m.summary)") }
        }
        return lines.joined(separator: "\n")
    }

    // MARK: Tensors

    public static func tensor(_ t: Tensor) -> Inspection {
        var lines = ["Tensor \(t.shape) float32, \(t.count) value\(t.count == 1 ? "" : "s")"]
        guard t.count > 0 else { return Inspection(text: lines[0] + " (empty)") }
        let finite = t.data.filter(\.isFinite)
        let nan = t.data.filter(\.isNaN).count
        let inf = t.count - finite.count - nan
        let ft = Tensor(shape: [finite.count], data: finite)
        var stats = "  min \(Tensor.format(ft.min()))  max \(Tensor.format(ft.max()))  mean \(Tensor.format(ft.mean()))"
        if finite.count > 1 { stats += "  std \(Tensor.format(ft.std()))" }
        if nan + inf > 0 { stats += "  nan \(nan)  inf \(inf)" }
        lines.append(stats)
        lines.append(contentsOf: valuesBlock(t))
        var result = Inspection(text: "")
        if t.rank >= 2, let m = firstMatrix(t), finite.count > 0, let map = heatMap(m.matrix, label: m.label) {
            result.heatMap = map
            lines.append(contentsOf: text(of: map))
        }
        if finite.count > 1, let h = histogram(finite) {
            result.histogram = h
            lines.append(contentsOf: text(of: h))
        }
        result.text = lines.joined(separator: "\n")
        return result
    }

    /// The first matrix of a tensor of rank ≥ 2 and how to name it (`t[0, 0]` for rank 4).
    private static func firstMatrix(_ t: Tensor) -> (matrix: Tensor, label: String)? {
        var m = t
        var prefix: [String] = []
        while m.rank > 2 { m = m.row(0); prefix.append("0") }
        guard m.rank == 2 else { return nil }
        return (m, prefix.joined(separator: ", "))
    }

    private static func valuesBlock(_ t: Tensor) -> [String] {
        if t.rank == 0 { return ["  value \(Tensor.format(t.data[0]))"] }
        if t.rank == 1 {
            let n = min(t.count, 10)
            return ["  values [:\(n)]: [" + t.data.prefix(n).map(Tensor.format).joined(separator: ", ") + (t.count > n ? ", …]" : "]")]
        }
        guard let (m, label) = firstMatrix(t) else { return [] }
        let rows = min(m.shape[0], 4), cols = min(m.shape[1], 6)
        let cells = (0..<rows).map { r in (0..<cols).map { c in Tensor.format(m[r, c]) } }
        let w = cells.joined().map(\.count).max() ?? 1
        let lead = label.isEmpty ? "" : label + ", "
        var out = ["  values [\(lead):\(rows), :\(cols)]:"]
        for (r, row) in cells.enumerated() {
            let more = cols < m.shape[1] ? "  …" : ""
            out.append("    " + row.map { String(repeating: " ", count: w - $0.count) + $0 }.joined(separator: "  ") + more)
            if r == rows - 1 && rows < m.shape[0] { out.append("    …") }
        }
        return out
    }

    /// Shade blocks from low to high.
    static let shades: [Character] = [" ", "░", "▒", "▓", "█"]

    /// A heat map of a matrix, block-averaged to at most 64×16 cells.
    public static func heatMap(_ m: Tensor, label: String = "", maxColumns: Int = 64, maxRows: Int = 16) -> HeatMap? {
        let (r, c) = (m.shape[0], m.shape[1])
        guard r > 0, c > 0 else { return nil }
        let rows = min(r, maxRows), cols = min(c, maxColumns)
        var cells = [[Float]](repeating: [Float](repeating: 0, count: cols), count: rows)
        for i in 0..<rows {
            for j in 0..<cols {
                var total: Float = 0, n: Float = 0
                for a in HeatMap.block(i, of: r, in: rows) {
                    for b in HeatMap.block(j, of: c, in: cols) where m[a, b].isFinite { total += m[a, b]; n += 1 }
                }
                cells[i][j] = n > 0 ? total / n : .nan
            }
        }
        return HeatMap(cells: cells, rows: r, columns: c, label: label)
    }

    /// The heat map in shade blocks, one line per row of cells under a line that names the scale.
    public static func text(of map: HeatMap) -> [String] {
        let lo = map.low, hi = map.high
        let (rows, cols) = (map.cells.count, map.cells.first?.count ?? 0)
        let scaled = rows < map.rows || cols < map.columns ? ", averaged to \(rows)×\(cols)" : ""
        let part = map.label.isEmpty ? "" : " of [\(map.label)]"
        var out = ["  heat map\(part) (\(map.rows)×\(map.columns)\(scaled)): ' ' = \(Tensor.format(lo)) … '█' = \(Tensor.format(hi))"]
        for row in map.cells {
            let line = row.map { x -> Character in
                guard x.isFinite else { return "?" }
                guard hi > lo else { return shades[2] }
                let k = cell(((Double(x) - Double(lo)) / (Double(hi) - Double(lo)) * Double(shades.count - 1)).rounded(), shades.count)
                return shades[k]
            }
            out.append("    │" + String(line) + "│")
        }
        return out
    }

    /// A histogram of values in 8 bins.
    public static func histogram(_ values: [Float], bins: Int = 8) -> Histogram? {
        guard let lo = values.min(), let hi = values.max() else { return nil }
        var counts = [Int](repeating: 0, count: bins)
        for v in values {
            let k = hi > lo ? cell((Double(v) - Double(lo)) / (Double(hi) - Double(lo)) * Double(bins), bins) : 0
            counts[k] += 1
        }
        return Histogram(edges: (0...bins).map { lo + (hi - lo) * Float($0) / Float(bins) }, counts: counts)
    }

    /// The histogram in bars of eighth-blocks, one line per bin.
    public static func text(of h: Histogram, width: Int = 30) -> [String] {
        let top = h.counts.max() ?? 1
        let edges = h.edges.map(Tensor.format)
        let w = edges.map(\.count).max() ?? 1
        var out = ["  histogram of \(h.counts.reduce(0, +)) values:"]
        for (b, count) in h.counts.enumerated() {
            let eighths = top > 0 ? count * width * 8 / top : 0
            var bar = String(repeating: "█", count: eighths / 8)
            if eighths % 8 > 0 { bar.append(partialBlocks[eighths % 8]) }
            let from = String(repeating: " ", count: w - edges[b].count) + edges[b]
            let to = String(repeating: " ", count: w - edges[b + 1].count) + edges[b + 1]
            out.append("    \(from) … \(to) │\(bar)\(String(repeating: " ", count: max(0, width - bar.count))) \(count)")
        }
        return out
    }

    /// `x` truncated into `0..<n`; NaN (from infinite ranges) goes to 0 rather than trapping.
    package static func cell(_ x: Double, _ n: Int) -> Int {
        guard x.isFinite else { return x == .infinity ? n - 1 : 0 }
        return Swift.min(Swift.max(Int(Swift.max(Swift.min(x, 1e9), -1e9)), 0), n - 1)
    }

    static let partialBlocks: [Character] = [" ", "▏", "▎", "▍", "▌", "▋", "▊", "▉"]
}
