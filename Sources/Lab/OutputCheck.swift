import Foundation

/// Compares a cell's output with its expected block.
///
/// Lines must match exactly, except for:
/// - inline markers: `{{float}}`, `{{int}}`, `{{any}}`, `{{approx X ±T}}`, `{{range A ... B}}`;
/// - assertion lines starting with `~ ` that stand for one (or more) actual lines:
///   `~ shape [6, 15]`, `~ approx 3.14 ±0.01`, `~ range 0.5 ... 2.0`, `~ contains TEXT`,
///   `~ error`, `~ lines N` (skip N lines), `~ rest` (skip everything that follows).
public enum OutputCheck {
    public struct Mismatch: Equatable {
        /// Index of the expected line that failed (or `expected.count` when output ran on).
        public var expectedIndex: Int
        /// One line: what was expected and what came.
        public var message: String
        /// The expected and actual blocks side by side (`-` expected, `+` actual).
        public var diff: String
    }

    static let number = #"[-+]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|nan|inf)"#
    /// What `{{float}}` accepts: a finite number. A loss or metric that became `nan` or `inf`
    /// means training broke, so it must not pass as "some number".
    static let finiteNumber = #"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"#

    /// The first difference, or nil when `actual` satisfies `expected`.
    public static func compare(expected: [String], actual: [String]) -> Mismatch? {
        var a = 0
        for (e, line) in expected.enumerated() {
            func fail(_ why: String) -> Mismatch {
                Mismatch(expectedIndex: e, message: why, diff: diff(expected, actual))
            }
            if line.hasPrefix("~ ") {
                let spec = String(line.dropFirst(2)).trimmingCharacters(in: .whitespaces)
                if spec == "rest" { return nil }
                if spec.hasPrefix("lines ") {
                    guard let n = Int(spec.dropFirst(6).trimmingCharacters(in: .whitespaces)), n >= 0 else {
                        return fail("bad assertion '\(line)' (use '~ lines N')")
                    }
                    guard a + n <= actual.count else { return fail("expected \(n) more lines, got \(actual.count - a)") }
                    a += n
                    continue
                }
                guard a < actual.count else { return fail("expected a line for '\(line)', output ended") }
                if let why = assertion(spec, actual[a]) { return fail(why) }
                a += 1
                continue
            }
            guard a < actual.count else { return fail("expected '\(line)', output ended") }
            if !lineMatches(line, actual[a]) { return fail("expected '\(line)', got '\(actual[a])'") }
            a += 1
        }
        if a < actual.count {
            return Mismatch(expectedIndex: expected.count, message: "unexpected extra output '\(actual[a])'",
                            diff: diff(expected, actual))
        }
        return nil
    }

    /// nil when the actual line satisfies the `~` assertion, else why not.
    static func assertion(_ spec: String, _ line: String) -> String? {
        let words = spec.split(separator: " ", maxSplits: 1).map(String.init)
        let kind = words.first ?? ""
        let arg = words.count > 1 ? words[1] : ""
        switch kind {
        case "shape":
            let dims = arg.trimmingCharacters(in: CharacterSet(charactersIn: "[]() ")).replacingOccurrences(of: " ", with: "")
            let forms = ["Tensor [\(dims.replacingOccurrences(of: ",", with: ", "))]", "(\(dims.replacingOccurrences(of: ",", with: ", ")))",
                         "[\(dims.replacingOccurrences(of: ",", with: ", "))]"]
            if line.hasPrefix(forms[0] + " ") || line == forms[0] || line == forms[1] || line == forms[2]
                || (!dims.contains(",") && line == "(\(dims),)") { return nil }
            return "expected shape \(arg), got '\(line)'"
        case "approx", "range":
            guard let got = Double(line.trimmingCharacters(in: .whitespaces)) ?? firstNumber(line) else {
                return "expected a number for '~ \(spec)', got '\(line)'"
            }
            if let why = numberCheck(kind, arg, got) { return why + " (line '\(line)')" }
            return nil
        case "contains":
            return line.contains(arg) ? nil : "expected a line containing '\(arg)', got '\(line)'"
        case "error":
            return line.hasPrefix("error: ") ? nil : "expected an error, got '\(line)'"
        default:
            return "unknown assertion '~ \(spec)' (use shape, approx, range, contains, error, lines, rest)"
        }
    }

    /// Checks `approx X ±T` / `range A ... B` arguments against a number.
    static func numberCheck(_ kind: String, _ arg: String, _ got: Double) -> String? {
        if kind == "approx" {
            let parts = arg.replacingOccurrences(of: "+-", with: "±").split(separator: "±").map {
                Double($0.trimmingCharacters(in: .whitespaces))
            }
            guard parts.count == 2, let want = parts[0], let tol = parts[1] else {
                return "bad assertion 'approx \(arg)' (use 'approx X ±T')"
            }
            return abs(got - want) <= tol ? nil : "expected \(want) ±\(tol), got \(got)"
        }
        let parts = arg.components(separatedBy: "...").map { Double($0.trimmingCharacters(in: .whitespaces)) }
        guard parts.count == 2, let lo = parts[0], let hi = parts[1] else {
            return "bad assertion 'range \(arg)' (use 'range A ... B')"
        }
        return got >= lo && got <= hi ? nil : "expected a number in \(lo) ... \(hi), got \(got)"
    }

    private static func firstNumber(_ s: String) -> Double? {
        guard let r = s.range(of: number, options: .regularExpression) else { return nil }
        return Double(s[r])
    }

    /// Exact comparison, with `{{…}}` markers as wildcards.
    static func lineMatches(_ expected: String, _ actual: String) -> Bool {
        guard expected.contains("{{") else { return expected == actual }
        var pattern = "^"
        var checks: [(String, String)] = []   // (kind, argument) per capture group
        var rest = Substring(expected)
        while let open = rest.range(of: "{{"), let close = rest.range(of: "}}", range: open.upperBound..<rest.endIndex) {
            pattern += NSRegularExpression.escapedPattern(for: String(rest[..<open.lowerBound]))
            let marker = rest[open.upperBound..<close.lowerBound].trimmingCharacters(in: .whitespaces)
            let parts = marker.split(separator: " ", maxSplits: 1).map(String.init)
            switch parts.first ?? "" {
            case "float": pattern += "(\(finiteNumber))"; checks.append(("float", ""))
            case "int": pattern += #"([-+]?\d+)"#; checks.append(("int", ""))
            case "any", "...": pattern += "(.*?)"; checks.append(("any", ""))
            case "approx", "range":
                pattern += "(\(number))"
                checks.append((parts[0], parts.count > 1 ? parts[1] : ""))
            default: pattern += NSRegularExpression.escapedPattern(for: "{{\(marker)}}")
                checks.append(("none", ""))
                pattern = String(pattern.dropLast(0))
            }
            rest = rest[close.upperBound...]
        }
        pattern += NSRegularExpression.escapedPattern(for: String(rest)) + "$"
        // Unknown markers were escaped literally; remove their placeholder checks.
        checks.removeAll { $0.0 == "none" }
        guard let re = try? NSRegularExpression(pattern: pattern),
              let m = re.firstMatch(in: actual, range: NSRange(actual.startIndex..., in: actual)) else { return false }
        for (k, check) in checks.enumerated() where check.0 == "approx" || check.0 == "range" {
            guard let r = Range(m.range(at: k + 1), in: actual), let got = Double(actual[r]) else { return false }
            if numberCheck(check.0, check.1, got) != nil { return false }
        }
        return true
    }

    /// Both blocks, prefixed `-` (expected) and `+` (actual), for failure reports.
    static func diff(_ expected: [String], _ actual: [String]) -> String {
        (expected.map { "  - " + $0 } + actual.map { "  + " + $0 }).joined(separator: "\n")
    }
}
