import Foundation
import Testing
@testable import Lab
@testable import LabBindings

/// Help must describe what runs: the example of every builtin of a full session runs without error.
@Suite struct HelpExampleTests {
    @Test func everyBuiltinExampleRuns() {
        for b in Session().builtins.values.sorted(by: { $0.name < $1.name }) {
            let s = Session()
            s.directory = FileManager.default.temporaryDirectory.path
            let r = s.run(b.example)
            #expect(r.error == nil, "example of \(b.name): \(b.example) → \(r.text)")
        }
    }
}
