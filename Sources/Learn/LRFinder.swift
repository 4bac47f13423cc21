import Foundation
import Tensor

/// What `lrFind` recorded and suggests.
public struct LRFindResult: Sendable {
    /// Learning rate of every batch run.
    public var lrs: [Double]
    /// Smoothed loss after every batch run.
    public var losses: [Float]
    /// fastai's default suggestion (`valley`); nil when too few batches were recorded.
    public var valley: Double?
    /// `minimum`: lr at the lowest loss ÷ 10.
    public var minimum: Double?
    /// `steep`: lr where the loss falls fastest per unit of log-lr.
    public var steep: Double?
    /// True when stopped by the cancellation flag.
    public var cancelled: Bool
}

extension Learner {
    /// fastai `lr_find(start_lr, end_lr, num_it, stop_div)`: trains up to `numIt` batches with an
    /// exponentially growing lr (all groups), records the smoothed loss, stops when it exceeds 4×
    /// its best (if `stopDiv`), then restores weights and optimizer state.
    public func lrFind(startLR: Double = 1e-7, endLR: Double = 10, numIt: Int = 100, stopDiv: Bool = true) throws -> LRFindResult {
        guard startLR > 0, endLR > startLR, startLR.isFinite, endLR.isFinite else {
            throw LearnError.invalidHyperParameter("lr_find range", "need 0 < start_lr < end_lr, got \(startLR), \(endLR)")
        }
        guard numIt > 0 else { throw LearnError.invalidHyperParameter("num_it", "\(numIt) must be at least 1") }
        let nb = data.trainBatchCount
        guard nb > 0 else { throw LearnError.emptyTrainingSet }
        let saved = checkpoint()
        let savedRecorderSmooth = recorder.smoothLoss
        defer {
            optimizer.zeroGrad()
            try? restore(saved)     // same learner: cannot mismatch
            recorder.smoothLoss = savedRecorderSmooth
        }
        var smooth = SmoothedLoss()
        var lrs: [Double] = [], losses: [Float] = []
        var best = Float.infinity
        var iteration = 0
        var cancelled = false
        let groups = optimizer.groups.count
        model.reset()
        progress?.begin("lr_find", total: numIt)
        outer: for epoch in 0..<Int((Double(numIt) / Double(nb)).rounded(.up)) {
            model.isTraining = true
            model.reset()
            var index = 0
            for batch in data.trainBatches(epoch: epoch) {
                defer { index += 1 }
                if index >= nb { break }
                if cancellation.consume() { cancelled = true; break outer }
                let lr = startLR * pow(endLR / startLR, Double(iteration) / Double(numIt))
                optimizer.setLR([Double](repeating: lr, count: groups))
                let loss = try model.trainStep(batch)
                if loss.isFinite {
                    optimizer.step()
                }
                optimizer.zeroGrad()
                smooth.add(loss)
                let s = smooth.value ?? .nan
                lrs.append(lr); losses.append(s)
                iteration += 1
                progress?.update(done: iteration, loss: s)
                if !loss.isFinite {
                    // fastai keeps going with NaN weights, recording NaN until num_it; record the
                    // same values without computing them.
                    while iteration < numIt {
                        lrs.append(startLR * pow(endLR / startLR, Double(iteration) / Double(numIt)))
                        losses.append(.nan); iteration += 1
                    }
                    break outer
                }
                if s < best { best = s }
                if stopDiv && s > 4 * best { break outer }
                if iteration >= numIt { break outer }
            }
        }
        progress?.end()
        let (l, s) = suggestionWindow(lrs: lrs, losses: losses, numIt: numIt)
        return LRFindResult(lrs: lrs, losses: losses, valley: valleySuggestion(lrs: l, losses: s),
                            minimum: minimumSuggestion(lrs: l, losses: s), steep: steepSuggestion(lrs: l, losses: s),
                            cancelled: cancelled)
    }
}

/// fastai's window for suggestions: `[num_it//10 : -5]`, cut at the first NaN loss. Learning
/// rates are rounded to float32 as fastai's `tensor(...)` does.
public func suggestionWindow(lrs: [Double], losses: [Float], numIt: Int) -> (lrs: [Float], losses: [Float]) {
    let lo = numIt / 10, hi = lrs.count - 5
    guard hi > lo else { return ([], []) }
    var l = lrs[lo..<hi].map { Float($0) }, s = Array(losses[lo..<hi])
    if let nan = s.firstIndex(where: \.isNaN) { l = Array(l[..<nan]); s = Array(s[..<nan]) }
    return (l, s)
}

/// fastai's `valley`: longest strictly decreasing run of losses, then an lr two thirds of the way
/// down it. Follows fastai's loop literally, including its quirks: the best end index is updated
/// inside the inner loop (so its start can be stale), and a start of −1 picks the last lr.
public func valleySuggestion(lrs: [Float], losses: [Float]) -> Double? {
    let n = losses.count
    guard n > 0, lrs.count == n else { return nil }
    var maxStart = 0, maxEnd = 0
    var lds = [Int](repeating: 1, count: n)
    for i in 1..<max(n, 1) {
        for j in 0..<i {
            if losses[i] < losses[j] && lds[i] < lds[j] + 1 { lds[i] = lds[j] + 1 }
            if lds[maxEnd] < lds[i] { maxEnd = i; maxStart = maxEnd - lds[maxEnd] }
        }
    }
    let sections = Double(maxEnd - maxStart) / 3
    var idx = maxStart + Int(sections) + Int(sections / 2)
    if idx < 0 { idx += n }       // Python negative index
    guard idx >= 0 && idx < n else { return nil }
    return Double(lrs[idx])
}

/// fastai's `minimum`: the lr at the lowest loss, divided by 10.
public func minimumSuggestion(lrs: [Float], losses: [Float]) -> Double? {
    guard !losses.isEmpty, let i = losses.indices.min(by: { losses[$0] < losses[$1] }) else { return nil }
    return Double(lrs[i]) / 10
}

/// fastai's `steep`: the lr where `Δloss / Δlog(lr)` is most negative.
public func steepSuggestion(lrs: [Float], losses: [Float]) -> Double? {
    guard losses.count >= 2 else { return nil }
    var best = 0
    var bestGrad = Float.infinity
    for i in 0..<(losses.count - 1) {
        let g = (losses[i + 1] - losses[i]) / (Foundation.log(lrs[i + 1]) - Foundation.log(lrs[i]))
        if g < bestGrad { bestGrad = g; best = i }
    }
    return Double(lrs[best])
}
