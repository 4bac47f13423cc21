import Foundation
import Testing
import TestSupport
@testable import Lab
@testable import LabBindings

@Suite struct CompletionTests {
    @Test func namesAttributesAndPaths() throws {
        let s = Session()
        _ = s.run("dls = 1; data = randn(2)")
        #expect(Completion.candidates(for: "ran", in: s) == ["rand", "randn", "range"])
        #expect(Completion.candidates(for: "x = d", in: s) == ["data", "defaults", "dir", "dls"])
        #expect(Completion.candidates(for: "data.sh", in: s) == ["shape"])
        #expect(Completion.candidates(for: "print(data.s", in: s) == ["shape", "sigmoid", "sin", "sqrt", "std", "sum"])
        #expect(Completion.candidates(for: "nothing.sh", in: s) == [])
        #expect(Completion.candidates(for: "'abc'.up", in: s) == [])   // literals are not evaluated
        let root = Fixtures.packageRoot.path
        #expect(Completion.candidates(for: "x = Lesson.load('\(root)/Less", in: s) == ["Lessons/"])
        #expect(Completion.candidates(for: "open(\"\(root)/Lessons/00-t", in: s) == ["00-tensors.md"])
        #expect(Completion.candidates(for: "'done' + ran", in: s) == ["rand", "randn", "range"])
    }
}
