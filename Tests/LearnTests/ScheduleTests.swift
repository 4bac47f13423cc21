import Foundation
import Testing
import Tensor
import TestSupport
@testable import Learn

@Suite struct ScheduleTests {
    /// Every run of schedule.json, every batch: pct, per-group lr and mom within 1e-6 relative
    /// (the fixture's stated tolerance; our float32 phase position reproduces fastai's).
    @Test func oneCycleMatchesFixture() throws {
        let meta = try Fixtures.json("model/schedule.json") as! [String: Any]
        let nEpoch = meta["n_epoch"] as! Int, nb = meta["batches_per_epoch"] as! Int
        let runs = meta["runs"] as! [String: [String: Any]]
        #expect(!runs.isEmpty)
        for (name, run) in runs.sorted(by: { $0.key < $1.key }) {
            let n = run["n_groups"] as! Int
            let moms = run["moms"] as! [Double]
            // lr_max is a number or a slice description; group_lr_max, when recorded, is fastai's
            // own per-group expansion of it, which ours must equal.
            let given = try #require(run["lr_max"], "\(name): no lr_max")
            let lrMax = try (given as? Double).map { [Double](repeating: $0, count: n) }
                ?? parseSlice(try #require(given as? String, "\(name): lr_max \(given)")).perGroup(n)
            if let fastai = run["group_lr_max"] {
                let g = try #require(fastai as? [Double], "\(name): group_lr_max \(fastai)")
                #expect(g.count == n && zip(lrMax, g).allSatisfy { abs($0 - $1) <= 1e-9 * $1 }, "\(name): \(lrMax) vs \(g)")
            }
            let sched = try OneCycle(lrMax: lrMax, div: meta["div"] as! Double, divFinal: meta["div_final"] as! Double,
                                     pctStart: meta["pct_start"] as! Double, moms: (moms[0], moms[1], moms[2]))
            let rows = run["rows"] as! [[String: Any]]
            #expect(rows.count == nEpoch * nb)
            var tracker = ProgressTracker(nEpochs: nEpoch, batchesPerEpoch: nb)
            for row in rows {
                let e = row["epoch"] as! Int, it = row["iter"] as! Int
                if it == 0 { tracker.startEpoch(e) }
                let pct = tracker.pct
                // 4 ulp: Foundation's JSON parser on Linux can misround the last digit of a double.
                let want = row["pct_train"] as! Double
                #expect(abs(pct - want) <= 4 * want.ulp, "\(name) row \(row["train_iter"]!): \(pct) vs \(want)")
                let lrs = sched.lr(at: pct), mom = sched.mom(at: pct)
                for (a, b) in zip(lrs, row["lr"] as! [Double]) {
                    if ProcessInfo.processInfo.environment["LMLAB_TEST_REPORT"] != nil { print("schedule lr rel diff \(abs(a - b) / b)") }
                    #expect(abs(a - b) / b <= 1e-6, "\(name) iter \(row["train_iter"]!): lr \(a) vs \(b)")
                }
                for b in row["mom"] as! [Double] { #expect(abs(mom - b) / b <= 1e-6) }
                tracker.advance()
            }
            // A resumed position reproduces the same pct as the running sum.
            let pos = SchedulePosition(nEpochs: nEpoch, batchesPerEpoch: nb, epoch: nEpoch - 1, batch: nb - 1)
            var running = ProgressTracker(nEpochs: nEpoch, batchesPerEpoch: nb)
            running.startEpoch(nEpoch - 1)
            for _ in 0..<(nb - 1) { running.advance() }
            #expect(pos.pct == running.pct)
            #expect(abs(pos.pct - (rows.last!["pct_train"] as! Double)) <= 4 * pos.pct.ulp)
        }
    }

    @Test func specValues() throws {
        let s = try OneCycle(lrMax: [2e-3])
        let cases: [(Double, Double)] = [(0, 8e-5), (0.10, 7.4334e-4), (0.25, 2e-3), (0.5, 1.5e-3), (0.75, 5.0e-4)]
        for (x, want) in cases { #expect(abs(s.lr(at: x)[0] - want) / want < 1e-4) }  // spec rounds to 5 digits
        #expect(abs(s.mom(at: 0.10) - 0.76545) < 1e-5)
        #expect(throws: LearnError.self) { try OneCycle(lrMax: [-1]) }
        #expect(throws: LearnError.self) { try OneCycle(lrMax: [1e-3], pctStart: 1) }
    }

    /// "slice(1e-3/2.6**4, 1e-3)" or "slice(1e-3)" from the fixture's description.
    func parseSlice(_ s: String) throws -> LearningRate {
        let inner = s.dropFirst("slice(".count).dropLast()
        let parts = inner.split(separator: ",").map { try! evalNumber(String($0)) }
        return parts.count == 1 ? .slice(parts[0]) : .slice(parts[0], parts[1])
    }

    /// Evaluates `a`, `a/b**c` forms used in fixture descriptions.
    func evalNumber(_ s: String) throws -> Double {
        let t = s.trimmingCharacters(in: .whitespaces)
        if let slash = t.firstIndex(of: "/") {
            let num = Double(t[..<slash])!
            let rest = t[t.index(after: slash)...]
            let pw = rest.components(separatedBy: "**")
            return num / (pw.count == 2 ? pow(Double(pw[0])!, Double(pw[1])!) : Double(pw[0])!)
        }
        return Double(t)!
    }
}
