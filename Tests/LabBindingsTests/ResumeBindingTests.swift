import Foundation
import Testing
@testable import Lab
@testable import LabBindings

/// `fit_one_cycle(..., start_epoch=k)` in the command language: the resumed epochs run at the
/// learning rates of the uninterrupted schedule.
@Suite struct ResumeBindingTests {
    @Test func startEpochGivesTheUninterruptedLearningRates() throws {
        let (full, d1) = try LearnBindingsTests.session()
        defer { try? FileManager.default.removeItem(at: d1) }
        let (resumed, d2) = try LearnBindingsTests.session()
        defer { try? FileManager.default.removeItem(at: d2) }
        #expect(full.run("learn.fit_one_cycle(2, 1e-2)").error == nil)
        let r = resumed.run("learn.fit_one_cycle(2, 1e-2, start_epoch=1)")
        #expect(r.error == nil, "\(r.text)")
        guard case .list(let all) = try full.evaluate("learn.recorder.lrs"),
              case .list(let tail) = try resumed.evaluate("learn.recorder.lrs") else {
            Issue.record("recorder.lrs is not a list"); return
        }
        #expect(all.count == 2 * tail.count && !tail.isEmpty)
        #expect(tail.map(\.repr) == all.suffix(tail.count).map(\.repr))
        let bad = resumed.run("learn.fit_one_cycle(2, 1e-2, start_epoch=2)")
        #expect(bad.error?.message.contains("start_epoch must be between 0 and n_epoch - 1 = 1, got 2") == true)
    }
}
