import Lab
import Foundation
import Models
import Tensor

/// One LSTM layer of a traced forward pass, every tensor batch-first.
struct LayerTrace {
    var index: Int
    /// What the layer read, `[bs, T, nIn]` (after input or hidden dropout).
    var input: Tensor
    /// Activated gates `[bs, T, 4H]`, blocks i, f, g, o along the last dimension.
    var gates: Tensor
    /// Hidden state after each step `[bs, T, H]` (the layer's raw output) and cell state, same shape.
    var h: Tensor
    var c: Tensor
    /// The output the next layer (or the decoder) sees, after hidden dropout `[bs, T, H]`.
    var output: Tensor
    var hiddenSize: Int { h.shape.last ?? 0 }

    /// Gate `k` (0 i, 1 f, 2 g, 3 o) as `[bs, T, H]`.
    func gate(_ k: Int) -> Tensor {
        let H = hiddenSize, rows = gates.count / max(1, 4 * H)
        var out = [Float](repeating: 0, count: rows * H)
        gates.data.withUnsafeBufferPointer { g in
            for r in 0..<rows { for j in 0..<H { out[r * H + j] = g[r * 4 * H + k * H + j] } }
        }
        return Tensor(shape: Array(gates.shape.dropLast()) + [H], data: out)
    }

    static let gateNames = ["i", "f", "g", "o"]
}

/// The dropout masks of a traced pass with their probabilities (nil where a dropout was off).
struct MaskTrace {
    var masks: DropoutMasks
    var embedP: Float, inputP: Float, hiddenP: Float, weightP: Float, outputP: Float
}

/// Gradients of a traced pass, by parameter name (nil for a frozen parameter).
struct GradTrace {
    var grads: [(name: String, grad: Tensor?)]
}

/// Everything a traced training step computed: `trace(learn, x, y)`.
final class TraceResult {
    enum Kind { case languageModel, classifier }
    let kind: Kind
    var x: Tensor
    var y: Tensor
    /// Vocabulary tokens, to name dropped embedding rows.
    var vocab: [String] = []
    var embedding: Tensor?
    var masks: MaskTrace?
    var layers: [LayerTrace] = []
    /// Decoder input after output dropout (language model).
    var dropped: Tensor?
    var logits: Tensor?
    /// Classifier: SentenceEncoder outputs and pooled features.
    var encoderOutputs: Tensor?
    var pooled: Tensor?
    var loss: Double = .nan
    var ar: Double = 0
    var tar: Double = 0
    var grads = GradTrace(grads: [])
    /// The carried hidden state of each layer after the pass `[bs, H]`.
    var carried: [Tensor] = []

    init(kind: Kind, x: Tensor, y: Tensor) {
        self.kind = kind
        self.x = x
        self.y = y
    }

    /// Takes the layers' inputs, gates, states and the masks from an encoder right after its
    /// forward call (before any backward, which overwrites the gates).
    func capture(_ e: AWDLSTM, outputP: Float, outputMask: Tensor?) {
        embedding = e.embeddingOutput
        var m = e.lastDropoutMasks
        m.output = outputMask
        let p = e.dropout
        masks = MaskTrace(masks: m, embedP: p.embed, inputP: p.input, hiddenP: p.hidden,
                          weightP: e.layers.first?.weightP ?? 0, outputP: outputP)
        layers = e.layers.indices.map { l in
            let layer = e.layers[l]
            let hs = layer.lastHiddenStates, cs = layer.lastCellStates
            return LayerTrace(index: l, input: e.lastInput(ofLayer: l), gates: layer.lastGates,
                              h: dropFirstStep(hs), c: dropFirstStep(cs), output: e.output(ofLayer: l))
        }
    }

    /// `[bs, T+1, H]` → `[bs, T, H]` without the initial state.
    private func dropFirstStep(_ t: Tensor) -> Tensor {
        let bs = t.shape[0], T1 = t.shape[1], H = t.shape[2]
        guard T1 > 0 else { return t }
        var out: [Float] = []
        out.reserveCapacity(bs * (T1 - 1) * H)
        for b in 0..<bs { out.append(contentsOf: t.data[(b * T1 + 1) * H ..< (b + 1) * T1 * H]) }
        return Tensor(shape: [bs, T1 - 1, H], data: out)
    }
}

// MARK: - Rendering

/// The printed summary of a trace, each part at most about 95 columns wide.
enum TraceText {
    static func f3(_ x: Double) -> String { String(format: "%.3f", x) }
    static func zeros(_ t: Tensor) -> Double { Double(t.data.filter { $0 == 0 }.count) / Double(max(1, t.count)) }
    static func p(_ x: Float) -> String { Tensor.format(x) }

    /// A 0/1 picture of mask rows: `█` kept, `·` dropped; at most `maxColumns` columns.
    static func maskRows(_ rows: [(label: String, values: ArraySlice<Float>)], maxColumns: Int = 64) -> [String] {
        let w = rows.map(\.label.count).max() ?? 0
        return rows.map { r in
            let shown = r.values.prefix(maxColumns).map { $0 == 0 ? "·" : "█" }.joined()
            return "    \(Help.pad(r.label, w)) │\(shown)│\(r.values.count > maxColumns ? " …" : "")"
        }
    }

    /// The rows of a `[rows, F]` mask, at most `maxRows`.
    static func maskMatrix(_ m: Tensor, maxRows: Int = 8) -> [String] {
        let F = m.shape[1]
        var out = maskRows((0..<min(m.shape[0], maxRows)).map { ("row \($0)", m.data[$0 * F ..< ($0 + 1) * F]) })
        if m.shape[0] > maxRows { out.append("    … \(m.shape[0] - maxRows) more rows") }
        return out
    }

    static func dropCount(_ m: Tensor) -> String {
        let z = m.data.filter { $0 == 0 }.count
        return "\(z) of \(m.count) dropped"
    }

    /// Which vocabulary rows embedding dropout removed, and which of them occur in `x`.
    static func embeddingDropout(_ mask: Tensor, p: Float, x: Tensor, vocab: [String]) -> [String] {
        let dropped = mask.data.indices.filter { mask.data[$0] == 0 }
        var counts: [Int: Int] = [:]
        for v in x.data { counts[Int(v), default: 0] += 1 }
        let hit = counts.keys.filter { $0 < mask.count && mask.data[$0] == 0 }.sorted()
        var line = "  embedding dropout p=\(Self.p(p)): \(dropped.count) of \(mask.count) vocabulary rows dropped; "
        if hit.isEmpty {
            line += "none of the \(counts.count) distinct tokens of x"
        } else {
            let names = hit.prefix(6).map { id in
                let tok = id < vocab.count ? pythonRepr(vocab[id]) : "#\(id)"
                return "\(tok) ×\(counts[id]!)"
            }
            line += "in x: " + names.joined(separator: ", ") + (hit.count > 6 ? ", …" : "")
        }
        return [line]
    }

    /// Eighth-block bars, lowest to highest.
    static let bars: [Character] = ["▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"]

    /// The gates of batch row `b`: for each gate a bar per time step (the mean over the units
    /// at that step), on a fixed scale — 0 … 1 for the sigmoid gates i, f, o, −1 … 1 for the
    /// tanh candidate g — so an untrained layer's gates sit visibly at the middle; then the
    /// smallest and largest step mean.
    static func gateMap(_ layer: LayerTrace, row b: Int = 0, maxColumns: Int = 72) -> [String] {
        let bs = layer.gates.shape[0], T = layer.gates.shape[1], H = layer.hiddenSize
        guard b < bs, T > 0, H > 0 else { return [] }
        let cols = min(T, maxColumns)
        let scaled = cols < T ? ", steps averaged to \(cols) columns" : ""
        var lines = ["  gates of row \(b), mean over \(H) units at each of \(T) steps\(scaled)",
                     "    (bars ▁ 0 … █ 1; for g ▁ -1 … █ 1):"]
        let g = layer.gates
        for k in 0..<4 {
            var means = [Double](repeating: 0, count: T)
            for t in 0..<T {
                var s = 0.0
                for j in 0..<H { s += Double(g.data[(b * T + t) * 4 * H + k * H + j]) }
                means[t] = s / Double(H)
            }
            var shades = ""
            for c in 0..<cols {
                let t0 = c * T / cols, t1 = max(t0 + 1, (c + 1) * T / cols)
                let m = means[t0..<t1].reduce(0, +) / Double(t1 - t0)
                let unit = k == 2 ? (m + 1) / 2 : m
                shades.append(bars[Inspect.cell(unit * Double(bars.count), bars.count)])
            }
            let lo = means.min() ?? 0, hi = means.max() ?? 0
            lines.append("    \(LayerTrace.gateNames[k]) │\(shades)│ \(String(format: "%.2f", lo)) … \(String(format: "%.2f", hi))")
        }
        return lines
    }

    static func weightMask(_ m: Tensor, p: Float, H: Int) -> [String] {
        var lines = ["  weight dropout (DropConnect) on weight_hh \(m.shape), p=\(Self.p(p)): \(dropCount(m)) (\(f3(zeros(m))))",
                     "    first row of each gate block:"]
        lines += maskRows((0..<4).map { k in ("\(LayerTrace.gateNames[k])[0]", m.data[(k * H) * H ..< (k * H + 1) * H]) })
        return lines
    }

    static func lm(_ t: TraceResult) -> String {
        var out: [String] = []
        out.append("input x            \(t.x.shape) token ids")
        if let e = t.embedding {
            out.append("embedding          \(e.description)")
            out.append("  zero entries (embedding dropout): \(f3(zeros(e)))")
        }
        let mt = t.masks
        if let m = mt?.masks.embedding, let mt { out += embeddingDropout(m, p: mt.embedP, x: t.x, vocab: t.vocab) }
        if let m = mt?.masks.input, let mt {
            out.append("  input dropout mask \(m.shape) p=\(p(mt.inputP)) (█ kept, · dropped): \(dropCount(m))")
            out += maskMatrix(m)
        }
        for l in t.layers {
            let k = l.index
            out.append("layer \(k): LSTM \(l.input.shape.last ?? 0) → \(l.hiddenSize), \(l.gates.shape[1]) steps")
            if let m = mt?.masks.weight[k], let mt { out += weightMask(m, p: mt.weightP, H: l.hiddenSize) }
            out += gateMap(l)
            out.append("layer \(k) raw output \(l.h.description)")
            if k < t.layers.count - 1 {
                out.append("layer \(k) after hidden dropout: zero fraction \(f3(zeros(l.output)))")
                if let mt, k < mt.masks.hidden.count, let m = mt.masks.hidden[k] {
                    out.append("  hidden dropout mask \(m.shape) p=\(p(mt.hiddenP)): \(dropCount(m))")
                    out += maskMatrix(m)
                }
            }
            if k < t.carried.count { out.append("layer \(k) hidden h  \(t.carried[k].description)") }
        }
        if let d = t.dropped { out.append("decoder input (output dropout): zero fraction \(f3(zeros(d)))") }
        if let m = mt?.masks.output, let mt {
            out.append("  output dropout mask \(m.shape) p=\(p(mt.outputP)): \(dropCount(m))")
            out += maskMatrix(m)
        }
        if let lg = t.logits { out.append("logits             \(lg.description)") }
        out.append("loss: cross-entropy \(Tensor.format(Float(t.loss))), AR \(Tensor.format(Float(t.ar))), TAR \(Tensor.format(Float(t.tar)))")
        out += gradNorms(t.grads)
        return out.joined(separator: "\n")
    }

    static func classifier(_ t: TraceResult) -> String {
        var out = ["input x            \(t.x.shape) token ids (padding first)"]
        if let o = t.encoderOutputs { out.append("encoder outputs    \(o.description)") }
        if let p = t.pooled { out.append("pooled [last, max, mean] \(p.description)") }
        if let lg = t.logits { out.append("logits             \(lg.description)") }
        out.append("loss: cross-entropy \(Tensor.format(Float(t.loss)))")
        out += gradNorms(t.grads)
        return out.joined(separator: "\n")
    }

    static func gradNorms(_ g: GradTrace) -> [String] {
        ["gradient norms:"] + g.grads.map { n, t in
            "  \(n.padding(toLength: 28, withPad: " ", startingAt: 0)) \(t.map { Tensor.format(Float(InspectBindings.norm($0))) } ?? "(frozen)")"
        }
    }
}
