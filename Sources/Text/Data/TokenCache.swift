import Foundation

/// Tokenizes a dataset's texts once and keeps the tokens on disk (fastai writes a `_tok`
/// folder; we write one file), so the slow step is not redone.
///
/// The cache file is `<directory>/<key>.tokens` where `key` is a 128-bit FNV-1a hash of the
/// tokenizer's `cacheIdentifier` and every (relative path, text) pair in order. Any change to
/// the texts, their order or the tokenizer gives a new key. Format: a header line, then the
/// documents separated by U+001E with tokens separated by U+001F. Documents whose tokens
/// contain those two control characters cannot be stored; then nothing is cached.
public struct TokenCache: Sendable {
    /// Where cache files live (`Datasets/cache` for the bundled datasets).
    public let directory: URL

    public init(directory: URL) { self.directory = directory }

    /// The default cache folder for a dataset: `cache/` next to it (`Datasets/cache`).
    public static func defaultDirectory(for datasetPath: URL) -> URL {
        datasetPath.standardizedFileURL.deletingLastPathComponent().appendingPathComponent("cache", isDirectory: true)
    }

    private static let header = "lmlab-tokens v1"
    private static let docSeparator: UInt8 = 0x1E
    private static let tokenSeparator: UInt8 = 0x1F

    /// The cache key of `texts` (with their names) under `tokenizer`.
    public static func key(names: [String], texts: [String], tokenizer: String) -> String {
        var h1 = FNV1a(offset: 0xcbf2_9ce4_8422_2325)
        var h2 = FNV1a(offset: 0x6c62_272e_07bb_0142)
        func feed(_ s: String) {
            h1.add(s.utf8); h1.add(CollectionOfOne(0))
            h2.add(s.utf8); h2.add(CollectionOfOne(0xFF))
        }
        feed(header)
        feed(tokenizer)
        for (n, t) in zip(names, texts) { feed(n); feed(t) }
        return String(format: "%016llx%016llx", h1.value, h2.value)
    }

    /// Tokens of `texts`, from the cache when present, otherwise computed in chunks (calling
    /// `progress` after each) and stored.
    public func tokens(names: [String], texts: [String], tokenizer: DocumentTokenizer, chunkSize: Int = 250,
                       progress: ((TokenizeProgress) -> Void)? = nil) throws -> [[String]] {
        let key = Self.key(names: names, texts: texts, tokenizer: tokenizer.cacheIdentifier)
        let file = directory.appendingPathComponent("\(key).tokens")
        if let cached = Self.read(file, expectedCount: texts.count) {
            progress?(TokenizeProgress(done: texts.count, total: texts.count, fromCache: true))
            return cached
        }
        let result = Self.tokenize(texts, tokenizer: tokenizer, chunkSize: chunkSize, progress: progress)
        try Self.write(result, to: file)
        return result
    }

    /// Tokenizes in chunks without any cache.
    public static func tokenize(_ texts: [String], tokenizer: DocumentTokenizer, chunkSize: Int = 250,
                                progress: ((TokenizeProgress) -> Void)? = nil) -> [[String]] {
        var result: [[String]] = []
        result.reserveCapacity(texts.count)
        let step = max(1, chunkSize)
        for start in stride(from: 0, to: texts.count, by: step) {
            let end = min(texts.count, start + step)
            result += tokenizer.tokenize(Array(texts[start..<end]))
            progress?(TokenizeProgress(done: end, total: texts.count, fromCache: false))
        }
        if texts.isEmpty { progress?(TokenizeProgress(done: 0, total: 0, fromCache: false)) }
        return result
    }

    private static func read(_ file: URL, expectedCount: Int) -> [[String]]? {
        guard let data = FileManager.default.contents(atPath: file.path) else { return nil }
        let bytes = [UInt8](data)
        let headerBytes = Array((header + "\n").utf8)
        guard bytes.starts(with: headerBytes) else { return nil }
        let body = bytes[headerBytes.count...]
        if expectedCount == 0 { return body.isEmpty ? [] : nil }
        let docs = body.split(separator: docSeparator, omittingEmptySubsequences: false)
        guard docs.count == expectedCount else { return nil }
        return docs.map { doc in
            doc.isEmpty ? [] : doc.split(separator: tokenSeparator, omittingEmptySubsequences: false)
                .map { String(decoding: $0, as: UTF8.self) }
        }
    }

    private static func write(_ docs: [[String]], to file: URL) throws {
        var out = [UInt8]((header + "\n").utf8)
        for (d, doc) in docs.enumerated() {
            if d > 0 { out.append(docSeparator) }
            for (t, token) in doc.enumerated() {
                if token.utf8.contains(docSeparator) || token.utf8.contains(tokenSeparator) || token.isEmpty {
                    return   // not representable; stay uncached rather than store something wrong
                }
                if t > 0 { out.append(tokenSeparator) }
                out.append(contentsOf: token.utf8)
            }
        }
        do {
            try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
            let tmp = file.appendingPathExtension("lmlab-tmp")
            try Data(out).write(to: tmp)
            _ = try? FileManager.default.removeItem(at: file)
            try FileManager.default.moveItem(at: tmp, to: file)
        } catch {
            throw DatasetError("cannot write tokenization cache \(file.path): \(error.localizedDescription)")
        }
    }
}

/// 64-bit FNV-1a: a stable hash (Swift's `Hasher` is seeded per process, useless on disk).
struct FNV1a {
    var value: UInt64
    init(offset: UInt64) { value = offset }
    mutating func add<S: Sequence>(_ bytes: S) where S.Element == UInt8 {
        for b in bytes { value = (value ^ UInt64(b)) &* 0x0000_0100_0000_01B3 }
    }
}
