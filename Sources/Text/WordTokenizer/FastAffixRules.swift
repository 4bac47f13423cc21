/// Placeholder: delegates to the regex reference until the hand-written scanners land.
final class FastAffixRules: AffixRules, @unchecked Sendable {
    private let regex: RegexAffixRules
    init(prefix: String, suffix: String, infix: String, url: String) throws {
        regex = try RegexAffixRules(prefix: prefix, suffix: suffix, infix: infix, url: url)
    }
    func prefixLength(_ s: UnsafeBufferPointer<Unicode.Scalar>) -> Int { regex.prefixLength(s) }
    func suffixLength(_ s: UnsafeBufferPointer<Unicode.Scalar>) -> Int { regex.suffixLength(s) }
    func infixes(_ s: UnsafeBufferPointer<Unicode.Scalar>) -> [Range<Int>] { regex.infixes(s) }
    func isURL(_ s: UnsafeBufferPointer<Unicode.Scalar>) -> Bool { regex.isURL(s) }
}
