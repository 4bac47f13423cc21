import ArgumentParser
import Foundation
import Text

/// `lmlab bench tokenize [--reviews N]`: fastai word tokenization speed on 1 and 2 threads.
struct BenchTokenizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokenize",
        abstract: "Time fastai word tokenization (rules + spaCy) of IMDb reviews on 1 and 2 threads.",
        discussion: """
        Reads the .txt files under Datasets/imdb (recursively), else Datasets/imdb_sample, else the \
        texts of Tests/Fixtures/text/tokenize.jsonl (relative to the current directory). With fewer \
        files than --reviews, the texts are cycled.
        """)

    @Option(name: .long, help: "Number of reviews to tokenize.")
    var reviews: Int = 25_000

    func run() throws {
        guard reviews >= 1 else { throw CommandFailure("--reviews must be at least 1") }
        let (source, distinct) = try loadTexts(limit: reviews)
        guard !distinct.isEmpty else { throw CommandFailure("no texts found in \(source)") }
        let texts = (0..<reviews).map { distinct[$0 % distinct.count] }
        let megabytes = Double(texts.reduce(0) { $0 + $1.utf8.count }) / 1e6
        print("source: \(source) (\(distinct.count) distinct texts\(distinct.count < reviews ? ", cycled" : ""))")
        print(String(format: "reviews: %d, %.1f MB UTF-8", texts.count, megabytes))
        var outputs: [[[String]]] = []
        for threads in [1, 2] {
            let tkn = try FastaiTokenizer()  // fresh span caches for each run
            let cpuStart = processCPUSeconds()
            let start = wallSeconds()
            let result = tkn.tokenizeDataset(texts, threads: threads)
            let seconds = wallSeconds() - start
            let cpu = processCPUSeconds() - cpuStart
            let tokens = result.reduce(0) { $0 + $1.count }
            print(String(format: "%d thread%@: %.2f s wall  %8.0f reviews/s  %10.0f tokens/s  %6.2f MB/s  (CPU %.2f s: %.0f reviews per CPU-second)",
                         threads, threads == 1 ? " " : "s", seconds, Double(texts.count) / seconds,
                         Double(tokens) / seconds, megabytes / seconds, cpu, Double(texts.count) / cpu))
            outputs.append(result)
        }
        print("identical output on 1 and 2 threads: \(outputs[0] == outputs[1] ? "yes" : "NO")")
    }

    private func loadTexts(limit: Int) throws -> (String, [String]) {
        let fm = FileManager.default
        for dir in ["Datasets/imdb", "Datasets/imdb_sample"] {
            var isDir: ObjCBool = false
            guard fm.fileExists(atPath: dir, isDirectory: &isDir), isDir.boolValue else { continue }
            var paths: [String] = []
            let root = URL(fileURLWithPath: dir).resolvingSymlinksInPath().path
            if let e = fm.enumerator(atPath: root) {
                for case let p as String in e where p.hasSuffix(".txt") { paths.append(p) }
            }
            paths.sort()
            var texts: [String] = []
            for p in paths.prefix(limit) {
                let data = try Data(contentsOf: URL(fileURLWithPath: root).appendingPathComponent(p))
                texts.append(String(decoding: data, as: UTF8.self))
            }
            if !texts.isEmpty { return (dir, texts) }
        }
        let fixture = "Tests/Fixtures/text/tokenize.jsonl"
        guard let data = fm.contents(atPath: fixture) else {
            throw CommandFailure("no Datasets/imdb, Datasets/imdb_sample or \(fixture) under the current directory")
        }
        var texts: [String] = []
        for line in data.split(separator: UInt8(ascii: "\n")) where !line.isEmpty {
            if let obj = try? JSONSerialization.jsonObject(with: Data(line)) as? [String: Any],
               let t = obj["text"] as? String { texts.append(t) }
        }
        return (fixture, texts)
    }
}
