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
    /// Unicode line separators, which may occur inside strings).
    public static func jsonLines(_ relativePath: String) throws -> [[String: Any]] {
        let bytes = try data(relativePath)
        return try bytes.split(separator: UInt8(ascii: "\n")).compactMap { line in
            line.isEmpty ? nil : try JSONSerialization.jsonObject(with: Data(line)) as? [String: Any]
        }
    }

    /// The package root (for tests that run lessons or scripts).
    public static var packageRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
    }
}
