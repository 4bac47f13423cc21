import Foundation

/// Where the parity fixtures live: `$LMLAB_REFERENCE` when set (any directory with the
/// layout of ../shared/reference), otherwise `Tests/Fixtures` in this package.
public enum Fixtures {
    public static var directory: URL {
        if let dir = ProcessInfo.processInfo.environment["LMLAB_REFERENCE"], !dir.isEmpty {
            return URL(fileURLWithPath: dir, isDirectory: true)
        }
        // Tests/TestSupport/Fixtures.swift → Tests/Fixtures
        return URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Fixtures", isDirectory: true)
    }

    /// The URL of a fixture file, e.g. `Fixtures.url("text/tokenize.jsonl")`.
    public static func url(_ relativePath: String) -> URL {
        directory.appendingPathComponent(relativePath)
    }

    /// The bytes of a fixture file.
    public static func data(_ relativePath: String) throws -> Data {
        try Data(contentsOf: url(relativePath))
    }

    /// A JSON fixture parsed into Foundation objects.
    public static func json(_ relativePath: String) throws -> Any {
        try JSONSerialization.jsonObject(with: data(relativePath), options: [.fragmentsAllowed])
    }

    /// A JSON-lines fixture: one object per `\n`-separated line (never split on other
    /// Unicode line separators, which may occur inside strings). A line that is not a JSON
    /// object is an error naming the file and line, never skipped.
    public static func jsonLines(_ relativePath: String) throws -> [[String: Any]] {
        let bytes = try data(relativePath)
        var records: [[String: Any]] = []
        for (n, line) in bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).enumerated()
        where !line.isEmpty {
            guard let object = try? JSONSerialization.jsonObject(with: Data(line)) as? [String: Any] else {
                throw FixtureError("\(relativePath):\(n + 1): not a JSON object")
            }
            records.append(object)
        }
        guard !records.isEmpty else { throw FixtureError("\(relativePath): no records") }
        return records
    }

    /// A required field of a fixture record, with the type the test needs; missing or of another
    /// type is an error naming the field (never a silent skip).
    public static func field<T>(_ record: [String: Any], _ key: String, as: T.Type = T.self,
                                in what: String = "record") throws -> T {
        guard let value = record[key] else { throw FixtureError("\(what): missing field '\(key)'") }
        if let v = value as? T { return v }
        // JSON numbers arrive as NSNumber: convert to the numeric type asked for.
        if let n = value as? NSNumber {
            if T.self == Double.self { return n.doubleValue as! T }
            if T.self == Float.self { return n.floatValue as! T }
            if T.self == Int.self, Double(n.intValue) == n.doubleValue { return n.intValue as! T }
        }
        throw FixtureError("\(what): field '\(key)' is \(type(of: value)), not \(T.self)")
    }

    /// The package root (for tests that run lessons or scripts).
    public static var packageRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
    }
}

/// A fixture that does not have the layout the tests read: one line naming file, line or field.
public struct FixtureError: Error, CustomStringConvertible, Equatable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
