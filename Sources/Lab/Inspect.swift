import Tensor

/// `inspect(x)`: a look inside a value. Tensors get statistics, a slice of values and a
/// terminal picture (a heat map for matrices, a histogram of the values); objects list
/// their attributes (with values) and methods.
public enum Inspect {
    public static func text(_ v: Value, session: Session) -> String {
        switch v {
        case .tensor(let t): return tensor(t)
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

    public static func tensor(_ t: Tensor) -> String {
        var lines = ["Tensor \(t.shape) float32, \(t.count) value\(t.count == 1 ? "" : "s")"]
        guard t.count > 0 else { return lines[0] + " (empty)" }
        let finite = t.data.filter(\.isFinite)
        let nan = t.data.filter(\.isNaN).count
        let inf = t.count - finite.count - nan
        let ft = Tensor(shape: [finite.count], data: finite)
        var stats = "  min \(Tensor.format(ft.min()))  max \(Tensor.format(ft.max()))  mean \(Tensor.format(ft.mean()))"
        if finite.count > 1 { stats += "  std \(Tensor.format(ft.std()))" }
        if nan + inf > 0 { stats += "  nan \(nan)  inf \(inf)" }
        lines.append(stats)
        lines.append(contentsOf: valuesBlock(t))
        if t.rank >= 2, let m = firstMatrix(t), finite.count > 0 {
            lines.append(contentsOf: heatMap(m.matrix, label: m.label))
        }
        if finite.count > 1 { lines.append(contentsOf: histogram(finite)) }
        return lines.joined(separator: "\n")
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
    public static func heatMap(_ m: Tensor, label: String = "", maxColumns: Int = 64, maxRows: Int = 16) -> [String] {
        let (r, c) = (m.shape[0], m.shape[1])
        guard r > 0, c > 0 else { return [] }
        let rows = min(r, maxRows), cols = min(c, maxColumns)
        var cells = [[Float]](repeating: [Float](repeating: 0, count: cols), count: rows)
        for i in 0..<rows {
            let r0 = i * r / rows, r1 = max(r0 + 1, (i + 1) * r / rows)
            for j in 0..<cols {
                let c0 = j * c / cols, c1 = max(c0 + 1, (j + 1) * c / cols)
                var total: Float = 0, n: Float = 0
                for a in r0..<r1 { for b in c0..<c1 where m[a, b].isFinite { total += m[a, b]; n += 1 } }
                cells[i][j] = n > 0 ? total / n : .nan
            }
        }
        let flat = cells.joined().filter(\.isFinite)
        let lo = flat.min() ?? 0, hi = flat.max() ?? 0
        let scaled = rows < r || cols < c ? ", averaged to \(rows)×\(cols)" : ""
        let part = label.isEmpty ? "" : " of [\(label)]"
        var out = ["  heat map\(part) (\(r)×\(c)\(scaled)): ' ' = \(Tensor.format(lo)) … '█' = \(Tensor.format(hi))"]
        for row in cells {
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

    /// A histogram of values: 8 bins, bars of eighth-blocks.
    public static func histogram(_ values: [Float], bins: Int = 8, width: Int = 30) -> [String] {
        guard let lo = values.min(), let hi = values.max() else { return [] }
        var counts = [Int](repeating: 0, count: bins)
        for v in values {
            let k = hi > lo ? cell((Double(v) - Double(lo)) / (Double(hi) - Double(lo)) * Double(bins), bins) : 0
            counts[k] += 1
        }
        let top = counts.max() ?? 1
        let edges = (0...bins).map { Tensor.format(lo + (hi - lo) * Float($0) / Float(bins)) }
        let w = edges.map(\.count).max() ?? 1
        var out = ["  histogram of \(values.count) values:"]
        for b in 0..<bins {
            let eighths = top > 0 ? counts[b] * width * 8 / top : 0
            var bar = String(repeating: "█", count: eighths / 8)
            if eighths % 8 > 0 { bar.append(partialBlocks[eighths % 8]) }
            let from = String(repeating: " ", count: w - edges[b].count) + edges[b]
            let to = String(repeating: " ", count: w - edges[b + 1].count) + edges[b + 1]
            out.append("    \(from) … \(to) │\(bar)\(String(repeating: " ", count: max(0, width - bar.count))) \(counts[b])")
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
