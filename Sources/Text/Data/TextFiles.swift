import Foundation

/// fastai's `get_text_files`: every `.txt` file (extension compared lower-case) under `path`,
/// recursively, skipping files and folders whose names start with `.`.
///
/// Unlike fastai (which keeps the operating system's unsorted listing) the result is sorted
/// by relative path, compared code point by code point, so every run and every machine sees
/// the same order.
public enum TextFiles {
    /// A file found under a root: its URL and its path relative to the root.
    public struct Entry: Sendable, Equatable {
        public let url: URL
        /// `train/pos/12500.txt`
        public let relativePath: String
    }

    /// The `.txt` files under `path`; with `folders`, only under those top-level folders
    /// (files directly in `path` are then excluded, as in fastai).
    public static func list(in path: URL, folders: [String]? = nil) -> [URL] {
        entries(in: path, folders: folders).map(\.url)
    }

    /// Like `list`, with relative paths.
    public static func entries(in path: URL, folders: [String]? = nil) -> [Entry] {
        var found: [Entry] = []
        let starts = folders.map { Array(Set($0)).filter { !$0.hasPrefix(".") && !$0.isEmpty } } ?? [""]
        for start in starts {
            walk(root: path, relative: start, into: &found)
        }
        found.sort { $0.relativePath.unicodeScalars.lexicographicallyPrecedes($1.relativePath.unicodeScalars) }
        return found
    }

    private static func walk(root: URL, relative: String, into found: inout [Entry]) {
        let fm = FileManager.default
        let dir = relative.isEmpty ? root : root.appendingPathComponent(relative, isDirectory: true)
        guard let names = try? fm.contentsOfDirectory(atPath: dir.path) else { return }
        for name in names where !name.hasPrefix(".") {
            let rel = relative.isEmpty ? name : relative + "/" + name
            let isText = name.lowercased().hasSuffix(".txt") && name.count > 4
            var isDir: ObjCBool = false
            guard fm.fileExists(atPath: dir.path + "/" + name, isDirectory: &isDir) else { continue }
            if isDir.boolValue {
                walk(root: root, relative: rel, into: &found)
            } else if isText {
                found.append(Entry(url: dir.appendingPathComponent(name, isDirectory: false), relativePath: rel))
            }
        }
    }
}
