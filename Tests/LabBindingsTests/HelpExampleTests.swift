import Foundation
import Testing
@testable import Lab
@testable import LabBindings

/// One runnable example from help: a builtin's, or a method's after its type's sample.
struct HelpExample: Sendable, CustomTestStringConvertible {
    var owner: String
    var setup: String
    var example: String
    var testDescription: String { owner }

    /// Every example of a full session: builtins, then the methods of every object type,
    /// tensors and plain values included.
    static var all: [HelpExample] {
        let s = Session()
        var out = s.builtins.values.sorted { $0.name < $1.name }.map { HelpExample(owner: $0.name, setup: "", example: $0.example) }
        var types = s.types.values.map { ($0.name, $0.sample(), $0.members()) }
        types.append(("Tensor", s.tensorType.sample, s.tensorType.members))
        for (name, t) in s.valueTypes { types.append((name, t.sample, t.members)) }
        for (name, sample, members) in types.sorted(by: { $0.0 < $1.0 }) {
            for m in members where m.kind == .method && !m.example.isEmpty {
                out.append(HelpExample(owner: "\(name).\(m.name)", setup: sample, example: m.example))
            }
        }
        return out
    }
}

/// Help must describe what runs: every example, methods included, runs without error in a
/// fresh session (a method's after its type's sample), and every parameter is documented.
@Suite struct HelpExampleTests {
    @Test(arguments: HelpExample.all) func exampleRuns(_ e: HelpExample) throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("lmlab-example-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let s = Session()
        s.directory = dir.path
        if !e.setup.isEmpty {
            let r = s.run(e.setup)
            #expect(r.error == nil, "sample for \(e.owner): \(e.setup) → \(r.text)")
        }
        let r = s.run(e.example)
        #expect(r.error == nil, "example of \(e.owner): \(e.example) → \(r.text)")
    }

    @Test func everyBuiltinAndMethodHasAnExampleAndDocumentedParameters() {
        let s = Session()
        for b in s.builtins.values {
            #expect(!b.example.isEmpty, "\(b.name) has no example")
            for p in b.parameters { #expect(!p.doc.isEmpty, "\(b.name): parameter \(p.name) has no doc") }
        }
        let typesWithoutSample = s.types.values.filter { t in t.members().contains { !$0.example.isEmpty } && t.sample().isEmpty }
        #expect(typesWithoutSample.map(\.name) == [], "method examples need their type's sample")
    }

    @Test func signaturesSayWhatIsRead() {
        let s = Session()
        #expect(s.builtins["range"]?.signature == "range(start, stop=None, step=1)")
        #expect(show("range(2, stop=5)", in: s) == "[2, 3, 4]")
        #expect(show("range(3)", in: s) == "[0, 1, 2]")
        #expect(show("Path(Path('Datasets'))", in: s) == "Path('Datasets')", "a parameter typed any keeps what the code accepts")
        #expect(s.builtins["randn"]?.signature == "randn(*shape, seed=None)")
        #expect(show("help(learn.predict)", in: s).hasPrefix("error"))
        _ = s.run("learn = language_model_learner(sample_lm_data(n_texts=20, bs=4, seq_len=8), emb_sz=8, n_hid=16, n_layers=2)")
        #expect(show("help(learn.predict)", in: s).hasPrefix("predict(text, n_words=1, temperature=1.0, seed=None)\n"))
        // Defaults shown come from the declaration that the call reads.
        #expect(s.builtins["language_model_learner"]?.signature
                == "language_model_learner(dls, arch=AWD_LSTM, drop_mult=1.0, metrics=[accuracy, Perplexity()], emb_sz=400, n_hid=1152, n_layers=3, pretrained=None, pretrained_fnames=None, seed=42)")
    }

    @Test func keywordNamesComplete() {
        let s = Session()
        _ = s.run("t = randn(2, 3, seed=0)")
        #expect(Completion.candidates(for: "randn(2, se", in: s) == ["seed=", "set_seed"])
        #expect(Completion.candidates(for: "t.sum(d", in: s) == ["defaults", "dim=", "dir"])
        #expect(Completion.candidates(for: "plot([1, 2], x", in: s) == ["xlabel=", "xs=", "xscale="])
        #expect(Completion.candidates(for: "print(len([1, 2]), s", in: s).contains("sep="))
        #expect(!Completion.candidates(for: "print(len(s", in: s).contains("sep="), "inside len(, not print(")
        #expect(Completion.candidates(for: "randn(2, seed=se", in: s) == ["set_seed"], "a value, not a keyword, follows '='")
    }
}
