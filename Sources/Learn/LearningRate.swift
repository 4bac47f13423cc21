import Foundation

/// A learning rate as fastai accepts it: one number for every group, one per group, or a
/// `slice` spread over the groups.
///
///     LearningRate.slice(1e-2 / pow(2.6, 4), 1e-2).perGroup(5)
///     // [2.1883e-4, 5.6896e-4, 1.4793e-3, 3.8462e-3, 1e-2]
///     LearningRate.slice(1e-3).perGroup(4)   // [1e-4, 1e-4, 1e-4, 1e-3]
public enum LearningRate: Sendable, Equatable {
    /// The same value for every group.
    case value(Double)
    /// One value per group.
    case values([Double])
    /// fastai's `slice(start, stop)` (`start` nil or 0 = `slice(stop)`).
    case range(start: Double?, stop: Double)

    /// `slice(stop)`: stop/10 for every group but the last, stop for the last.
    public static func slice(_ stop: Double) -> LearningRate { .range(start: nil, stop: stop) }
    /// `slice(start, stop)`: geometric spread from start (first group) to stop (last group).
    public static func slice(_ start: Double, _ stop: Double) -> LearningRate { .range(start: start, stop: stop) }

    /// The value for each of `n` groups; throws when a value is not a positive finite number or a
    /// list has the wrong length.
    public func perGroup(_ n: Int) throws -> [Double] {
        let out: [Double]
        switch self {
        case let .value(v): out = [Double](repeating: v, count: n)
        case let .values(vs):
            guard vs.count == n else {
                throw LearnError.invalidHyperParameter("learning rate", "\(vs.count) values given for \(n) parameter groups")
            }
            out = vs
        case let .range(start, stop):
            if let start, start != 0 { out = evenMults(start, stop, n) }
            else { out = [Double](repeating: stop / 10, count: max(n - 1, 0)) + (n > 0 ? [stop] : []) }
        }
        for v in out where !(v > 0 && v.isFinite) {
            throw LearnError.invalidHyperParameter("learning rate", "\(v) is not a positive finite number")
        }
        return out
    }
}

/// fastai's `even_mults(start, stop, n)`: `start·(stop/start)^(i/(n−1))`, i = 0…n−1 (n = 1 → stop).
public func evenMults(_ start: Double, _ stop: Double, _ n: Int) -> [Double] {
    if n == 1 { return [stop] }
    let mult = stop / start
    let step = pow(mult, 1 / Double(n - 1))
    // fastai computes start * step**i (not mult**(i/(n-1))); same maths, matching rounding.
    return (0..<n).map { start * pow(step, Double($0)) }
}
