import Foundation
import Testing
import Interop
@testable import Learn
import Tensor
import TestSupport

@Suite struct SplitTests {
    /// splits.json: groups, do_wd, force_train and requires_grad after each freeze operation,
    /// for the LM and the classifier, from name-pattern rules (layer count from the fixture).
    @Test(arguments: ["lm", "clas"]) func splitsMatchFixture(kind: String) throws {
        let all = try Fixtures.json("model/splits.json") as! [String: Any]
        let info = all[kind] as! [String: Any]
        let groups = info["groups"] as! [[String]]
        let layers = groups.count - (kind == "lm" ? 1 : 2)
        let split = kind == "lm" ? ParameterSplit.awdLSTMLanguageModel(layers: layers)
                                 : ParameterSplit.awdLSTMClassifier(layers: layers)
        // Parameters in fastai's named_parameters order (do_wd keys are in that order); shapes do not matter here.
        let doWD = info["do_wd"] as! [String: Bool]
        let names = groups.flatMap { $0 }
        let params = names.reversed().map { Parameter($0, Tensor(shape: [1])) }  // order must not matter
        let built = try split.groups(of: params)
        #expect(built.map { $0.map(\.name).sorted() } == groups.map { $0.sorted() })
        for n in names { #expect(split.decays(n) == doWD[n], "do_wd \(n)") }
        let force = info["force_train"] as! [String: Bool]
        for n in names { #expect(split.forcesTraining(n) == force[n], "force_train \(n)") }

        let opt = try Optimizer(parameters: params, split: split)
        let freeze = info["freeze"] as! [String: [String: Any]]
        #expect(freeze.count >= 4)
        for (op, state) in freeze {
            switch op {
            case "initial": opt.unfreeze()
            case "freeze": opt.freeze()
            case "unfreeze": opt.unfreeze()
            default:
                let n = Int(op.dropFirst("freeze_to(".count).dropLast())!
                opt.freezeTo(n)
            }
            let want = state["requires_grad"] as! [String: Bool]
            for p in params { #expect(p.requiresGrad == want[p.name], "\(kind) \(op) \(p.name)") }
            #expect(opt.frozenIndex == state["frozen_idx"] as! Int, "\(kind) \(op) frozen_idx")
        }
    }

    @Test func ungroupedParameterIsAnError() {
        let split = ParameterSplit(groupPatterns: [["a.*"]])
        #expect(throws: LearnError.ungroupedParameter("b.weight")) {
            try split.groups(of: [Parameter("a.weight", Tensor(shape: [1])), Parameter("b.weight", Tensor(shape: [1]))])
        }
        #expect(throws: LearnError.emptyGroup(1)) {
            try ParameterSplit(groupPatterns: [["*"], ["x"]]).groups(of: [Parameter("a", Tensor(shape: [1]))])
        }
    }

    @Test func globMatching() {
        #expect(ParameterSplit.matches("0.rnns.1.module.bias_ih_l0", "0.rnns.1.*"))
        #expect(!ParameterSplit.matches("0.rnns.10.x", "0.rnns.1.*"))
        #expect(ParameterSplit.matches("1.layers.0.0.bias", "*.bias"))
        #expect(!ParameterSplit.matches("0.rnns.0.module.bias_hh_l0", "*.bias"))
    }
}

@Suite struct StateOrderTests {
    /// checkpoint.json: fastai's optimizer state list is in group order, then parameter order —
    /// the order of `Optimizer.parameters` / `states` for the LM split applied to the checkpoint's
    /// own parameters (tiny.pth's keys without the tied aliases; layer count from those keys).
    @Test func optimizerStateOrderMatchesFastai() throws {
        let cp = try #require(try Fixtures.json("model/checkpoint.json") as? [String: Any])
        let ckpt = try FastaiCheckpoint.load(Fixtures.url("model/tiny.pth"))
        // named_parameters lists a tied tensor once: drop keys whose tensor repeats an earlier one.
        var names: [String] = []
        for key in ckpt.keys where !names.contains(where: { ckpt.model[$0] == ckpt.model[key] }) { names.append(key) }
        let layers = Set(names.compactMap { n -> Int? in
            let parts = n.split(separator: ".")
            return parts.count > 2 && parts[1] == "rnns" ? Int(parts[2]) : nil
        }).count
        try #require(layers > 0, "no LSTM layers among \(names)")
        let params = names.map { Parameter($0, Tensor(shape: [1])) }
        let opt = try Optimizer(parameters: params, split: .awdLSTMLanguageModel(layers: layers))
        let order = try Fixtures.field(cp, "opt_state_index_to_param", as: [String].self, in: "checkpoint.json")
        #expect(opt.parameters.map(\.name) == order)
        #expect(opt.states.count == (try Fixtures.field(cp, "tiny.pth_opt_state_entries", as: [Any].self)).count)
        #expect(opt.hypers.count == (try Fixtures.field(cp, "tiny.pth_opt_hypers", as: [Any].self)).count)
        // The saved optimizer itself has one state per parameter in that order.
        #expect(try #require(ckpt.optimizer).state.count == order.count)
    }
}
