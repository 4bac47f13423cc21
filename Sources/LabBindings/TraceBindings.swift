import Lab
import Models
import Tensor

/// The object types of `t = trace(learn, x, y)`: the trace, its masks, its layers and its
/// gradients. Every tensor they hand out is a copy taken during the traced step, so the
/// usual tensor inspection (`.shape`, `inspect`, slices, `plot`) works on it afterwards.
enum TraceBindings {
    /// A small traced step, for the examples of the trace types.
    static let traceSample = "d = sample_lm_data(n_texts=20, bs=4, seq_len=8); learn = language_model_learner(d, emb_sz=8, n_hid=16, n_layers=2); x, y = d.one_batch(); t = trace(learn, x[:2], y[:2])"

    static func opt(_ t: Tensor?) -> Value { t.map { .tensor($0) } ?? .none }

    static func configure(_ types: LearnTypes) {
        let (traceType, masksType, layerType, gradsType) = (types.trace, types.masks, types.layer, types.grads)
        traceType
            .sample(traceSample)
            .attribute("x", "input token ids [bs, seq_len]") { .tensor($0.x) }
            .attribute("y", "targets: next tokens [bs, seq_len] (LM) or labels [bs] (classifier)") { .tensor($0.y) }
            .attribute("embedding", "embedding lookup after embedding dropout [bs, seq_len, emb] (LM)") { opt($0.embedding) }
            .attribute("masks", "the dropout masks (TraceMasks: embedding, input, hidden, weight, output) (LM)") { t in
                t.masks.map { masksType.wrap($0) } ?? .none
            }
            .attribute("layers", "one TraceLayer per LSTM layer: input, gates, i, f, g, o, h, c, output (LM)") { t in
                .list(t.layers.map { layerType.wrap($0) })
            }
            .attribute("dropped", "decoder input after output dropout [bs, seq_len, emb] (LM)") { opt($0.dropped) }
            .attribute("logits", "the logits: [bs, seq_len, vocab] (LM), [bs, classes] (classifier)") { opt($0.logits) }
            .attribute("outputs", "SentenceEncoder outputs [bs, len, emb] (classifier)") { opt($0.encoderOutputs) }
            .attribute("pooled", "pooled [last, max, mean] features [bs, 3·emb] (classifier)") { opt($0.pooled) }
            .attribute("loss", "the cross-entropy (the reported loss)") { .float($0.loss) }
            .attribute("ar", "the AR term (alpha · mean of the dropped output squared)") { .float($0.ar) }
            .attribute("tar", "the TAR term (beta · mean squared step-to-step change of the raw output)") { .float($0.tar) }
            .attribute("grads", "gradients by parameter name (TraceGrads): t.grads['0.encoder.weight']") { gradsType.wrap($0.grads) }
            .display { $0.kind == .languageModel ? TraceText.lm($0) : TraceText.classifier($0) }

        masksType
            .attribute("embedding", "EmbeddingDropout: one entry per vocabulary row [vocab]") { opt($0.masks.embedding) }
            .attribute("input", "input RNNDropout on the embeddings [bs, emb], the same at every step") { opt($0.masks.input) }
            .attribute("hidden", "RNNDropout between layers: a list of [bs, hidden], one per layer but the last") { m in
                .list(m.masks.hidden.map(opt))
            }
            .attribute("weight", "WeightDropout (DropConnect) on each layer's weight_hh: a list of [4·hidden, hidden]") { m in
                .list(m.masks.weight.map(opt))
            }
            .attribute("output", "output RNNDropout before the decoder [bs, emb]") { opt($0.masks.output) }
            .display { m in
                func line(_ name: String, _ t: Tensor?, _ p: Float) -> String {
                    let what = t.map { "\($0.shape) p=\(TraceText.p(p)): \(TraceText.dropCount($0))" } ?? "off"
                    return "  \(Help.pad(name, 10)) \(what)"
                }
                var lines = ["dropout masks (0 = dropped, 1/(1-p) = kept):", line("embedding", m.masks.embedding, m.embedP),
                             line("input", m.masks.input, m.inputP)]
                for (l, t) in m.masks.hidden.enumerated() { lines.append(line("hidden[\(l)]", t, m.hiddenP)) }
                for (l, t) in m.masks.weight.enumerated() { lines.append(line("weight[\(l)]", t, m.weightP)) }
                lines.append(line("output", m.masks.output, m.outputP))
                return lines.joined(separator: "\n")
            }

        layerType
            .attribute("input", "what the layer read [bs, seq_len, n_in] (after input or hidden dropout)") { .tensor($0.input) }
            .attribute("gates", "activated gates [bs, seq_len, 4·hidden], blocks i, f, g, o (PyTorch's order)") { .tensor($0.gates) }
            .attribute("i", "input gate sigmoid(...) [bs, seq_len, hidden]") { .tensor($0.gate(0)) }
            .attribute("f", "forget gate [bs, seq_len, hidden]") { .tensor($0.gate(1)) }
            .attribute("g", "cell candidate tanh(...) [bs, seq_len, hidden]") { .tensor($0.gate(2)) }
            .attribute("o", "output gate [bs, seq_len, hidden]") { .tensor($0.gate(3)) }
            .attribute("h", "hidden state after each step (the raw output) [bs, seq_len, hidden]") { .tensor($0.h) }
            .attribute("c", "cell state after each step [bs, seq_len, hidden]") { .tensor($0.c) }
            .attribute("output", "output after hidden dropout, what the next layer reads [bs, seq_len, hidden]") { .tensor($0.output) }
            .display { l in
                (["LSTM layer \(l.index): \(l.input.shape.last ?? 0) → \(l.hiddenSize), gates \(l.gates.shape)"]
                 + TraceText.gateMap(l)).joined(separator: "\n")
            }

        gradsType
            .sample(traceSample + "; g = t.grads")
            .method("__getitem__", "the gradient of a parameter (a Tensor), None when frozen", [Param("name", .str, "the parameter's name")],
                    example: "g['0.encoder.weight'].shape") { g, a in
                let name = try a.string("name")
                guard let entry = g.grads.first(where: { $0.name == name }) else {
                    throw a.error("no parameter '\(name)'" + Suggest.didYouMean(name, among: g.grads.map(\.name)))
                }
                return opt(entry.grad)
            }
            .method("__len__", "number of parameters", example: "len(g)") { g, _ in .int(g.grads.count) }
            .method("keys", "the parameter names", example: "g.keys()") { g, _ in .list(g.grads.map { .string($0.name) }) }
            .display { TraceText.gradNorms($0).joined(separator: "\n") }
    }

    static func install(in s: Session, _ types: LearnTypes) {
        configure(types)
        s.register(type: types.trace)
        s.register(type: types.masks)
        s.register(type: types.layer)
        s.register(type: types.grads)
    }
}
