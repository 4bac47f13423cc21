import Foundation
import Testing
import Models
@testable import Learn

/// fastai's `fit_one_cycle(..., start_epoch=n)` and the does-it-fit check before building a model.
@Suite struct ResumeAndMemoryTests {
    @Test func startEpochContinuesTheOneCycleScheduleOfTheWholeRun() throws {
        let full = try tinyLearner()
        full.progress = nil; full.tableOutput = nil
        try full.fitOneCycle(3, lrMax: .value(0.05))
        let perEpoch = full.data.trainBatchCount
        #expect(full.recorder.lrs.count == 3 * perEpoch)

        // A run "saved after epoch 0" resumed with start_epoch=1: epochs 1 and 2 only, at the
        // learning rates and momentums the uninterrupted run used for them (same arithmetic,
        // so exactly equal).
        let resumed = try tinyLearner()
        resumed.progress = nil; resumed.tableOutput = nil
        let r = try resumed.fitOneCycle(3, lrMax: .value(0.05), startEpoch: 1)
        #expect(r.rows.map(\.epoch) == [1, 2])
        #expect(resumed.recorder.lrs == Array(full.recorder.lrs.suffix(2 * perEpoch)))
        #expect(resumed.recorder.moms == Array(full.recorder.moms.suffix(2 * perEpoch)))
        #expect(!r.cancelled && r.position.epoch == 3)

        #expect(throws: LearnError.self) { try resumed.fitOneCycle(3, lrMax: .value(0.05), startEpoch: 3) }
        #expect(throws: LearnError.self) { try resumed.fitOneCycle(3, lrMax: .value(0.05), startEpoch: -1) }
    }

    @Test func estimateCountsWeightsOptimizerAndActivations() {
        let c = AWDLSTMConfig(embSize: 4, hiddenSize: 6, layers: 2)
        let e = MemoryEstimate.languageModel(config: c, vocabSize: 10, bs: 2, bptt: 3)
        // Embedding 10×4 (tied decoder) + decoder bias 10 + layer 0 (in 4, hid 6) + layer 1 (in 6, hid 4).
        let layer0: Double = 4 * 6 * 4 + 4 * 6 * 6 + 8 * 6
        let layer1: Double = 4 * 4 * 6 + 4 * 4 * 4 + 8 * 4
        let params: Double = 40 + 10 + layer0 + layer1
        #expect(e.parameters == params)
        #expect(e.gradientBytes == 4 * params && e.optimizerBytes == 8 * params && e.snapshotBytes == 4 * params)
        #expect(e.total > 20 * params)
    }

    @Test func anAbsurdModelIsRefusedWithOneLineNamingBothSizes() throws {
        let c = AWDLSTMConfig(embSize: 4096, hiddenSize: 8192, layers: 3)
        let e = MemoryEstimate.languageModel(config: c, vocabSize: 10_000_000, bs: 64, bptt: 72)
        #expect(e.total > 8e11)   // 41 G embedding floats × 20 bytes (weight, gradient, two Adam moments, snapshot)
        // Against a stated amount: the exact message.
        let small = AvailableMemory(bytes: 8_000_000_000, source: "MemAvailable")
        var caught: InsufficientMemory?
        do { try MemoryEstimate.ensureFits(e, what: "language_model_learner", available: small) } catch let x as InsufficientMemory { caught = x }
        let text = try #require(caught).description
        #expect(caught?.what == "language_model_learner")
        #expect(text.hasPrefix("AWD-LSTM emb 4096, hidden 8192, 3 layers, vocab 10000000, bs 64 × bptt 72 needs about "))
        #expect(text.contains(" TB ") || text.contains(" GB "))
        #expect(text.contains("but only 8.0 GB is available (MemAvailable)"))
        #expect(!text.contains("\n"))
        // Against this machine: no computer has that much memory.
        #expect(throws: InsufficientMemory.self) { try MemoryEstimate.ensureFits(e, what: "x") }
        // A small model fits.
        let tiny = MemoryEstimate.languageModel(config: AWDLSTMConfig(embSize: 8, hiddenSize: 16, layers: 2), vocabSize: 200, bs: 4, bptt: 8)
        try MemoryEstimate.ensureFits(tiny, what: "x", available: small)
    }

    @Test func availableMemoryIsReadOnLinux() throws {
        #if os(Linux)
        let a = try #require(AvailableMemory.current())
        #expect(a.bytes > 0)
        #expect(["MemAvailable", "cgroup memory.max", "cgroup memory.limit_in_bytes"].contains(a.source))
        #endif
    }
}
