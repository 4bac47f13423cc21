import Foundation
import Testing
import TestSupport
@testable import Text

private var sampleURL: URL {
    Fixtures.packageRoot.appendingPathComponent("Datasets/imdb_sample", isDirectory: true)
}

/// The embedded sample: 1,600 train / 400 valid, balanced labels, labels from the parent
/// folder, splits from the grandparent, files named after their imdb index.
@Test func embeddedSampleLoads() throws {
    let ds = try TextFolderDataset(path: sampleURL)
    #expect(ds.items.count == 2000)
    #expect(ds.labels == ["neg", "pos"])
    for (split, n) in [("train", 1600), ("valid", 400)] {
        let items = ds.items(split: split)
        #expect(items.count == n)
        #expect(items.filter { $0.label == "pos" }.count == n / 2)
    }
    for item in ds.items {
        #expect(!item.text.isEmpty)
        #expect(item.relativePath == "\(item.split)/\(item.label)/\(item.url.lastPathComponent)")
        // Label 0 = neg is imdb index < 12,500.
        let i = Int(item.url.deletingPathExtension().lastPathComponent) ?? -1
        #expect((i >= 12500) == (item.label == "pos"), "\(item.relativePath)")
    }
    #expect(ds.items.map(\.relativePath) == ds.items.map(\.relativePath).sorted {
        $0.unicodeScalars.lexicographicallyPrecedes($1.unicodeScalars)
    })
}

/// Every fixture review that the sample's selection rule includes (Scripts/make-imdb-sample:
/// i % 10 == 0 and among the first 1,000 of its label) is in the sample, under its label, with the
/// fixture's text exactly; reviews the rule leaves out are not there.
@Test func sampleTextIsTheCSVText() throws {
    let records = try Fixtures.jsonLines("text/tokenize.jsonl")
    for record in records {
        let id = try Fixtures.field(record, "id", as: String.self)
        // Hand-made strings have i = null.
        guard !(try #require(record["i"], "\(id): no field 'i'") is NSNull) else { continue }
        let i = try Fixtures.field(record, "i", as: Int.self, in: id)
        let label = try Fixtures.field(record, "label", as: String.self, in: id)
        let firstOfLabel = label == "neg" ? 0 : 12_500
        let inSample = i % 10 == 0 && i - firstOfLabel < 10_000
        let files = ["train", "valid"].map { sampleURL.appendingPathComponent("\($0)/\(label)/\(i).txt") }
            .filter { FileManager.default.fileExists(atPath: $0.path) }
        #expect(files.count == (inSample ? 1 : 0), "\(id): \(files.count) sample files")
        for file in files {
            #expect(try String(contentsOf: file, encoding: .utf8) == (try Fixtures.field(record, "text", as: String.self)), "\(id)")
        }
    }
}

@Test func missingDatasetGivesOneLineError() throws {
    let missing = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("lmlab-no-such-\(UUID().uuidString)")
    do {
        _ = try TextFolderDataset(path: missing)
        Issue.record("expected an error")
    } catch let e as DatasetError {
        #expect(e.description == "dataset not found: \(missing.path) does not exist (run Scripts/fetch-imdb to download the full IMDb, or use Datasets/imdb_sample)")
        #expect(!e.description.contains("\n"))
    }
}

@Test func emptyDatasetGivesOneLineError() throws {
    let empty = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("lmlab-empty-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: empty.appendingPathComponent("train/pos"), withIntermediateDirectories: true)
    try Data("hidden".utf8).write(to: empty.appendingPathComponent("train/pos/.x.txt"))
    defer { try? FileManager.default.removeItem(at: empty) }
    do {
        _ = try TextFolderDataset(path: empty)
        Issue.record("expected an error")
    } catch let e as DatasetError {
        #expect(e.description == "dataset is empty: no .txt files under \(empty.path) (run Scripts/fetch-imdb to download the full IMDb, or use Datasets/imdb_sample)")
    }
}

@Test func defaultDatasetPrefersFullIMDb() throws {
    let root = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("lmlab-root-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: root) }
    try FileManager.default.createDirectory(at: root.appendingPathComponent("Datasets/imdb_sample"), withIntermediateDirectories: true)
    #expect(TextFolderDataset.defaultPath(packageRoot: root).lastPathComponent == "imdb_sample")
    try FileManager.default.createDirectory(at: root.appendingPathComponent("Datasets/imdb/train/pos"), withIntermediateDirectories: true)
    #expect(TextFolderDataset.defaultPath(packageRoot: root).lastPathComponent == "imdb")
}

@Test func invalidUTF8GivesOneLineError() throws {
    let root = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("lmlab-bad-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: root) }
    let file = root.appendingPathComponent("train/neg/1.txt")
    try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
    try Data([0x61, 0xFF, 0x62]).write(to: file)
    #expect(throws: DatasetError("\(file.path) is not valid UTF-8 text")) { try TextFolderDataset(path: root) }
}
