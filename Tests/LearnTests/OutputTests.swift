import Foundation
import Testing
import Tensor
import TestSupport
@testable import Learn

@Suite struct OutputTests {
    /// The spec's console table, character for character (trailing spaces included).
    @Test func epochTableMatchesFastprogressLayout() {
        let t = EpochTable(metrics: [.accuracy, .perplexity])
        #expect(t.header == "epoch     train_loss  valid_loss  accuracy  perplexity  time    \n")
        let row = EpochRow(epoch: 0, trainLoss: 3.413758, validLoss: 3.326229, metrics: [0.032143, 27.833187], seconds: 20.7)
        #expect(t.row(row) == "0         3.413758    3.326229    0.032143  27.833187   00:20     \n")
        let long = EpochRow(epoch: 12, trainLoss: 10, validLoss: nil, metrics: [.nan, 1234567.5], seconds: 3725)
        // A value wider than its column: fastprogress would glue it to the next one; we keep one space.
        #expect(t.row(long) == "12        10.000000   None        nan       1234567.500000 1:02:05   \n")
        #expect(EpochTable(metrics: [.errorRate]).header == "epoch     train_loss  valid_loss  error_rate  time    \n")
    }

    @Test func timeFormatting() {
        #expect(formatTime(0) == "00:00")
        #expect(formatTime(59.99) == "00:59")
        #expect(formatTime(61) == "01:01")
        #expect(formatTime(3600) == "1:00:00")
        #expect(formatTime(.nan) == "00:00")
    }

    /// The learner writes one header and one row per epoch, built from its recorded values.
    @Test func learnerWritesTable() throws {
        let learn = try tinyLearner()
        let out = StringOutput()
        learn.tableOutput = out
        let r = try learn.fitOneCycle(2, lrMax: .value(0.05))
        let t = EpochTable(metrics: [.accuracy, .perplexity])
        #expect(out.text == t.header + r.rows.map(t.row).joined())
        // Fake clock: +1 s per reading, so every epoch takes a whole number of seconds.
        #expect(r.rows.allSatisfy { $0.seconds >= 1 && $0.seconds == $0.seconds.rounded() })
    }

    /// Not a terminal: plain lines at each tenth, no control characters.
    @Test func progressBarPlainText() {
        let out = StringOutput(isTerminal: false)
        var now = 100.0
        let bar = ProgressBar(output: out, clock: { now })
        bar.barWidth = 10
        bar.begin("train", total: 4)
        for k in 1...4 { now += 2; bar.update(done: k, loss: 3.5 - Float(k) / 4) }
        bar.end()
        #expect(out.text == """
        train  1/4 [##........]  25%  0.50 it/s  eta 00:06  loss 3.2500
        train  2/4 [#####.....]  50%  0.50 it/s  eta 00:04  loss 3.0000
        train  3/4 [#######...]  75%  0.50 it/s  eta 00:02  loss 2.7500
        train  4/4 [##########] 100%  0.50 it/s  eta 00:00  loss 2.5000

        """)
        #expect(!out.text.contains("\u{1B}") && !out.text.contains("\r"))
    }

    /// Terminal: redrawn in place with \\r and erase-to-end, throttled, erased at the end.
    @Test func progressBarTerminal() {
        let out = StringOutput(isTerminal: true)
        var now = 0.0
        let bar = ProgressBar(output: out, minInterval: 1, clock: { now })
        bar.barWidth = 4
        bar.begin("valid", total: 3)
        now = 0.5; bar.update(done: 1, loss: nil)      // first draw
        now = 0.9; bar.update(done: 2, loss: nil)      // throttled
        now = 1.0; bar.update(done: 3, loss: nil)      // last one always drawn
        bar.end()
        #expect(out.text == "\rvalid  1/3 [#...]  33%  2.00 it/s  eta 00:01\u{1B}[K"
                + "\rvalid  3/3 [####] 100%  3.00 it/s  eta 00:00\u{1B}[K" + "\r\u{1B}[K")
    }
}

@Suite struct LRFinderTests {
    /// Tests/Fixtures/lmlab/lr_find.json (Scripts/make-lr-find-fixture): curves recorded by our
    /// lr_find on lesson 06's model (plus edge cases), with the suggestions fastai 2.8's own rules
    /// give for them (window `[num_it//10 : -5]`, NaN cut, valley, minimum, steep; float32 as
    /// fastai's tensors). Same window length and the same suggestions: the float32 learning rate
    /// itself (relative 1e-7; minimum is that lr / 10 in double).
    @Test func suggestionsMatchFastaiRulesOnRecordedCurves() throws {
        let url = Fixtures.packageRoot.appendingPathComponent("Tests/Fixtures/lmlab/lr_find.json")
        let fx = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        let curves = try Fixtures.field(fx, "curves", as: [[String: Any]].self, in: "lr_find.json")
        #expect(curves.count >= 3)
        for c in curves {
            let name = try Fixtures.field(c, "name", as: String.self, in: "lr_find.json")
            func number(_ k: String) throws -> Double { try Fixtures.field(c, k, as: Double.self, in: name) }
            let lrs = try Fixtures.field(c, "lrs", as: [Double].self, in: name)
            let losses = try Fixtures.field(c, "losses", as: [Any].self, in: name).map { ($0 as? NSNumber)?.floatValue ?? .nan }
            let w = suggestionWindow(lrs: lrs, losses: losses, numIt: try Fixtures.field(c, "num_it", as: Int.self, in: name))
            #expect(w.lrs.count == (try Fixtures.field(c, "window", as: Int.self, in: name)), "\(name): window")
            for (got, key) in [(valleySuggestion(lrs: w.lrs, losses: w.losses), "valley"),
                               (minimumSuggestion(lrs: w.lrs, losses: w.losses), "minimum"),
                               (steepSuggestion(lrs: w.lrs, losses: w.losses), "steep")] {
                let want = try number(key)
                let value = try #require(got, "\(name): no \(key)")
                #expect(abs(value - want) <= 1e-7 * want, "\(name) \(key): \(value) vs fastai's \(want)")
            }
        }
    }

    @Test func valleyEdgeCases() {
        let lrs: [Float] = [1, 2, 3, 4, 5, 6, 7]
        // Never decreasing: index 0.
        #expect(valleySuggestion(lrs: lrs, losses: [1, 2, 3, 4, 5, 6, 7]) == 1)
        // [3, 2, 5, 6, …]: start −1 → Python's index −1 → the last lr.
        #expect(valleySuggestion(lrs: Array(lrs.prefix(4)), losses: [3, 2, 5, 6]) == 4)
        // Strictly decreasing: e = 6, L[6] = 7 → s = −1, d = 7/3 → idx = −1 + 2 + 1 = 2.
        #expect(valleySuggestion(lrs: lrs, losses: [7, 6, 5, 4, 3, 2, 1]) == 3)
        #expect(valleySuggestion(lrs: [], losses: []) == nil)
        #expect(minimumSuggestion(lrs: [1, 2, 3], losses: [5, 1, 3]) == 0.2)
        #expect(steepSuggestion(lrs: [1, 2, 4, 8], losses: [5, 4.9, 2, 1.9]) == 2)
        // Window: [num_it//10 : −5], cut at the first NaN.
        let w = suggestionWindow(lrs: (0..<20).map(Double.init), losses: (0..<20).map { $0 == 9 ? .nan : Float($0) }, numIt: 20)
        #expect(w.lrs == [2, 3, 4, 5, 6, 7, 8] && w.losses == [2, 3, 4, 5, 6, 7, 8])
    }

    @Test func lrFindRestoresAndFollowsExponentialSchedule() throws {
        let learn = try tinyLearner()
        try learn.fit(1, lr: .value(0.01))
        let before = learn.checkpoint()
        let r = try learn.lrFind(startLR: 1e-5, endLR: 1, numIt: 15, stopDiv: false)
        #expect(r.lrs.count == 15)  // spans 3 epochs of 6 batches, stopped at num_it
        for (k, lr) in r.lrs.enumerated() { #expect(lr == 1e-5 * pow(1 / 1e-5, Double(k) / 15)) }  // SchedExp
        #expect(r.valley != nil && r.lrs.map(\.roundedToFloat).contains(r.valley!))
        let after = learn.checkpoint()
        #expect(after.tensors == before.tensors && after.metadata == before.metadata)
    }

    @Test func lrFindStopsOnDivergence() throws {
        let learn = try tinyLearner()
        let r = try learn.lrFind(startLR: 1e-3, endLR: 1e4, numIt: 100)
        #expect(r.lrs.count < 100)
        let best = r.losses.dropLast().min()!
        #expect(r.losses.last! > 4 * best || r.losses.last!.isNaN)
    }
}

extension Double {
    /// The value after a round trip through Float (suggestions come from float32 lrs).
    var roundedToFloat: Double { Double(Float(self)) }
}
