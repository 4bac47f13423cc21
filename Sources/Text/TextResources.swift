import Foundation

/// A bundled resource is missing or malformed (a packaging error).
public enum TextResourceError: Error, CustomStringConvertible {
    case missing(String)
    case malformed(String)

    public var description: String {
        switch self {
        case .missing(let name): return "Text resource \(name) is missing from the bundle"
        case .malformed(let name): return "Text resource \(name) is malformed"
        }
    }
}

/// Access to the versioned data tables in `Sources/Text/Resources` (see its README).
enum TextResources {
    static func url(_ name: String, _ ext: String = "json") throws -> URL {
        if let u = Bundle.module.url(forResource: name, withExtension: ext, subdirectory: "Resources")
            ?? Bundle.module.url(forResource: name, withExtension: ext) {
            return u
        }
        throw TextResourceError.missing("\(name).\(ext)")
    }

    static func json(_ name: String) throws -> [String: Any] {
        let data = try Data(contentsOf: url(name))
        guard let object = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw TextResourceError.malformed("\(name).json")
        }
        return object
    }
}
