import Foundation
import Testing
import Tensor
import TestSupport
@testable import Learn

@Suite struct OptimizerTests {
    /// Every run of optimizer.json: five steps with the recorded per-step lr/mom, two groups.
    @Test func stepsMatchFixture() throws {
        let meta = try Fixtures.json("model/optimizer.json") as! [String: Any]
        let st = try TestSafeTensors("model/optimizer.safetensors")
        let steps = meta["steps"] as! Int
        let lr0 = meta["lr_group0"] as! [Double], lr1 = meta["lr_group1"] as! [Double]
        let schedMom = meta["mom"] as! [Double]
        let groupNames = meta["groups"] as! [[String]]
        let doWD = meta["do_wd"] as! [String: Bool]
        let runs = meta["runs"] as! [String: Any]
        #expect(!runs.isEmpty)
        for (run, info) in runs.sorted(by: { $0.key < $1.key }) {
            let hypers = (info as! [String: Any])["hypers"] as! [[String: Double]]
            let kind: OptimizerKind = run.hasPrefix("sgd") ? .sgd : run.hasSuffix("l2") ? .adamL2 : .adam
            let params = try groupNames.map { try $0.map { Parameter($0, try st.tensor("init.\($0)")) } }
            let gh = hypers.map { GroupHypers(lr: $0["lr"]!, mom: $0["mom"]!, sqrMom: $0["sqr_mom"] ?? 0.99,
                                              eps: $0["eps"] ?? 1e-5, wd: $0["wd"]!) }
            let opt = Optimizer(groups: params, hypers: gh, kind: kind, doWD: { doWD[$0.name] ?? true })
            // Only the "adam" run schedules momentum; the others keep their constant hyper.
            let scheduled = run == "adam"
            for s in 0..<steps {
                opt.setLR([lr0[s], lr1[s]])
                if scheduled { opt.setMom([schedMom[s], schedMom[s]]) }
                for p in params.joined() {
                    p.grad = try st.tensor("grad.\(p.name)").row(s)
                    p.hasGrad = true
                }
                opt.step()
                for p in params.joined() {
                    let want = try st.tensor("\(run).step\(s + 1).\(p.name)")
                    let prev = try st.tensor(s == 0 ? "init.\(p.name)" : "\(run).step\(s).\(p.name)")
                    // rtol 1e-5 on the parameters (README tolerance), and, stricter, the update
                    // itself within 1e-3 of fastai's plus 2 ulp of the parameter (float32 rounding
                    // of p + Δ); PyTorch fuses some operations, so bit equality is not expected.
                    let d = maxRelDiff(p.value.data, want.data, floor: 1e-3)
                    #expect(d < 1e-5, "\(run) step \(s + 1) \(p.name): max rel diff \(d)")
                    for i in 0..<want.count {
                        let delta = abs(want.data[i] - prev.data[i])
                        let err = abs(p.value.data[i] - want.data[i])
                        #expect(err <= 1e-3 * delta + 2 * want.data[i].ulp,
                                "\(run) step \(s + 1) \(p.name)[\(i)]: error \(err) for an update of \(delta)")
                    }
                }
            }
            for (k, p) in params.joined().enumerated() {
                let ga = try st.tensor("\(run).final_state.\(p.name).grad_avg")
                #expect(maxRelDiff(opt.states[k].gradAvg!.data, ga.data, floor: 1e-3) < 1e-5, "\(run) grad_avg \(p.name)")
                if kind != .sgd {
                    let sa = try st.tensor("\(run).final_state.\(p.name).sqr_avg")
                    #expect(maxRelDiff(opt.states[k].sqrAvg!.data, sa.data, floor: 1e-6) < 1e-5, "\(run) sqr_avg \(p.name)")
                    #expect(opt.states[k].step == steps)
                }
            }
        }
    }

    /// The worked example of ../shared/spec/training.md 5.
    @Test func adamWorkedExample() {
        let p = Parameter("w", Tensor(shape: [1], data: [1]))
        let opt = Optimizer(groups: [[p]], hypers: [GroupHypers(lr: 0.01, mom: 0.9)])
        p.grad = Tensor(shape: [1], data: [0.5]); p.hasGrad = true
        opt.step()
        #expect(abs(p.value.data[0] - 0.98990017) < 2e-7)  // float32 rounding
        p.grad = Tensor(shape: [1], data: [-0.2])
        opt.step()
        #expect(abs(p.value.data[0] - 0.98633951) < 2e-7)
    }

    /// A parameter that never had a gradient is skipped (no decay); one that trained and was
    /// frozen keeps a zero gradient and is still decayed (fastai nuance).
    @Test func frozenParameterDecayNuance() {
        let never = Parameter("a", Tensor(shape: [2], data: [1, 1]))
        let trained = Parameter("b", Tensor(shape: [2], data: [1, 1]))
        let head = Parameter("c", Tensor(shape: [2], data: [1, 1]))
        let opt = Optimizer(groups: [[never], [trained], [head]], hypers: [GroupHypers(lr: 0.1, wd: 0.5)])
        opt.freezeTo(1)
        #expect(!never.requiresGrad && trained.requiresGrad && head.requiresGrad)
        trained.grad = Tensor(shape: [2], data: [0.1, 0.1]); trained.hasGrad = true
        head.grad = Tensor(shape: [2], data: [0.1, 0.1]); head.hasGrad = true
        opt.step(); opt.zeroGrad()
        opt.freezeTo(2)
        #expect(!trained.requiresGrad && opt.states[1].step == 0 && opt.states[1].gradAvg == nil)
        let before = trained.value.data[0]
        opt.step()
        #expect(never.value.data == [1, 1])
        // Zero gradient after a state clear: Adam moves nothing, decay multiplies by 1 − lr·wd.
        #expect(abs(trained.value.data[0] - before * Float(1 - 0.1 * 0.5)) < 1e-7)
    }

    @Test func learningRateSlices() throws {
        let five = try LearningRate.slice(1e-2 / pow(2.6, 4), 1e-2).perGroup(5)
        let want = [2.1883e-4, 5.6896e-4, 1.4793e-3, 3.8462e-3, 1e-2]
        for (a, b) in zip(five, want) { #expect(abs(a - b) / b < 5e-5) }  // spec values have 5 digits
        #expect(try LearningRate.slice(1e-3).perGroup(4) == [1e-4, 1e-4, 1e-4, 1e-3])
        #expect(try LearningRate.slice(0, 1e-3).perGroup(2) == [1e-4, 1e-3])
        #expect(try LearningRate.value(0.5).perGroup(3) == [0.5, 0.5, 0.5])
        #expect(throws: LearnError.self) { try LearningRate.value(0).perGroup(1) }
        #expect(throws: LearnError.self) { try LearningRate.values([1, 2]).perGroup(3) }
        #expect(try LearningRate.slice(1e-4, 1e-3).perGroup(1) == [1e-3])
    }
}
