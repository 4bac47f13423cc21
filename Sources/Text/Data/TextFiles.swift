import Foundation

/// fastai's `get_text_files`: every `.txt` file (extension compared lower-case) under `path`,
/// recursively, skipping files and folders whose names start with `.`.
///
/// Unlike fastai (which keeps the operating system's unsorted listing) the result is sorted
/// by relative path, compared code point by code point, so every run and every machine sees
/// the same order.
public enum TextFiles {
    /// The `.txt` files under `path`; with `folders`, only under those top-level folders
    /// (files directly in `path` are then excluded, as in fastai).
    public static func list(in path: URL, folders: [String]? = nil) -> [URL] {
        let roots = folders.map { $0.map { path.appendingPathComponent($0, isDirectory: true) } } ?? [path]
        var found: [(String, URL)] = []
        let base = path.standardizedFileURL.path
        for root in roots {
            walk(root) { url in
                let full = url.standardizedFileURL.path
                let rel = full.hasPrefix(base + "/") ? String(full.dropFirst(base.count + 1)) : full
                found.append((rel, url))
            }
        }
        found.sort { $0.0.unicodeScalars.lexicographicallyPrecedes($1.0.unicodeScalars) }
        // A file listed twice (overlapping folder names) is kept once.
        var seen = Set<String>()
        return found.filter { seen.insert($0.0).inserted }.map(\.1)
    }

    /// The path of `url` relative to `base` (`train/pos/12500.txt`).
    public static func relativePath(of url: URL, to base: URL) -> String {
        let full = url.standardizedFileURL.path
        let b = base.standardizedFileURL.path
        return full.hasPrefix(b + "/") ? String(full.dropFirst(b.count + 1)) : full
    }

    private static func walk(_ dir: URL, _ visit: (URL) -> Void) {
        let fm = FileManager.default
        guard let names = try? fm.contentsOfDirectory(atPath: dir.path) else { return }
        for name in names where !name.hasPrefix(".") {
            let url = dir.appendingPathComponent(name)
            var isDir: ObjCBool = false
            guard fm.fileExists(atPath: url.path, isDirectory: &isDir) else { continue }
            if isDir.boolValue {
                walk(url, visit)
            } else if url.pathExtension.lowercased() == "txt" {
                visit(url)
            }
        }
    }
}
