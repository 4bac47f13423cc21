import Foundation
import Testing
import Interop
@testable import Models
import Tensor
import TestSupport

/// Largest absolute difference and the worst violation of `|a − e| ≤ atol + rtol·|e|`.
struct Closeness {
    var maxAbsDiff: Float = 0
    var worstExcess: Float = -.infinity
    /// The largest `|a − e| / (atol + rtol·|e|)`: the share of the allowance the worst entry uses.
    var worstShare: Float = 0
    var ok: Bool { worstExcess <= 0 }
}

func closeness(_ actual: [Float], _ expected: [Float], rtol: Float, atol: Float) -> Closeness {
    var c = Closeness()
    for (a, e) in zip(actual, expected) {
        let d = abs(a - e)
        c.maxAbsDiff = max(c.maxAbsDiff, d.isNaN ? .infinity : d)
        c.worstExcess = max(c.worstExcess, d.isNaN ? .infinity : d - (atol + rtol * abs(e)))
        c.worstShare = max(c.worstShare, d.isNaN ? .infinity : d / (atol + rtol * abs(e)))
    }
    return c
}

/// Checks shape and values, printing the largest difference (llm.c style).
func expectClose(_ actual: Tensor, _ expected: Tensor, rtol: Float, atol: Float, _ what: String,
                 sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(actual.shape == expected.shape, "\(what): shape \(actual.shape) vs \(expected.shape)", sourceLocation: sourceLocation)
    guard actual.shape == expected.shape else { return }
    let c = closeness(actual.data, expected.data, rtol: rtol, atol: atol)
    if ProcessInfo.processInfo.environment["LMLAB_TEST_REPORT"] != nil {
        // How much of the allowance atol + rtol·|e| the worst entry uses (1 = all of it).
        print("forward \(what): max |diff| \(c.maxAbsDiff), worst share of the allowance \(c.worstShare)")
    }
    #expect(c.ok, "\(what): max |diff| \(c.maxAbsDiff)", sourceLocation: sourceLocation)
}

/// The tiny LM fixture: config from `lm.json`, weights, forward and backward tensors.
struct LMFixture {
    let json: [String: Any]
    let config: AWDLSTMConfig
    let vocab: Int
    let weights: SafeTensors
    let forward: SafeTensors
    let backward: SafeTensors

    init() throws {
        json = try #require(try Fixtures.json("model/lm.json") as? [String: Any])
        let f = try #require(json["forward"] as? [String: Any])
        func int(_ k: String) throws -> Int { try #require((f[k] as? NSNumber)?.intValue, "lm.json forward.\(k)") }
        vocab = try int("vocab")
        // The fixtures were made with drop_mult = 0 (every dropout off, also in training mode).
        config = AWDLSTMConfig(embSize: try int("emb_sz"), hiddenSize: try int("n_hid"), layers: try int("n_layers"),
                               padToken: try int("pad_token"),
                               tieWeights: try Fixtures.field(f, "tie_weights", as: Bool.self, in: "lm.json forward"),
                               outBias: try Fixtures.field(f, "out_bias", as: Bool.self, in: "lm.json forward")).scaled(dropMult: 0)
        weights = try SafeTensors(contentsOf: Fixtures.url("model/lm_weights.safetensors"))
        forward = try SafeTensors(contentsOf: Fixtures.url("model/lm_forward.safetensors"))
        backward = try SafeTensors(contentsOf: Fixtures.url("model/lm_backward.safetensors"))
    }

    func model() throws -> AWDLSTMLanguageModel {
        let lm = try AWDLSTMLanguageModel(config: config, vocabSize: vocab, seed: 1)
        try lm.load(stateDict: weights.floats)
        return lm
    }

    func double(_ key: String) throws -> Double {
        try #require((json[key] as? NSNumber)?.doubleValue, "lm.json \(key)")
    }
}

func tokenIDs(_ t: IntTensor) throws -> TokenBatch {
    TokenBatch(batchSize: t.shape[0], seqLen: t.shape[1], ids: t.data)
}

/// Gradient parity at the spec's tolerance: elementwise `|a − e| ≤ rtol · max(|e|, floor)` with
/// rtol 1e-4 and an absolute floor of `floorFraction` (1e-2) × the largest |e| of the tensor. The
/// floor is there because a float32 gradient entry is a sum of products whose rounding error is
/// about √n·ε·(size of the terms), i.e. ~1e-6 of the tensor's largest entry for the few hundred
/// terms of these models, not a fraction of the entry itself: an entry that cancels to nearly zero
/// cannot be compared relatively. Prints the worst figures when `LMLAB_TEST_REPORT` is set (the
/// README's measured errors come from that).
func expectGradientClose(_ actual: Tensor, _ expected: Tensor, rtol: Float = 1e-4, floorFraction: Float = 1e-2,
                         _ what: String, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(actual.shape == expected.shape, "\(what): shape \(actual.shape) vs \(expected.shape)", sourceLocation: sourceLocation)
    guard actual.shape == expected.shape else { return }
    expectNear(actual.data, expected.data.map(Double.init), rtol: Double(rtol), floorFraction: Double(floorFraction),
               "gradient \(what)", sourceLocation: sourceLocation)
}

/// The rule of `expectGradientClose` on flat values, against a float32 or Double expectation
/// (a layer's Double reference): `|a − e| ≤ rtol · max(|e|, floorFraction · largest |e|)`.
func expectNear(_ actual: [Float], _ expected: [Double], rtol: Double = 1e-4, floorFraction: Double = 1e-2,
                _ what: String, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(actual.count == expected.count, "\(what): \(actual.count) vs \(expected.count) entries", sourceLocation: sourceLocation)
    let scale = expected.reduce(0) { max($0, abs($1)) }
    let floor = floorFraction * scale
    var worst = 0.0, worstAt = 0, bad = 0
    for (i, (a, e)) in zip(actual, expected).enumerated() {
        let r = abs(Double(a) - e) / max(abs(e), floor, .leastNormalMagnitude)
        if !(r <= rtol) { bad += 1 }
        if !(r <= worst) { worst = r; worstAt = i }
    }
    if ProcessInfo.processInfo.environment["LMLAB_TEST_REPORT"] != nil {
        print("\(what): worst relative error \(worst) at \(worstAt) (floor \(floor), max |e| \(scale))")
    }
    #expect(bad == 0, "\(what): \(bad) of \(expected.count) entries beyond \(rtol) relative (floor \(floor)); worst \(worst) at \(worstAt): \(actual.isEmpty ? .nan : actual[worstAt]) vs \(expected.isEmpty ? .nan : expected[worstAt])",
            sourceLocation: sourceLocation)
}

/// The worst relative change (same floor as `expectGradientClose`) of each named gradient between
/// `base` and each of `perturbed`: with inputs or weights moved by one float32 ulp, how much float32
/// rounding alone moves these gradients. Where that exceeds the spec's 1e-4, no float32
/// implementation (PyTorch's included) can match another to 1e-4.
func gradientSensitivity(base: [String: Tensor], perturbed: [[String: Tensor]], floorFraction: Float = 1e-2) -> [String: Float] {
    var worst: [String: Float] = [:]
    for p in perturbed {
        for (name, a) in base {
            guard let b = p[name] else { continue }
            let floor = floorFraction * a.data.reduce(0) { max($0, abs($1)) }
            var w: Float = 0
            for (x, y) in zip(a.data, b.data) { w = max(w, abs(x - y) / max(abs(x), floor, .leastNormalMagnitude)) }
            worst[name] = max(worst[name] ?? 0, w)
        }
    }
    return worst
}

/// `t` with every entry moved up, down or not at all by one float32 ulp, at random.
func ulpJittered(_ t: Tensor, using rng: inout SeededGenerator) -> Tensor {
    var out = t
    for i in 0..<out.count {
        switch rng.next() % 3 {
        case 0: out.data[i] = out.data[i].nextUp
        case 1: out.data[i] = out.data[i].nextDown
        default: break
        }
    }
    return out
}

// MARK: - Reference layers (Sources/Models: each layer's `Reference`)

/// Float32 values turned into Double: the fast layer and its Double reference then read exactly
/// the same numbers.
func randomDoubles(_ count: Int, scale: Float = 1, using rng: inout SeededGenerator) -> [Double] {
    (0..<count).map { _ in Double(scale * (2 * rng.nextUnit() - 1)) }
}

/// A dropout mask as the models draw it (0 or 1/(1−p)), in Double.
func dropoutMask(_ count: Int, p: Float, using rng: inout SeededGenerator) -> [Double] {
    let buffer = FloatBuffer(count)
    drawDropoutMask(buffer.pointer, count: count, p: p, rng: &rng)
    return buffer.array(count).map(Double.init)
}

/// `Σ a·b`: the scalar loss of the gradient checks (a fixed random read-out of a layer's output),
/// whose gradient with respect to the output is the read-out itself.
func dot(_ a: [Double], _ b: [Double]) -> Double { zip(a, b).reduce(0) { $0 + $1.0 * $1.1 } }

/// Batch-first `[bs, T, F]` → time-major `[T, bs, F]` in float32 (the fast layers' layout).
func timeMajor(_ x: [Double], bs: Int, T: Int, F: Int) -> [Float] {
    var out = [Float](repeating: 0, count: x.count)
    for b in 0..<bs { for t in 0..<T { for f in 0..<F { out[(t * bs + b) * F + f] = Float(x[(b * T + t) * F + f]) } } }
    return out
}

/// Time-major `[T, bs, F]` → batch-first `[bs, T, F]`.
func batchFirst(_ x: UnsafePointer<Float>, bs: Int, T: Int, F: Int) -> [Float] {
    var out = [Float](repeating: 0, count: bs * T * F)
    for b in 0..<bs { for t in 0..<T { for f in 0..<F { out[(b * T + t) * F + f] = x[(t * bs + b) * F + f] } } }
    return out
}

/// Central differences `(f(x + h·e_i) − f(x − h·e_i)) / 2h` for every entry `i` of `x`.
func finiteDifferences(at x: [Double], step h: Double = 1e-5, _ f: ([Double]) -> Double) -> [Double] {
    var probe = x
    return x.indices.map { i in
        probe[i] = x[i] + h
        let plus = f(probe)
        probe[i] = x[i] - h
        let minus = f(probe)
        probe[i] = x[i]
        return (plus - minus) / (2 * h)
    }
}

/// A reference backward against central differences of the reference forward, all in Double:
/// `|analytic − numeric| ≤ 1e-6 · max(|numeric|, 1e-2 · largest |numeric|)`. With h = 1e-5 the
/// truncation error is about h²·f‴/6 ≈ 1e-10 and rounding about 1e-16·|f|/h ≈ 1e-10 for these
/// O(1)–O(10) losses, so 1e-6 relative leaves room only for a wrong formula to fail.
func expectMatchesFiniteDifferences(_ analytic: [Double], _ numeric: [Double], _ what: String,
                                    sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(analytic.count == numeric.count, "\(what): \(analytic.count) vs \(numeric.count) entries", sourceLocation: sourceLocation)
    let floor = 1e-2 * numeric.reduce(0) { max($0, abs($1)) }
    var worst = 0.0, worstAt = 0
    for (i, (a, n)) in zip(analytic, numeric).enumerated() {
        let r = abs(a - n) / max(abs(n), floor, .leastNormalMagnitude)
        if !(r <= worst) { worst = r; worstAt = i }
    }
    if ProcessInfo.processInfo.environment["LMLAB_TEST_REPORT"] != nil {
        print("finite differences \(what): worst relative error \(worst) at \(worstAt)")
    }
    #expect(worst <= 1e-6, "\(what): worst relative error \(worst) at \(worstAt): analytic \(analytic[worstAt]) vs numeric \(numeric[worstAt])",
            sourceLocation: sourceLocation)
}
