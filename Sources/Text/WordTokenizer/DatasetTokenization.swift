import Foundation

extension FastaiTokenizer {
    /// Tokenizes many documents on `threads` threads (the dataset path: `tokenizeForDataset`
    /// when `postprocess`, else `callAsFunction`). The result is in input order and identical
    /// to tokenizing one document at a time.
    ///
    /// Documents are handed out in small chunks; each thread has its own `WordTokenizer`
    /// (sharing the tables) because span caches are per instance. Those per-thread tokenizers
    /// are kept for later calls, so streaming in batches keeps warm caches. `progress(done, total)` is
    /// called after each chunk, from a worker thread, serialised by a lock.
    public func tokenizeDataset(_ texts: [String], threads: Int = 2, postprocess: Bool = true,
                                progress: (@Sendable (Int, Int) -> Void)? = nil) -> [[String]] {
        let total = texts.count
        guard total > 0 else { return [] }
        let workers = max(1, min(threads, total))
        let chunk = max(1, min(64, total / (workers * 8)))
        var results = [[String]](repeating: [], count: total)
        let state = WorkState()
        while workerTokenizers.count < workers {
            workerTokenizers.append(FastaiTokenizer(rules: rules, words: WordTokenizer(rules: words.rules)))
        }
        let pool = UnsafeSendableBox(Array(workerTokenizers.prefix(workers)))
        results.withUnsafeMutableBufferPointer { out in
            let slots = UnsafeSendableBuffer(out)
            DispatchQueue.concurrentPerform(iterations: workers) { w in
                // Iteration w runs on one thread only, so worker w is never shared.
                let local = pool.value[w]
                while let range = state.next(chunk: chunk, total: total) {
                    for i in range {
                        slots.buffer[i] = postprocess ? local.tokenizeForDataset(texts[i]) : local(texts[i])
                    }
                    if let progress { state.report(range.count, total, progress) }
                }
            }
        }
        return results
    }
}

/// Hands out index ranges and serialises progress reports.
private final class WorkState: @unchecked Sendable {
    private let lock = NSLock()
    private var nextIndex = 0
    private var done = 0

    func next(chunk: Int, total: Int) -> Range<Int>? {
        lock.lock(); defer { lock.unlock() }
        guard nextIndex < total else { return nil }
        let r = nextIndex..<min(total, nextIndex + chunk)
        nextIndex = r.upperBound
        return r
    }

    func report(_ count: Int, _ total: Int, _ progress: (Int, Int) -> Void) {
        lock.lock(); defer { lock.unlock() }
        done += count
        progress(done, total)
    }
}

/// Hands the per-thread tokenizers to the workers (each uses only its own).
private struct UnsafeSendableBox<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}

/// Each worker writes only the slots of the ranges it was handed, so sharing is safe.
private struct UnsafeSendableBuffer<T>: @unchecked Sendable {
    let buffer: UnsafeMutableBufferPointer<T>
    init(_ buffer: UnsafeMutableBufferPointer<T>) { self.buffer = buffer }
}
