import Foundation

/// A small, fast, seedable generator (xoshiro256**, seeded through SplitMix64),
/// so every random draw in LMLab is reproducible from one integer.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    private var s: (UInt64, UInt64, UInt64, UInt64)

    public init(seed: UInt64) {
        var x = seed
        func splitmix() -> UInt64 {
            x &+= 0x9E37_79B9_7F4A_7C15
            var z = x
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        s = (splitmix(), splitmix(), splitmix(), splitmix())
    }

    public mutating func next() -> UInt64 {
        let result = ((s.1 &* 5) << 7 | (s.1 &* 5) >> 57) &* 9
        let t = s.1 << 17
        s.2 ^= s.0; s.3 ^= s.1; s.1 ^= s.2; s.0 ^= s.3
        s.2 ^= t
        s.3 = (s.3 << 45) | (s.3 >> 19)
        return result
    }

    /// A uniform Float in [0, 1) with 24 random bits.
    public mutating func nextUnit() -> Float {
        Float(next() >> 40) * (1.0 / Float(1 << 24))
    }

    /// A standard normal draw (Box–Muller).
    public mutating func nextNormal() -> Float {
        var u1 = Double(next() >> 11) * (1.0 / Double(1 << 53))
        if u1 < .leastNonzeroMagnitude { u1 = .leastNonzeroMagnitude }
        let u2 = Double(next() >> 11) * (1.0 / Double(1 << 53))
        return Float((-2 * Foundation.log(u1)).squareRoot() * cos(2 * .pi * u2))
    }
}

extension Tensor {
    /// Uniform values in [low, high).
    public static func uniform(_ shape: [Int], low: Float = 0, high: Float = 1,
                               using rng: inout SeededGenerator) -> Tensor {
        let n = Tensor.count(of: shape)
        var d = [Float](repeating: 0, count: n)
        for i in 0..<n { d[i] = low + (high - low) * rng.nextUnit() }
        return Tensor(shape: shape, data: d)
    }

    /// Normal values with the given mean and standard deviation.
    public static func normal(_ shape: [Int], mean: Float = 0, std: Float = 1,
                              using rng: inout SeededGenerator) -> Tensor {
        let n = Tensor.count(of: shape)
        var d = [Float](repeating: 0, count: n)
        for i in 0..<n { d[i] = mean + std * rng.nextNormal() }
        return Tensor(shape: shape, data: d)
    }
}
