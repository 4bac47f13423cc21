import Foundation
import Testing
import TestSupport
@testable import Text

/// Every coll_repr.json case, in both fastcore formats: coll_repr, repr/str of L, and the
/// notebook display (`_repr_pretty_`, which ignores the case's max_n).
@Test func collReprMatchesFastcore() throws {
    let root = try #require(try Fixtures.json("text/coll_repr.json") as? [String: Any])
    let cases = try #require(root["cases"] as? [[String: Any]])
    #expect(!cases.isEmpty)
    for c in cases {
        let name = c["name"] as? String ?? "?"
        let value = try PythonLiteral.parse(try #require(c["input_repr"] as? String))
        guard case .list(let items) = value else { Issue.record("\(name): input is not a list"); continue }
        #expect(items.count == c["len"] as? Int, "\(name)")
        // The parsed values print back as the fixture's own input repr.
        #expect(PythonRepr.list(items) == c["input_repr"] as? String, "\(name)")
        let maxN = c["max_n"] as? Int
        for (key, style) in [("current", CollReprStyle.current), ("legacy", .legacy)] {
            let expected = try #require(c[key] as? [String: String])
            #expect(collRepr(items, maxN: maxN, style: style) == expected["coll_repr"], "\(name) \(key) coll_repr")
            #expect(LDisplay.repr(items) == expected["L_repr"], "\(name) \(key) L_repr")
            #expect(LDisplay.repr(items) == expected["L_str"], "\(name) \(key) L_str")
            #expect(LDisplay.pretty(items, style: style) == expected["L_repr_pretty"], "\(name) \(key) pretty")
        }
    }
}

/// Python repr rules for single strings (../shared/spec/data.md §2 examples).
@Test func pythonStringRepr() {
    #expect("▁".pythonRepr == "'▁'")
    #expect("é".pythonRepr == "'é'")
    #expect("\u{A0}".pythonRepr == "'\\xa0'")
    #expect("\n\n".pythonRepr == "'\\n\\n'")
    #expect("\u{2028}".pythonRepr == "'\\u2028'")
    #expect("it's".pythonRepr == "\"it's\"")
    #expect("both ' and \"".pythonRepr == "'both \\' and \"'")
    #expect("\u{E0001}".pythonRepr == "'\\U000e0001'")
    #expect("a\\b".pythonRepr == "'a\\\\b'")
}

/// Python float repr: shortest round-trip digits, exponent form below 1e-4 and from 1e16
/// (expected strings are CPython's `repr` of the same values).
@Test func pythonFloatRepr() {
    let cases: [(Double, String)] = [
        (1e15, "1000000000000000.0"), (1e16, "1e+16"), (123456.789, "123456.789"), (1e-4, "0.0001"),
        (2.5e-5, "2.5e-05"), (-0.0, "-0.0"), (1.5e300, "1.5e+300"), (9007199254740992.0, "9007199254740992.0"),
        (0.1, "0.1"), (12345678901234567.0, "1.2345678901234568e+16"), (.infinity, "inf"), (-.infinity, "-inf"),
    ]
    for (x, s) in cases { #expect(x.pythonRepr == s) }
    #expect(PythonValue.tuple([.int(1)]).pythonRepr == "(1,)")
}
