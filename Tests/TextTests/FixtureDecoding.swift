import Foundation
import TestSupport
@testable import Text

/// Small helpers to pull typed values out of JSONSerialization output.
enum FX {
    struct Missing: Error, CustomStringConvertible {
        let description: String
    }

    static func object(_ path: String) throws -> [String: Any] {
        guard let o = try Fixtures.json(path) as? [String: Any] else { throw Missing(description: "\(path): not an object") }
        return o
    }

    static func get<T>(_ o: [String: Any], _ key: String, as: T.Type = T.self) throws -> T {
        guard let v = o[key] as? T else { throw Missing(description: "fixture key '\(key)' missing or not \(T.self)") }
        return v
    }

    static func ints(_ o: [String: Any], _ key: String) throws -> [Int] { try get(o, key) }
    static func intRows(_ o: [String: Any], _ key: String) throws -> [[Int]] { try get(o, key) }
    static func strings(_ o: [String: Any], _ key: String) throws -> [String] { try get(o, key) }
    static func stringRows(_ o: [String: Any], _ key: String) throws -> [[String]] { try get(o, key) }

    /// `[[token, count], ...]` → a TokenCounter in that order.
    static func counter(_ o: [String: Any], _ key: String) throws -> TokenCounter {
        let pairs: [[Any]] = try get(o, key)
        return TokenCounter(entries: try pairs.map { p in
            guard p.count == 2, let t = p[0] as? String, let n = p[1] as? Int else {
                throw Missing(description: "bad counter entry \(p)")
            }
            return (t, n)
        })
    }
}
