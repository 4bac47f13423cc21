import Lab
import Foundation
import Learn
import Models
import Tensor

/// A model (or one of its submodules) seen by parameter-name prefix, as PyTorch's
/// `learn.model[0].encoder.weight` walks modules: `prefix` is `""` for the whole model,
/// `"0."` for `learn.model[0]`, `"0.encoder."` for its embedding, and so on.
struct ModelView {
    var lm: AWDLSTMLanguageModel?
    var clas: TextClassifierModel?
    var prefix = ""
    /// The session's types, to wrap children.
    let types: LearnTypes

    init(_ m: AWDLSTMLanguageModel, _ types: LearnTypes) { lm = m; self.types = types }
    init(_ m: TextClassifierModel, _ types: LearnTypes) { clas = m; self.types = types }

    var parameters: [Parameter] { lm?.parameters ?? clas?.parameters ?? [] }
    var encoder: AWDLSTM? { lm?.encoder ?? clas?.encoder.module }
    var mine: [Parameter] { parameters.filter { $0.name.hasPrefix(prefix) } }

    func parameter(_ name: String) -> Parameter? {
        lm?.parameter(named: name) ?? clas?.parameter(named: name)
    }

    /// The child `name`: a parameter, or a submodule when some parameter name continues with it.
    /// From the top, `encoder`/`rnns` also find `0.encoder`/`0.rnns` (the LM's `model[0]`).
    func child(_ name: String) -> Value? {
        for p in [prefix] + (prefix.isEmpty ? ["0."] : []) {
            if let param = parameter(p + name), param.name.hasPrefix(p + name) || p + name == "1.decoder.weight" {
                return types.parameter.wrap(param)
            }
            if parameters.contains(where: { $0.name.hasPrefix(p + name + ".") }) {
                var v = self
                v.prefix = p + name + "."
                return types.module(v)
            }
        }
        return nil
    }

    var table: String {
        let ps = mine
        let w = max(4, ps.map(\.name.count).max() ?? 4)
        var lines = ["\("name".padding(toLength: w, withPad: " ", startingAt: 0))  shape            trainable"]
        for p in ps {
            let shape = "\(p.value.shape)".padding(toLength: 16, withPad: " ", startingAt: 0)
            lines.append("\(p.name.padding(toLength: w, withPad: " ", startingAt: 0))  \(shape) \(p.requiresGrad ? "yes" : "no")")
        }
        let total = ps.reduce(0) { $0 + $1.value.count }
        lines.append("\(ps.count) tensors, \(total) parameters")
        return lines.joined(separator: "\n")
    }
}

/// A `ModelView` in the language: the type's methods, then children by name (`m.encoder`).
final class ModuleObject: LabObject {
    let view: ModelView
    init(_ view: ModelView) { self.view = view }
    var typeName: String { view.types.model.name }
    var members: [Member] {
        let names = Set(view.mine.compactMap { p -> String? in
            let rest = p.name.dropFirst(view.prefix.count)
            return rest.split(separator: ".").first.map(String.init)
        })
        return view.types.model.members + names.sorted().map { Member($0, kind: .attribute, summary: "submodule or parameter") }
    }
    func attribute(_ name: String) throws -> Value? {
        if let v = try view.types.model.member(name, of: view) { return v }
        return view.child(name)
    }
    var display: String { view.types.model.render(view) }
}

/// `learn.model` inspection: parameters by name, gradients, activations and hidden states after
/// `forward`, and `trace(learn, x, y)`.
enum InspectBindings {

    /// A tiny language model and one batch, for the examples of the model types.
    static let modelSample = "d = sample_lm_data(n_texts=20, bs=4, seq_len=8); learn = language_model_learner(d, emb_sz=8, n_hid=16, n_layers=2); m = learn.model; x, y = d.one_batch()"
    static let layerParam = Param("l", .int, "the LSTM layer (0 first)")

    static func configure(_ types: LearnTypes) {
        let (parameterType, modelType) = (types.parameter, types.model)
        parameterType
            .sample(modelSample + "; p = m.encoder.weight")
            .attribute("data", "the values (a Tensor)") { .tensor($0.value) }
            .attribute("grad", "the gradient (a Tensor), None when none was computed") { p in p.hasGrad ? .tensor(p.grad) : .none }
            .attribute("shape", "the shape") { p in .tuple(p.value.shape.map { .int($0) }) }
            .attribute("name", "fastai/PyTorch name") { .string($0.name) }
            .attribute("requires_grad", "False when its group is frozen") { .bool($0.requiresGrad) }
            .method("numel", "number of values", example: "p.numel()") { p, _ in .int(p.value.count) }
            .method("norm", "L2 norm of the values", example: "p.norm()") { p, _ in .float(norm(p.value)) }
            .method("mean", "mean of the values", example: "p.mean()") { p, _ in .float(p.value.data.reduce(0.0) { $0 + Double($1) } / Double(max(1, p.value.count))) }
            .method("std", "standard deviation of the values", example: "p.std()") { p, _ in .float(std(p.value)) }
            .display { p in "Parameter \(p.name): " + p.value.description }

        modelType
            .sample(modelSample)
            .method("__getitem__", "submodule i (m[0]) or a parameter by full name (m['0.encoder.weight'])",
                    [Param("i", "a submodule index (int) or a parameter name (str)")], example: "m['0.encoder.weight'].shape") { m, a in
                let k = try a.value("i")
                let key: String
                switch k {
                case .int(let i): key = String(i)
                case .string(let n): key = n.hasPrefix(m.prefix) ? String(n.dropFirst(m.prefix.count)) : n
                default: throw a.error("index must be an int or a parameter name, got \(k.typeName)")
                }
                if let v = m.child(key) { return v }
                var full = m
                full.prefix = ""
                if case .string(let n) = k, let v = full.child(n) { return v }
                throw a.error("no parameter or submodule \(k.repr) (see .parameters())")
            }
            .method("parameters", "name, shape and trainable flag of every parameter (a table)", example: "m.parameters()") { m, a in
                a.session.emit(m.table)
                return .none
            }
            .method("named_parameters", "list of (name, Parameter)", example: "m.named_parameters()[0]") { m, _ in
                .list(m.mine.map { .tuple([.string($0.name), parameterType.wrap($0)]) })
            }
            .method("state_dict_keys", "every parameter name", example: "m.state_dict_keys()") { m, _ in .list(m.mine.map { .string($0.name) }) }
            .method("forward", "run a batch of ids [bs, seq_len] (eval mode, state reset): the logits; then activations(), hidden_state(l)",
                    [Param("x", .tensor, "token ids [bs, seq_len]")], example: "logits = m.forward(x)") { m, a in
                let x = try ids(try a.tensor("x"), a, vocab: m.lm?.vocabSize ?? m.clas?.vocabSize ?? 0)
                if let lm = m.lm {
                    lm.isTraining = false; lm.reset()
                    defer { lm.isTraining = true }
                    return .tensor(try lm.forward(x).logits)
                }
                guard let c = m.clas else { return .none }
                c.isTraining = false; c.reset()
                defer { c.isTraining = true }
                return .tensor(try c.forward(x))
            }
            .method("embedding_output", "the embedding of the last forward [bs, seq_len, emb]",
                    example: "m.forward(x); m.embedding_output().shape") { m, a in
                guard let e = m.encoder, m.lm != nil else { throw a.error("only the language model keeps its embedding output") }
                return .tensor(e.embeddingOutput)
            }
            .method("layer_output", "output of LSTM layer l in the last forward [bs, seq_len, hidden]",
                    [layerParam, Param("raw", .bool, default: false, "the output before hidden dropout")],
                    example: "m.forward(x); m.layer_output(1).shape") { m, a in
                guard let e = m.encoder, m.lm != nil else { throw a.error("only the language model keeps per-layer outputs") }
                let l = try layer(a, e)
                return .tensor(try a.bool("raw") ? e.rawOutput(ofLayer: l) : e.output(ofLayer: l))
            }
            .method("hidden_state", "the hidden state h carried by layer l after the last forward [bs, hidden]", [layerParam],
                    example: "m.forward(x); m.hidden_state(0).shape") { m, a in
                guard let e = m.encoder else { throw a.error("no encoder") }
                let l = try layer(a, e)
                let snap = e.snapshot()
                let h = snap.h[l]
                let bs = snap.batchSize
                return .tensor(Tensor(shape: [bs, bs == 0 ? 0 : h.count / max(bs, 1)], data: h))
            }
            .method("reset", "zero the carried hidden state", example: "m.reset()") { m, _ in m.lm?.reset(); m.clas?.reset(); return .none }
            .display { m in
                let kind = m.lm != nil ? "SequentialRNN (AWD-LSTM language model)" : "SequentialRNN (AWD-LSTM classifier)"
                return (m.prefix.isEmpty ? kind : "module \(m.prefix.dropLast())") + "\n" + m.table
            }
    }

    static func install(in s: Session, _ types: LearnTypes) {
        configure(types)
        s.register(type: types.parameter)
        s.register(type: types.model)
        TraceBindings.install(in: s, types)
        s.register(Builtin("trace", [Param("learn", "a language-model or classifier learner"), Param("x", .tensor, "token ids [bs, seq_len]"),
                                     Param("y", .tensor, "targets: next tokens [bs, seq_len] (LM) or labels [bs] (classifier)")],
                           summary: "one training step, traced (no optimizer step): dropout masks, gates per time step, states, logits, loss, gradients; a Trace: t.masks.input, t.layers[0].gates, t.grads[name] (help Trace)",
                           example: "d = sample_lm_data(n_texts=20, bs=4, seq_len=8); learn = language_model_learner(d, emb_sz=8, n_hid=16, n_layers=2); x, y = d.one_batch(); t = trace(learn, x[:2], y[:2]); t.layers[0].f.shape", topic: "learn") { a in
            let lv = try a.value("learn")
            let xt = try a.tensor("x"), yt = try a.tensor("y")
            if let l = types.lm.unwrap(lv) {
                return types.trace.wrap(try traceLM(l, xt, yt, a))
            } else if let l = types.clas.unwrap(lv) {
                return types.trace.wrap(try traceClassifier(l, xt, yt, a))
            }
            throw a.error("'learn' must be a learner, got \(lv.typeName)")
        })
    }

    static func layer(_ a: Arguments, _ e: AWDLSTM) throws -> Int {
        let l = try a.int("l")
        guard l >= 0, l < e.layers.count else { throw a.error("layer must be between 0 and \(e.layers.count - 1), got \(l)") }
        return l
    }

    /// Token ids from a float tensor `[bs, seq_len]` (checked against the vocabulary).
    static func ids(_ t: Tensor, _ a: Arguments, vocab: Int) throws -> TokenBatch {
        guard t.rank == 2, t.shape[0] > 0, t.shape[1] > 0 else { throw a.error("x must be a [bs, seq_len] tensor of token ids, got shape \(t.shape)") }
        var out: [Int] = []
        out.reserveCapacity(t.count)
        for v in t.data {
            guard v == v.rounded(), v >= 0, Int(v) < vocab else { throw a.error("x holds \(Tensor.format(v)), not a token id below \(vocab)") }
            out.append(Int(v))
        }
        return TokenBatch(batchSize: t.shape[0], seqLen: t.shape[1], ids: out)
    }

    static func norm(_ t: Tensor) -> Double { t.data.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot() }
    static func std(_ t: Tensor) -> Double {
        let n = Double(max(1, t.count))
        let m = t.data.reduce(0.0) { $0 + Double($1) } / n
        return (t.data.reduce(0.0) { $0 + (Double($1) - m) * (Double($1) - m) } / n).squareRoot()
    }
    static func zeros(_ t: Tensor) -> Double { Double(t.data.filter { $0 == 0 }.count) / Double(max(1, t.count)) }

    static func traceLM(_ l: LanguageModelLearner, _ xt: Tensor, _ yt: Tensor, _ a: Arguments) throws -> TraceResult {
        let m = l.model, V = m.vocabSize
        let x = try ids(xt, a, vocab: V), y = try ids(yt, a, vocab: V)
        guard x.batchSize == y.batchSize, x.seqLen == y.seqLen else { throw a.error("x and y must have the same shape") }
        let t = TraceResult(kind: .languageModel, x: xt, y: yt)
        t.vocab = l.data.vocab.items
        m.isTraining = true
        m.reset()
        l.optimizer.zeroGrad()
        let start = m.encoder.snapshot()
        let f = try m.forward(x)
        let e = m.encoder
        // Read right after the forward call: the backward pass overwrites the gates.
        t.capture(e, outputP: m.decoder.outputP, outputMask: m.decoder.lastOutputMask)
        let snap = e.snapshot()
        t.carried = e.layers.indices.map { k in
            Tensor(shape: [snap.batchSize, snap.h[k].count / max(1, snap.batchSize)], data: snap.h[k])
        }
        t.dropped = f.dropped
        t.logits = f.logits
        // Same state and dropout generator again, so the backward pass sees the masks shown above.
        e.restore(start)
        let ce = try m.lossAndBackward(x: x, y: y, arAlpha: TextRegularization.alpha, tarBeta: TextRegularization.beta)
        let terms = m.lastLoss
        t.loss = Double(ce)
        t.ar = Double(terms.ar)
        t.tar = Double(terms.tar)
        t.grads = GradTrace(grads: m.parameters.map { ($0.name, $0.hasGrad ? $0.grad : nil) })
        m.reset()
        return t
    }

    static func traceClassifier(_ l: TextClassifierLearner, _ xt: Tensor, _ yt: Tensor, _ a: Arguments) throws -> TraceResult {
        let m = l.model
        let x = try ids(xt, a, vocab: m.vocabSize)
        let y = try yt.data.map { v -> Int in
            guard v == v.rounded(), v >= 0, Int(v) < m.classes else { throw a.error("y holds \(Tensor.format(v)), not a label below \(m.classes)") }
            return Int(v)
        }
        guard y.count == x.batchSize else { throw a.error("y must have one label per row of x") }
        let t = TraceResult(kind: .classifier, x: xt, y: yt)
        t.vocab = l.data.vocab.items
        m.isTraining = true
        l.optimizer.zeroGrad()
        // A forward call to read the logits, then the same generators and BatchNorm running
        // statistics again for the step itself (so the trace updates them only once, as a step does).
        let (headRNG, encoderRNG, headState) = (m.head.rng, m.encoder.module.rng, m.head.stateDict())
        t.logits = try m.forward(x)
        m.head.rng = headRNG
        m.encoder.module.rng = encoderRNG
        try m.head.load(stateDict: headState)
        let ce = try m.lossAndBackward(x: x, y: y, arAlpha: TextRegularization.alpha, tarBeta: TextRegularization.beta)
        t.loss = Double(ce)
        t.encoderOutputs = m.lastEncoderOutputs
        t.pooled = m.lastPooled
        t.grads = GradTrace(grads: m.parameters.map { ($0.name, $0.hasGrad ? $0.grad : nil) })
        m.reset()
        return t
    }
}
