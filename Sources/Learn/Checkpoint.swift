import Foundation
import Tensor

/// A training checkpoint as data: tensors for a safetensors-style file plus JSON metadata.
///
/// Tensor keys: `model.<parameter name>` (weights), `opt.<parameter name>.grad_avg` and
/// `opt.<parameter name>.sqr_avg` (optimizer moments, present once the parameter has been
/// stepped). The metadata holds everything else needed to continue a run exactly: optimizer
/// kind, per-group hypers, per-parameter step counts and flags, the one-cycle schedule and the
/// position in it, and the smoothed-loss state.
///
///     let cp = learn.checkpoint()
///     try writer.write(cp.tensors, metadata: cp.metadata.jsonData())   // file format elsewhere
///     try learn.restore(TrainingCheckpoint(tensors: t, metadata: try .init(json: d)))
///     try learn.resumeOneCycle()
public struct TrainingCheckpoint: Sendable {
    public var tensors: [String: Tensor]
    public var metadata: CheckpointMetadata
    public init(tensors: [String: Tensor], metadata: CheckpointMetadata) {
        self.tensors = tensors; self.metadata = metadata
    }
}

/// The JSON half of a `TrainingCheckpoint`.
public struct CheckpointMetadata: Codable, Sendable, Equatable {
    /// One entry per parameter, in optimizer state order (groups, then parameters).
    public struct ParameterEntry: Codable, Sendable, Equatable {
        public var name: String
        public var shape: [Int]
        public var requiresGrad: Bool
        public var hasGrad: Bool
        public var doWD: Bool
        public var forceTrain: Bool
        public var step: Int
    }
    public var format = "lmlab-training-checkpoint"
    public var version = 1
    public var parameters: [ParameterEntry]
    /// Number of parameters in each group.
    public var groupSizes: [Int]
    /// Whether optimizer moments were saved.
    public var withOptimizer: Bool
    public var optimizer: OptimizerKind
    public var hypers: [GroupHypers]
    /// The one-cycle schedule of the run, if one was in progress.
    public var oneCycle: OneCycle?
    /// Where the run stopped.
    public var position: SchedulePosition?
    /// Smoothed loss state (so the resumed table continues the same curve).
    public var smoothLoss: SmoothedLoss

    /// Encodes as JSON (sorted keys, stable output).
    public func jsonData() throws -> Data {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .prettyPrinted]
        return try e.encode(self)
    }

    /// Decodes metadata written by `jsonData()`.
    public init(json: Data) throws {
        do { self = try JSONDecoder().decode(CheckpointMetadata.self, from: json) }
        catch { throw LearnError.checkpointMismatch("metadata is not a valid LMLab checkpoint JSON (\(error))") }
    }

    init(parameters: [ParameterEntry], groupSizes: [Int], withOptimizer: Bool, optimizer: OptimizerKind,
         hypers: [GroupHypers], oneCycle: OneCycle?, position: SchedulePosition?, smoothLoss: SmoothedLoss) {
        self.parameters = parameters; self.groupSizes = groupSizes; self.withOptimizer = withOptimizer
        self.optimizer = optimizer; self.hypers = hypers; self.oneCycle = oneCycle; self.position = position
        self.smoothLoss = smoothLoss
    }
}

extension Learner {
    /// The current weights, optimizer state and schedule position as a checkpoint.
    public func checkpoint(withOptimizer: Bool = true) -> TrainingCheckpoint {
        var tensors: [String: Tensor] = [:]
        var entries: [CheckpointMetadata.ParameterEntry] = []
        for (k, p) in optimizer.parameters.enumerated() {
            let s = optimizer.states[k]
            tensors["model.\(p.name)"] = p.value
            if withOptimizer {
                if let m = s.gradAvg { tensors["opt.\(p.name).grad_avg"] = m }
                if let v = s.sqrAvg { tensors["opt.\(p.name).sqr_avg"] = v }
            }
            entries.append(.init(name: p.name, shape: p.shape, requiresGrad: p.requiresGrad, hasGrad: p.hasGrad,
                                 doWD: s.doWD, forceTrain: s.forceTrain, step: withOptimizer ? s.step : 0))
        }
        let meta = CheckpointMetadata(parameters: entries, groupSizes: optimizer.groups.map(\.count),
                                      withOptimizer: withOptimizer, optimizer: optimizer.kind, hypers: optimizer.hypers,
                                      oneCycle: oneCycle, position: position, smoothLoss: recorder.smoothLoss)
        return TrainingCheckpoint(tensors: tensors, metadata: meta)
    }

    /// Loads a checkpoint made by `checkpoint()` for the same model layout. Names, order, group
    /// sizes and shapes are validated before anything is changed; the first mismatch is reported.
    public func restore(_ cp: TrainingCheckpoint) throws {
        let m = cp.metadata
        let params = optimizer.parameters
        guard m.format == "lmlab-training-checkpoint", m.version == 1 else {
            throw LearnError.checkpointMismatch("unknown format \(m.format) version \(m.version)")
        }
        guard m.parameters.count == params.count else {
            throw LearnError.checkpointMismatch("checkpoint has \(m.parameters.count) parameters, the model has \(params.count)")
        }
        guard m.groupSizes == optimizer.groups.map(\.count), m.hypers.count == optimizer.groups.count else {
            throw LearnError.checkpointMismatch("parameter groups \(m.groupSizes) differ from the model's \(optimizer.groups.map(\.count))")
        }
        guard m.optimizer == optimizer.kind else {
            throw LearnError.checkpointMismatch("optimizer \(m.optimizer.rawValue) differs from the learner's \(optimizer.kind.rawValue)")
        }
        var known = Set<String>()
        for (e, p) in zip(m.parameters, params) {
            guard e.name == p.name else {
                throw LearnError.checkpointMismatch("expected parameter '\(p.name)' at this position, found '\(e.name)'")
            }
            guard e.shape == p.shape else {
                throw LearnError.checkpointMismatch("'\(p.name)' has shape \(e.shape) in the checkpoint, \(p.shape) in the model")
            }
            let key = "model.\(p.name)"
            guard let t = cp.tensors[key] else { throw LearnError.checkpointMismatch("missing tensor '\(key)'") }
            guard t.shape == p.shape else {
                throw LearnError.checkpointMismatch("tensor '\(key)' has shape \(t.shape), the model has \(p.shape)")
            }
            known.insert(key)
            for suffix in ["grad_avg", "sqr_avg"] {
                let k = "opt.\(p.name).\(suffix)"
                if let t = cp.tensors[k] {
                    guard m.withOptimizer else { throw LearnError.checkpointMismatch("unexpected optimizer tensor '\(k)'") }
                    guard t.shape == p.shape else {
                        throw LearnError.checkpointMismatch("tensor '\(k)' has shape \(t.shape), expected \(p.shape)")
                    }
                    known.insert(k)
                }
            }
        }
        if let extra = cp.tensors.keys.sorted().first(where: { !known.contains($0) }) {
            throw LearnError.checkpointMismatch("unexpected tensor '\(extra)'")
        }
        // Validated: apply.
        for (k, (e, p)) in zip(m.parameters, params).enumerated() {
            p.value = cp.tensors["model.\(p.name)"]!
            p.requiresGrad = e.requiresGrad
            p.hasGrad = e.hasGrad
            p.zeroGrad()
            optimizer.states[k].doWD = e.doWD
            optimizer.states[k].forceTrain = e.forceTrain
            optimizer.states[k].gradAvg = cp.tensors["opt.\(p.name).grad_avg"]
            optimizer.states[k].sqrAvg = cp.tensors["opt.\(p.name).sqr_avg"]
            optimizer.states[k].step = e.step
        }
        optimizer.hypers = m.hypers
        recorder.smoothLoss = m.smoothLoss
        setRunState(oneCycle: m.oneCycle, position: m.position)
        model.reset()
    }
}
