import Testing
@testable import Text

@Suite struct SpanCacheTests {
    /// Inserting past several growths and past the limit: every key present is found with its
    /// own entry, absent keys are not, and the limit empties the table.
    @Test func findsWhatWasInserted() {
        var cache = SpanCache(limit: 5_000)
        let keys = (0..<4_000).map { Array("w\($0)·é\u{1F600}".unicodeScalars) }
        for (k, key) in keys.enumerated() {
            key.withUnsafeBufferPointer { cache.insert($0, hash: SpanCache.hash($0), .init(tokens: ["\(k)"], patternStarts: [])) }
        }
        #expect(cache.count == keys.count)
        for (k, key) in keys.enumerated() {
            let found = key.withUnsafeBufferPointer { cache.find($0, hash: SpanCache.hash($0)) }
            #expect(found.map { Array(cache.tokens[$0.start..<($0.start + $0.count)]) } == ["\(k)"])
        }
        let absent = Array("w4000·é\u{1F600}".unicodeScalars)
        #expect(absent.withUnsafeBufferPointer { cache.find($0, hash: SpanCache.hash($0)) } == nil)
        for key in keys.prefix(1_001) {
            key.withUnsafeBufferPointer { cache.insert($0, hash: SpanCache.hash($0), .init(tokens: ["again"], patternStarts: [])) }
        }
        #expect(cache.count == 1)  // cleared on reaching the limit, then one inserted
        // Pattern-start positions come back as a bit mask.
        let key = Array("x:)".unicodeScalars)
        key.withUnsafeBufferPointer { cache.insert($0, hash: SpanCache.hash($0), .init(tokens: ["x", ":", ")"], patternStarts: [1])) }
        let hit = key.withUnsafeBufferPointer { cache.find($0, hash: SpanCache.hash($0)) }
        #expect(hit?.count == 3 && hit?.patternMask == 0b10)
    }
}
