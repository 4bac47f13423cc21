/// A position in a source text: 1-based line and column.
public struct SourceLocation: Equatable, Sendable {
    public var line: Int
    public var column: Int
    public init(line: Int, column: Int) { self.line = line; self.column = column }
}

/// An error of the command language: one line naming what went wrong, and where.
///
/// Errors are values: evaluation returns them, the session stays usable, and no
/// variable is left half-assigned.
public struct LabError: Error, CustomStringConvertible, Equatable, Sendable {
    /// What went wrong, on one line (e.g. `unknown name 'dsl' (did you mean 'dls'?)`).
    public var message: String
    /// Where in the source text, when known.
    public var location: SourceLocation?

    public init(_ message: String, at location: SourceLocation? = nil) {
        // One line, always: a stray newline in a quoted user string must not split it.
        // Other control characters (a NUL in a file name) are shown escaped, never written raw.
        var line = ""
        for u in message.unicodeScalars {
            switch u {
            case "\n": line += "⏎"
            case "\r": break
            case "\t": line.unicodeScalars.append(u)
            default:
                if u.properties.generalCategory == .control {
                    line += "\\x" + String(repeating: "0", count: u.value < 16 ? 1 : 0) + String(u.value, radix: 16)
                } else {
                    line.unicodeScalars.append(u)
                }
            }
        }
        self.message = line
        self.location = location
    }

    /// `message` with the location, `3:5: message`, or just `message` when unknown.
    public var description: String {
        guard let l = location else { return message }
        return "\(l.line):\(l.column): \(message)"
    }

    /// The error as a tool prints it on stderr: `FILE:LINE:COL: message`.
    /// `lineOffset` moves the location when the source was a part of a larger file
    /// (a lesson's code cell).
    public func formatted(origin: String, lineOffset: Int = 0) -> String {
        guard let l = location else { return "\(origin): \(message)" }
        return "\(origin):\(l.line + lineOffset):\(l.column): \(message)"
    }
}

/// Suggestions for a misspelled name: the closest candidates by edit distance.
public enum Suggest {
    /// ` (did you mean 'dls'?)` or an empty string when nothing is close enough.
    public static func didYouMean(_ name: String, among candidates: some Sequence<String>) -> String {
        let best = closest(name, among: candidates)
        guard !best.isEmpty else { return "" }
        return " (did you mean " + best.prefix(3).map { "'\($0)'" }.joined(separator: " or ") + "?)"
    }

    /// Candidates within a distance that grows with the name's length, nearest first.
    public static func closest(_ name: String, among candidates: some Sequence<String>) -> [String] {
        let limit = max(1, min(3, name.count / 3))
        let a = Array(name.lowercased())
        var scored: [(Int, String)] = []
        for c in Set(candidates) where c != name {
            let d = distance(a, Array(c.lowercased()))
            if d <= limit { scored.append((d, c)) }
        }
        return scored.sorted { $0.0 != $1.0 ? $0.0 < $1.0 : $0.1 < $1.1 }.map(\.1)
    }

    /// Optimal string alignment distance (Levenshtein plus adjacent transpositions).
    static func distance(_ a: [Character], _ b: [Character]) -> Int {
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        if abs(a.count - b.count) > 3 { return abs(a.count - b.count) }
        var prev2 = [Int](repeating: 0, count: b.count + 1)
        var prev = Array(0...b.count)
        var cur = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            cur[0] = i
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
                    cur[j] = min(cur[j], prev2[j - 2] + 1)
                }
            }
            (prev2, prev, cur) = (prev, cur, prev2)
        }
        return prev[b.count]
    }
}

import Foundation
