import Testing
@testable import Lab
import Tensor

/// A stand-in for a library object (a learner), bound the way the lead binds real ones.
final class FakeLearner {
    var epochs = 0
    func predict(_ text: String, _ n: Int, temperature: Double) -> String { "\(text) +\(n) words at \(temperature)" }
}

@Suite struct ObjectTypeTests {
    static func session() -> (Session, FakeLearner) {
        let s = Session()
        let learnerType = ObjectType<FakeLearner>("Learner", summary: "a model with its data and optimizer")
            .attribute("epochs", "epochs trained so far") { .int($0.epochs) }
            .method("fit", "train for n epochs", [Param("n", .int, "how many epochs")]) { l, a in
                l.epochs += try a.int("n")
                return .none
            }
            .method("predict", "continue a text",
                    [Param("text", .str, "the start"), Param("n_words", .int, default: 1, "words to add"),
                     Param("temperature", .float, default: 1.0, "sampling temperature")],
                    example: "learn.predict('I liked', 40)") { l, a in
                .string(l.predict(try a.string("text"), try a.int("n_words"), temperature: try a.double("temperature")))
            }
            .display { "Learner(epochs=\($0.epochs))" }
        s.register(type: learnerType)
        let learner = FakeLearner()
        s.define("learn", learnerType.wrap(learner))
        s.register(Builtin("fit_twice", [Param("learn", "a Learner")], summary: "fit two epochs", example: "fit_twice(learn)") { a in
            guard let l = learnerType.unwrap(try a.value("learn")) else { throw a.error("needs a Learner") }
            l.epochs += 2
            return .none
        })
        return (s, learner)
    }

    @Test func attributesMethodsKeywordsAndDisplay() {
        let (s, learner) = Self.session()
        #expect(show("learn.predict(\"I liked\", 40, temperature=0.75)", in: s) == "'I liked +40 words at 0.75'")
        #expect(show("learn.fit(1); fit_twice(learn); learn.epochs", in: s) == "3")
        #expect(learner.epochs == 3)
        #expect(show("learn", in: s) == "Learner(epochs=3)")
        #expect(show("type(learn)", in: s) == "'Learner'")
        #expect(show("learn.predit('x')", in: s) == "error: 'Learner' object has no attribute 'predit' (did you mean 'predict'?)")
        #expect(show("learn.predict('x', temprature=1)", in: s)
                == "error: Learner.predict: unexpected keyword argument 'temprature' (did you mean 'temperature'?)")
        #expect(show("learn.predict()", in: s) == "error: Learner.predict: missing argument 'text'")
        #expect(show("learn.predict('x', 1, 1.0, 2)", in: s) == "error: Learner.predict: takes 3 positional arguments but 4 were given")
        #expect(show("learn.predict('x', n_words='a')", in: s) == "error: Learner.predict: 'n_words' must be an integer, got str")
        #expect(show("learn.predict('x', 2, n_words=3)", in: s) == "error: Learner.predict: got multiple values for argument 'n_words'")
        #expect(learner.epochs == 3, "a call that does not bind runs nothing")
        #expect(show("fit_twice(3)", in: s) == "error: fit_twice: needs a Learner")
        #expect(Completion.candidates(for: "learn.p", in: s) == ["predict"])
    }

    @Test func helpAndInspectComeFromTheType() {
        let (s, _) = Self.session()
        let expected = """
        Learner: a model with its data and optimizer
          attributes:
            epochs  epochs trained so far
          methods:
            fit(n)                                     train for n epochs
            predict(text, n_words=1, temperature=1.0)  continue a text
        """
        #expect(show("help Learner", in: s) == expected)
        #expect(show("help(learn)", in: s) == expected)
        #expect(show("help(learn.predict)", in: s) == """
        predict(text, n_words=1, temperature=1.0)
          continue a text
            text         str    the start
            n_words      int    words to add
            temperature  float  sampling temperature
          example: learn.predict('I liked', 40)
        """)
        #expect(show("inspect(learn)", in: s) == """
        Learner: Learner(epochs=0)
          attributes:
            epochs = 0
          methods:
            fit(n)                                     train for n epochs
            predict(text, n_words=1, temperature=1.0)  continue a text
        """)
        // Other bindings add types too; this one is listed with its summary.
        let types = show("help", in: s).components(separatedBy: "\ntypes:\n").last?.split(separator: "\n") ?? []
        #expect(types.contains { $0.hasPrefix("  Learner ") && $0.hasSuffix(" a model with its data and optimizer") })
    }

    @Test func libraryErrorsBecomeOneLineErrors() {
        struct Broken: Error, CustomStringConvertible { var description: String { "vocab file missing\nsecond line" } }
        let s = Session()
        s.register(Builtin("load_vocab", summary: "x", example: "load_vocab()") { _ in throw Broken() })
        #expect(show("load_vocab()", in: s) == "error: load_vocab: vocab file missing⏎second line")
    }

    @Test func cancellationFlagStopsWork() {
        let s = Session()
        s.cancellation = Cancellation()   // not the process-wide flag: tests run in parallel
        s.cancellation.request()
        #expect(show("1 + 1", in: s) == "error: interrupted")
        #expect(!s.cancellation.requested)
        // A long job polls the flag: a request made while it runs stops it.
        s.register(Builtin("press_ctrl_c", summary: "x", example: "") { a in a.session.cancellation.request(); return .none })
        #expect(show("[press_ctrl_c(), sleep(30)]", in: s) == "error: interrupted")
        // A request that arrives between two statements stops before the second, and the error
        // names it (line and column), as one raised inside it would.
        let r = s.run("press_ctrl_c(); never_looked_up")
        #expect(r.error?.message == "interrupted")
        #expect(r.error?.location == SourceLocation(line: 1, column: 17))
        #expect(show("1 + 1", in: s) == "2")
        #expect(show("1 + 1", in: s) == "2")
    }
}

@Suite struct IndexableObjectTests {
    /// Data loaders opt in to `dls[i]`, `len(dls)` and `first(dls)` with `__getitem__` / `__len__`.
    @Test func getitemLenAndFirst() {
        let s = Session()
        let batches: [(Tensor, Tensor)] = [(Tensor(shape: [2, 3], repeating: 1), Tensor(shape: [2, 3], repeating: 2))]
        let dlType = ObjectType<[(Tensor, Tensor)]>("DataLoader", summary: "batches of (x, y)")
            .method("__len__", "number of batches") { b, _ in .int(b.count) }
            .method("__getitem__", "batch i", [Param("i", "the batch index")]) { b, a in
                let i = try Operators.position(try a.value("i"), count: b.count, "DataLoader")
                return .tuple([.tensor(b[i].0), .tensor(b[i].1)])
            }
        s.define("dls", dlType.wrap(batches))
        #expect(show("len(dls)", in: s) == "1")
        #expect(show("x, y = first(dls); x.shape, y.sum()", in: s) == "((2, 3), 12.0)")
        #expect(show("dls[-1][0].shape", in: s) == "(2, 3)")
        #expect(show("dls[3]", in: s) == "error: DataLoader index 3 out of range (size 1)")
        #expect(Completion.candidates(for: "dls.", in: s) == [])   // dunder methods stay out of completion
    }
}

import Tensor
