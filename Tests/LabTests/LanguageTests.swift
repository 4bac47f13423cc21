import Testing
@testable import Lab

/// The text a session shows for `source` (outputs joined by newlines).
func show(_ source: String, in session: Session = Session()) -> String {
    session.run(source).text
}

@Suite struct LanguageTests {
    @Test func versionIsSemantic() {
        #expect(LabInfo.version.split(separator: ".").count == 3)
    }

    @Test(arguments: [
        ("1e-2/2.6**4", "0.00021882987290360977"),
        ("2 + 3 * 4 ** 2", "50"),
        ("-2 ** 2", "-4"),
        ("(1 + 2) * 3", "9"),
        ("7 // 2, -7 // 2, 7 % 3, -7 % 3", "(3, -4, 1, 2)"),
        ("1 / 2", "0.5"),
        ("2 ** -1", "0.5"),
        ("1e3", "1000.0"),
        ("1e-05", "1e-05"),
        ("3 < 4 <= 4 != 5", "True"),
        ("1 == 1.0, 'a' < 'b', not 0", "(True, True, True)"),
        ("None", ""),
        ("True and 3, False or 'x'", "(3, 'x')"),
        ("'a\\tb\\n' + \"c'\"", "\"a\\tb\\nc'\""),
        ("'say \"hi\" it\\'s'", "'say \"hi\" it\\'s'"),
        ("\"it's\"", "\"it's\""),
        ("'\\u00e9\\xa0'", "'é\\xa0'"),
        ("[1, 2, 3][-1], [1, 2, 3][:2], [1, 2, 3, 4][1:3], [1, 2, 3][::-1]", "(3, [1, 2], [2, 3], [3, 2, 1])"),
        ("'hello'[1:3]", "'el'"),
        ("slice(1e-2/2.6**4, 1e-2)", "slice(0.00021882987290360977, 0.01, None)"),
        ("slice(3)", "slice(None, 3, None)"),
        ("(1,)", "(1,)"),
        ("[]", "[]"),
        ("len('héllo'), type(1.5), type(None)", "(5, 'float', 'NoneType')"),
        ("range(2, 10, 3)", "[2, 5, 8]"),
        ("2 ** 64", "1.8446744073709552e+19"),
        ("' '.join(['a', 'b'])", "'a b'"),
        ("x = 1; x += 2; x *= 3; x", "9"),
        ("x = 1 x", "error: unexpected 'x' (statements are separated by ';' or new lines)"),
    ])
    func expressions(_ source: String, _ expected: String) {
        #expect(show(source) == expected)
    }

    @Test func statementsSplitOnNewlinesAndSemicolonsButNotInsideBrackets() {
        let s = Session()
        #expect(show("a = 1; b = [a,\n  a + 1]\nb", in: s) == "[1, 2]")
        #expect(show("# a comment\nb[1]  # trailing", in: s) == "2")
    }

    @Test func tupleUnpackingIsAllOrNothing() {
        let s = Session()
        #expect(show("x, y = first([(1, 2), (3, 4)]); x + y", in: s) == "3")
        #expect(show("x, y = 5, 6, 7", in: s) == "error: cannot unpack 3 values into 2 names")
        #expect(show("x, y", in: s) == "(1, 2)")   // unchanged
        #expect(show("p, q = 1", in: s) == "error: cannot unpack a int")
        #expect(show("p", in: s).hasPrefix("error: unknown name 'p'"))
    }

    @Test func errorsNameWhatAndWhereAndSuggest() {
        let s = Session()
        _ = s.run("dls = 3")
        let r = s.run("y = 1\ndsl + 1")
        #expect(r.error?.message == "unknown name 'dsl' (did you mean 'dls'?)")
        #expect(r.error?.location == SourceLocation(line: 2, column: 1))
        #expect(r.error?.formatted(origin: "lesson.md", lineOffset: 40) == "lesson.md:42:1: unknown name 'dsl' (did you mean 'dls'?)")
        #expect(show("randn(2).mena()", in: s) == "error: 'Tensor' object has no attribute 'mena' (did you mean 'mean'?)")
        #expect(show("rnadn(2)", in: s) == "error: unknown name 'rnadn' (did you mean 'randn'?)")
        #expect(show("len(1)", in: s) == "error: len: 'int' object has no len()")
        #expect(show("randn(2, sed=1)", in: s) == "error: randn: unexpected keyword argument 'sed' (did you mean 'seed'?)")
        #expect(show("[1, 2][5]", in: s) == "error: list index 5 out of range (size 2)")
        #expect(show("1 / 0", in: s) == "error: division by zero")
        #expect(show("f(", in: s) == "error: '(' was never closed")
        #expect(show("'abc", in: s) == "error: unterminated string")
        #expect(show("3 = x", in: s) == "error: cannot assign to this expression (only names can be assigned)")
        // A syntax error anywhere means nothing ran.
        #expect(show("z = 1; z z", in: s).hasPrefix("error: unexpected 'z'"))
        #expect(s.variables["z"] == nil)
    }

    @Test func errorsStopTheRestOfTheLineButKeepEarlierStatements() {
        let s = Session()
        #expect(show("a = 1; b = nope; c = 3", in: s).hasPrefix("error: unknown name 'nope'"))
        #expect(s.variables["a"] != nil && s.variables["b"] == nil && s.variables["c"] == nil)
    }

    @Test func needsMoreInputForOpenBracketsAndStrings() {
        #expect(Session.needsMoreInput("f(1,"))
        #expect(Session.needsMoreInput("[1, [2"))
        #expect(Session.needsMoreInput("'abc"))
        #expect(!Session.needsMoreInput("f(1)"))
        #expect(!Session.needsMoreInput("f(1))"))   // an error, not more input
    }

    @Test func helpListsEveryBuiltinWithSummaryAndDescribesOne() {
        let s = Session()
        let all = show("help", in: s)
        for name in s.builtins.keys { #expect(all.contains("  \(name) "), "help misses \(name)") }
        for b in s.builtins.values { #expect(!b.summary.isEmpty && !b.example.isEmpty, "\(b.name) lacks help") }
        #expect(show("help randn", in: s) == """
        randn(*shape, seed=None)
          normal random values (mean 0, std 1); seed= makes them repeatable
            *shape  any  sizes of the dimensions (ints, or one tuple or list)
            seed    int  makes the values repeatable; None draws from the session's generator
          example: randn(2, 3, seed=0)
        """)
        #expect(show("help(randn)", in: s) == show("help randn", in: s))
        #expect(show("help rnadn", in: s) == "error: help: no builtin, type or variable named 'rnadn' (did you mean 'randn'?)")
    }

    @Test func everyBuiltinExampleRuns() {
        for b in Session().builtins.values.sorted(by: { $0.name < $1.name }) {
            let s = Session()
            s.directory = FileManager.default.temporaryDirectory.path
            let r = s.run(b.example)
            #expect(r.error == nil, "example of \(b.name): \(b.example) → \(r.text)")
        }
    }

    /// The language's own methods (tensors, strings) run their examples after their type's sample.
    @Test func everyMethodExampleRuns() {
        let session = Session()
        var types = [(session.tensorType.sample, session.tensorType.members)]
        for t in session.valueTypes.values { types.append((t.sample, t.members)) }
        for (sample, members) in types {
            for m in members where m.kind == .method {
                #expect(!m.example.isEmpty, "\(m.name) has no example")
                let s = Session()
                let r = s.run(sample + "\n" + m.example)
                #expect(r.error == nil, "example of \(m.name): \(m.example) → \(r.text)")
            }
        }
    }
}

import Foundation
