import Foundation
import Testing
import Tensor
@testable import Lab
@testable import LabBindings

/// `trace(learn, x, y)`: the printed summary (masks, gates per step) and the Trace object's
/// tensors, which must be the ones the traced pass actually used.
@Suite(.serialized) struct TraceTests {
    /// The tiny learner of `LearnBindingsTests` (emb 8, hidden 16, 2 layers, bs 4 × 8) and a traced batch of 2 rows.
    static func traced() throws -> (Session, URL) {
        let (s, dir) = try LearnBindingsTests.session()
        let r = s.run("x, y = dls_lm.one_batch(); x = x[:2]; y = y[:2]; t = trace(learn, x, y)")
        #expect(r.error == nil, "\(r.text)")
        #expect(r.text.isEmpty, "an assigned trace prints nothing, got \(r.text)")
        return (s, dir)
    }

    func tensor(_ s: Session, _ expr: String, sourceLocation: Testing.SourceLocation = #_sourceLocation) throws -> Tensor {
        let v = try s.evaluate(expr)
        return try #require(v.asTensor, "\(expr) is \(v.typeName)", sourceLocation: sourceLocation)
    }

    @Test func attributesAreTensorsOfTheDocumentedShapes() throws {
        let (s, dir) = try Self.traced()
        defer { try? FileManager.default.removeItem(at: dir) }
        let V = try tensor(s, "t.masks.embedding").shape[0]
        #expect(V == (try s.evaluate("len(dls_lm.vocab)")).number.map { Int($0) })
        let shapes: [(String, [Int])] = [
            ("t.x", [2, 8]), ("t.y", [2, 8]), ("t.embedding", [2, 8, 8]),
            ("t.masks.input", [2, 8]), ("t.masks.hidden[0]", [2, 16]), ("t.masks.output", [2, 8]),
            ("t.masks.weight[0]", [64, 16]), ("t.masks.weight[1]", [32, 8]),
            ("t.layers[0].input", [2, 8, 8]), ("t.layers[0].gates", [2, 8, 64]),
            ("t.layers[0].i", [2, 8, 16]), ("t.layers[0].f", [2, 8, 16]), ("t.layers[0].g", [2, 8, 16]),
            ("t.layers[0].o", [2, 8, 16]), ("t.layers[0].h", [2, 8, 16]), ("t.layers[0].c", [2, 8, 16]),
            ("t.layers[0].output", [2, 8, 16]), ("t.layers[1].gates", [2, 8, 32]), ("t.layers[1].h", [2, 8, 8]),
            ("t.dropped", [2, 8, 8]), ("t.logits", [2, 8, V]), ("t.grads['0.encoder.weight']", [V, 8]),
            ("t.grads['0.rnns.1.weight_hh_l0_raw']", [32, 8]),
        ]
        for (expr, shape) in shapes { #expect(try tensor(s, expr).shape == shape, "\(expr)") }
        #expect(show("len(t.layers), len(t.grads), t.loss > 0, t.ar >= 0", in: s) == "(2, 10, True, True)")
        #expect(show("t.grads.keys()[0]", in: s) == "'0.encoder.weight'")
        // The existing inspection commands work on them.
        #expect(show("inspect(t.layers[0].f[0])", in: s).contains("heat map (8×16)"))
        #expect(show("t.grads['nope']", in: s).contains("no parameter 'nope'"))
        #expect(show("help Trace", in: s).contains("layers"))
    }

    @Test func theTensorsAreTheOnesThePassUsed() throws {
        let (s, dir) = try Self.traced()
        defer { try? FileManager.default.removeItem(at: dir) }
        // Layer 0 read the embedding times the input mask (one mask row per batch row, every step).
        let emb = try tensor(s, "t.embedding"), mask = try tensor(s, "t.masks.input"), in0 = try tensor(s, "t.layers[0].input")
        for b in 0..<2 { for t in 0..<8 { for k in 0..<8 { #expect(in0[b, t, k] == emb[b, t, k] * mask[b, k]) } } }
        // Layer 1 read layer 0's output after the hidden mask.
        #expect(try tensor(s, "t.layers[1].input") == (try tensor(s, "t.layers[0].output")))
        let h0 = try tensor(s, "t.layers[0].h"), hm = try tensor(s, "t.masks.hidden[0]"), out0 = try tensor(s, "t.layers[0].output")
        for b in 0..<2 { for t in 0..<8 { for k in 0..<16 { #expect(out0[b, t, k] == h0[b, t, k] * hm[b, k]) } } }
        // The gates and states satisfy h = o · tanh(c) (tolerance: fast tanh, about 1e-7 absolute).
        let o = try tensor(s, "t.layers[0].o"), c = try tensor(s, "t.layers[0].c")
        var worst: Float = 0
        for j in 0..<h0.count { worst = max(worst, abs(h0.data[j] - o.data[j] * Foundation.tanh(c.data[j]))) }
        #expect(worst < 1e-5, "largest |h − o·tanh(c)| \(worst)")
        // Gates in range: sigmoid gates in (0, 1), the candidate in (−1, 1).
        #expect(try tensor(s, "t.layers[0].i").data.allSatisfy { $0 > 0 && $0 < 1 })
        #expect(try tensor(s, "t.layers[0].g").data.allSatisfy { $0 > -1 && $0 < 1 })
        // The gradients are the ones left in the parameters by the traced backward pass.
        #expect(try tensor(s, "t.grads['0.rnns.0.module.weight_ih_l0']") == (try tensor(s, "learn.model['0.rnns.0.module.weight_ih_l0'].grad")))
        // Masks hold 0 or 1/(1-p): input_p = 0.25 · drop_mult 0.3.
        let keep = 1 / (1 - Float(0.25) * 0.3)
        #expect(mask.data.allSatisfy { $0 == 0 || abs($0 - keep) < 1e-6 })
    }

    @Test func theSummaryShowsMasksAndGatesPerStep() throws {
        let (s, dir) = try Self.traced()
        defer { try? FileManager.default.removeItem(at: dir) }
        let text = show("t", in: s)
        let lines = text.split(separator: "\n").map(String.init)
        for needle in ["input x            [2, 8] token ids", "embedding dropout p=0.006",
                       "input dropout mask [2, 8] p=0.075 (█ kept, · dropped)",
                       "layer 0: LSTM 8 → 16, 8 steps", "weight dropout (DropConnect) on weight_hh [64, 16], p=0.06",
                       "hidden dropout mask [2, 16] p=0.045", "output dropout mask [2, 8] p=0.03",
                       "gates of row 0, mean over 16 units at each of 8 steps", "loss: cross-entropy", "gradient norms:"] {
            #expect(text.contains(needle), "summary lacks '\(needle)'")
        }
        // One bar per time step for each of the four gates of each layer.
        let gateLines = lines.filter { l in ["i", "f", "g", "o"].contains { l.hasPrefix("    \($0) │") } }
        #expect(gateLines.count == 8)
        for l in gateLines {
            let bars = l.split(separator: "│")[1]
            #expect(bars.count == 8, "\(l)")
        }
        // The mask rows are the masks: '·' exactly where the input mask is 0.
        let mask = try tensor(s, "t.masks.input")
        let row0 = try #require(lines.first { $0.hasPrefix("    row 0 │") })
        #expect(Array(row0.split(separator: "│")[1]) == mask.data[0..<8].map { $0 == 0 ? "·" : "█" })
        // Readable in a 100-column terminal (the one-line tensor summaries aside).
        for l in lines where !l.contains("Tensor [") { #expect(l.count <= 100, "too wide: \(l)") }
        // The plain call shows the same summary.
        #expect(show("trace(learn, x, y)", in: s).hasPrefix("input x            [2, 8] token ids\nembedding"))
    }

    @Test func classifierTraceKeepsLogitsLossAndGradients() throws {
        let (s, dir) = try LearnBindingsTests.session()
        defer { try? FileManager.default.removeItem(at: dir) }
        let r = s.run("""
        dls_clas = sample_clas_data(dls_lm, n_texts=8, bs=4, seq_len=8)
        clas = text_classifier_learner(dls_clas, drop_mult=0.5, metrics=accuracy, emb_sz=8, n_hid=16, n_layers=2)
        cx, cy = dls_clas.one_batch()
        ct = trace(clas, cx, cy)
        """)
        #expect(r.error == nil, "\(r.text)")
        let logits = try tensor(s, "ct.logits"), y = try tensor(s, "cy")
        #expect(logits.shape == [4, 2])
        #expect(try tensor(s, "ct.pooled").shape == [4, 24])
        // The logits are those of the traced step: their cross-entropy is the reported loss
        // (tolerance: float32 log-sum-exp of two logits).
        var ce = 0.0
        for b in 0..<4 {
            let z0 = Double(logits[b, 0]), z1 = Double(logits[b, 1])
            let m = max(z0, z1)
            let lse: Double = m + Foundation.log(Foundation.exp(z0 - m) + Foundation.exp(z1 - m))
            ce += lse - (y[b] == 0 ? z0 : z1)
        }
        let loss = try #require(try s.evaluate("ct.loss").number)
        #expect(abs(ce / 4 - loss) < 1e-5, "loss \(loss) vs cross-entropy of the logits \(ce / 4)")
        #expect(show("ct", in: s).contains("pooled [last, max, mean] Tensor [4, 24]"))
        #expect(show("ct.layers", in: s) == "[]")
    }
}
