import Foundation

/// Turns fastai's special rule tokens back into text: `xxmaj w` → `W`, `xxup w` → `W` upper-case,
/// `xxrep n c` → `c` repeated n times, `xxwrep n w` → n copies of `w`.
///
///     decodeSpecTokens(["xxmaj", "hello", "xxrep", "3", "!", "world"])
///     // corrected: ["Hello", "!!!", "world"]; fastai: ["Hello", "!!!", "worldworldworld"]
public enum SpecTokenDecoding: String, Sendable, Codable {
    /// fastai 2.8.12 exactly, including its bug: after `xxrep`/`xxwrep` the rule and count are
    /// never cleared, so every later plain token is repeated too (until an `xxmaj`/`xxup`, which
    /// clears the rule but not the count, so a later `xxrep` repeats its own count token with the
    /// stale count). Use for parity with fastai's `predict` output.
    case fastai
    /// The intended behaviour (LMLab's default): a repetition rule applies to the one token after
    /// its count and then both rule and count are cleared; every rule token starts afresh.
    case corrected
}

/// fastai's `decode_spec_tokens`. Tokens that are not rule tokens pass through; a rule with
/// nothing after it disappears; a non-integer count drops the rule and that token.
/// `mode` chooses fastai's exact (buggy) state machine or the corrected one; they differ only
/// after an `xxrep`/`xxwrep` has been applied (see `SpecTokenDecoding`).
public func decodeSpecTokens(_ tokens: [String], mode: SpecTokenDecoding = .corrected) -> [String] {
    enum Rule { case maj, up, rep, wrep }
    var out: [String] = []
    var rule: Rule?
    var count: Int?
    for t in tokens {
        switch t {
        case "xxmaj": rule = .maj; if mode == .corrected { count = nil }; continue
        case "xxup": rule = .up; if mode == .corrected { count = nil }; continue
        case "xxrep": rule = .rep; if mode == .corrected { count = nil }; continue
        case "xxwrep": rule = .wrep; if mode == .corrected { count = nil }; continue
        default: break
        }
        guard let r = rule else { out.append(t); continue }
        switch r {
        case .maj:
            out.append(capitalizedFirst(t)); rule = nil
        case .up:
            out.append(t.uppercased()); rule = nil
        case .rep, .wrep:
            guard let n = count else {
                if let n = pythonInt(t) { count = n } else { rule = nil }
                continue
            }
            let k = max(n, 0)
            if r == .rep { out.append(String(repeating: t, count: k)) }
            else { out += [String](repeating: t, count: k) }
            if mode == .corrected { rule = nil; count = nil }
        }
    }
    return out
}

/// Python's `t[:1].upper() + t[1:].lower()` (first code point upper-cased, the rest lower-cased).
private func capitalizedFirst(_ t: String) -> String {
    guard let first = t.unicodeScalars.first else { return t }
    let rest = String(String.UnicodeScalarView(t.unicodeScalars.dropFirst()))
    return String(first).uppercased() + rest.lowercased()
}

/// Python's `int(str)` for the forms a count token can take (surrounding spaces, sign, `_`
/// between digits); nil where Python raises.
private func pythonInt(_ s: String) -> Int? {
    let trimmed = s.trimmingCharacters(in: .whitespaces)
    guard !trimmed.hasPrefix("_"), !trimmed.hasSuffix("_"), !trimmed.contains("__") else { return nil }
    return Int(trimmed.replacingOccurrences(of: "_", with: ""))
}
