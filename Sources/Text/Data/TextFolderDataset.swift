import Foundation

/// One labelled text of a folder dataset laid out as fastai's IMDb:
/// `<root>/<split>/<label>/<name>.txt`.
public struct TextItem: Sendable, Equatable {
    /// The file.
    public let url: URL
    /// Path relative to the dataset root, e.g. `train/pos/12500.txt`.
    public let relativePath: String
    /// The file's contents (UTF-8).
    public let text: String
    /// Name of the parent folder (`pos` / `neg`): fastai's `parent_label`.
    public let label: String
    /// Name of the grandparent folder (`train` / `valid`): what `GrandparentSplitter` reads.
    public let split: String
}

/// A dataset that could not be loaded: one line naming the path and how to get the data.
public struct DatasetError: Error, CustomStringConvertible, Equatable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// A text dataset in fastai's folder layout (`<root>/{train,valid}/{pos,neg}/*.txt`): the
/// embedded sample `Datasets/imdb_sample` and the full `Datasets/imdb` written by
/// `Scripts/fetch-imdb` load the same way.
///
/// ```swift
/// let ds = try TextFolderDataset(path: TextFolderDataset.defaultPath())
/// ds.items(split: "train").count   // 1600 for the sample
/// ```
public struct TextFolderDataset: Sendable {
    /// The dataset root.
    public let path: URL
    /// Every `.txt` file under `path` (sorted relative-path order, hidden names skipped).
    public let items: [TextItem]

    /// The command that downloads the full dataset.
    public static let fetchCommand = "Scripts/fetch-imdb"

    /// Loads every `.txt` under `path`. Throws a one-line `DatasetError` naming `path` and
    /// `Scripts/fetch-imdb` when the folder is missing or holds no `.txt` file, or when a
    /// file is not readable UTF-8.
    public init(path: URL) throws {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path.path, isDirectory: &isDir), isDir.boolValue else {
            throw DatasetError("dataset not found: \(path.path) does not exist (run \(Self.fetchCommand) to download the full IMDb, or use Datasets/imdb_sample)")
        }
        let files = TextFiles.entries(in: path)
        guard !files.isEmpty else {
            throw DatasetError("dataset is empty: no .txt files under \(path.path) (run \(Self.fetchCommand) to download the full IMDb, or use Datasets/imdb_sample)")
        }
        var loaded: [TextItem] = []
        loaded.reserveCapacity(files.count)
        for file in files {
            guard let data = FileManager.default.contents(atPath: file.url.path) else {
                throw DatasetError("cannot read \(file.url.path)")
            }
            guard let text = String(validating: data, as: UTF8.self) else {
                throw DatasetError("\(file.url.path) is not valid UTF-8 text")
            }
            let parts = file.relativePath.split(separator: "/", omittingEmptySubsequences: false)
            let label = parts.count >= 2 ? String(parts[parts.count - 2]) : path.lastPathComponent
            let split = parts.count >= 3 ? String(parts[parts.count - 3])
                : (parts.count == 2 ? path.lastPathComponent : path.deletingLastPathComponent().lastPathComponent)
            loaded.append(TextItem(url: file.url, relativePath: file.relativePath, text: text, label: label, split: split))
        }
        self.path = path
        self.items = loaded
    }

    /// Items whose grandparent folder is `split`.
    public func items(split: String) -> [TextItem] { items.filter { $0.split == split } }

    /// Items under the given top-level folders (fastai's `get_text_files(folders=…)`).
    public func items(inFolders folders: [String]) -> [TextItem] {
        let set = Set(folders)
        return items.filter { item in
            guard let first = item.relativePath.split(separator: "/").first, item.relativePath.contains("/")
            else { return false }
            return set.contains(String(first))
        }
    }

    /// Sorted distinct labels (the `CategoryBlock` vocabulary, `['neg', 'pos']`).
    public var labels: [String] { Array(Set(items.map(\.label))).sorted() }

    /// The default dataset under `root` (the package root; the current directory when nil):
    /// `Datasets/imdb` when it holds any `.txt`, otherwise `Datasets/imdb_sample`.
    public static func defaultPath(packageRoot root: URL? = nil) -> URL {
        let base = root ?? URL(fileURLWithPath: FileManager.default.currentDirectoryPath, isDirectory: true)
        let datasets = base.appendingPathComponent("Datasets", isDirectory: true)
        let full = datasets.appendingPathComponent("imdb", isDirectory: true)
        let train = full.appendingPathComponent("train").path
        if let names = try? FileManager.default.contentsOfDirectory(atPath: train),
           names.contains(where: { !$0.hasPrefix(".") }) {
            return full
        }
        return datasets.appendingPathComponent("imdb_sample", isDirectory: true)
    }
}

/// Short alias in the chapter's words.
public typealias IMDbDataset = TextFolderDataset
