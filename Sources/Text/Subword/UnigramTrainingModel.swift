import Foundation

/// The model being trained: pieces with scores, a trie, and the lattice computations the
/// trainer needs (expected counts by forward–backward, Viterbi with one edge excluded).
///
/// A lattice is built over a word's UTF-8 bytes; edges start and end on character
/// boundaries. A position without a one-character piece gets an unknown edge scored
/// `minScore − 10`, as in sentencepiece.
struct TrainingModel {
    let pieces: [(String, Float)]
    let trie: PieceTrie
    let minScore: Float

    init(pieces: [(String, Float)]) {
        self.pieces = pieces
        trie = PieceTrie(pieces.enumerated().map { (Array($0.element.0.utf8), $0.offset) })
        minScore = pieces.map(\.1).min() ?? 0
    }

    struct Edge { var start: Int; var end: Int; var id: Int; var score: Double }

    /// All lattice edges of `word`, ordered by start position then length.
    func edges(_ word: UnsafeBufferPointer<UInt8>, into edges: inout [Edge]) {
        edges.removeAll(keepingCapacity: true)
        let unkScore = Double(minScore - 10)
        var start = 0
        while start < word.count {
            let charLength = min(SentencePieceNormalizer.oneCharLength(word[start]), word.count - start)
            var node = 0
            var pos = start
            var hasSingle = false
            while pos < word.count {
                node = trie.child(node, word[pos])
                if node < 0 { break }
                pos += 1
                let id = trie.value(node)
                if id < 0 { continue }
                edges.append(Edge(start: start, end: pos, id: id, score: Double(pieces[id].1)))
                if pos - start == charLength { hasSingle = true }
            }
            if !hasSingle { edges.append(Edge(start: start, end: start + charLength, id: -1, score: unkScore)) }
            start += charLength
        }
    }

    /// E-step: expected number of uses of each piece over all words (weighted by frequency),
    /// from the posterior edge marginals. Unknown edges are not counted.
    func expectedCounts(words: [(bytes: [UInt8], freq: Int)]) -> [Double] {
        var expected = [Double](repeating: 0, count: pieces.count)
        var lattice: [Edge] = []
        var alpha: [Double] = []
        var beta: [Double] = []
        for (bytes, freq) in words {
            bytes.withUnsafeBufferPointer { edges($0, into: &lattice) }
            let n = bytes.count
            alpha = [Double](repeating: -.infinity, count: n + 1)
            beta = [Double](repeating: -.infinity, count: n + 1)
            alpha[0] = 0
            beta[n] = 0
            for e in lattice { alpha[e.end] = Self.logAdd(alpha[e.end], alpha[e.start] + e.score) }
            for e in lattice.reversed() { beta[e.start] = Self.logAdd(beta[e.start], e.score + beta[e.end]) }
            let z = alpha[n]
            for e in lattice where e.id >= 0 {
                expected[e.id] += Double(freq) * exp(alpha[e.start] + e.score + beta[e.end] - z)
            }
        }
        return expected
    }

    @inline(__always) static func logAdd(_ a: Double, _ b: Double) -> Double {
        if a == -.infinity { return b }
        if b == -.infinity { return a }
        return a > b ? a + log1p(exp(b - a)) : b + log1p(exp(a - b))
    }

    /// Best segmentation of `word` as piece ids (−1 = unknown character). With `excluding`,
    /// the edge of that piece spanning the whole word is left out, which gives the
    /// second-best segmentation of a piece whose best segmentation is itself.
    func viterbi(_ word: [UInt8], excluding: Int?) -> [Int] {
        var lattice: [Edge] = []
        word.withUnsafeBufferPointer { edges($0, into: &lattice) }
        let n = word.count
        var best = [Double](repeating: -.infinity, count: n + 1)
        var back = [Int](repeating: -1, count: n + 1)
        best[0] = 0
        for (k, e) in lattice.enumerated() {
            if let excluding, e.id == excluding, e.start == 0, e.end == n { continue }
            let candidate = best[e.start] + e.score
            if candidate > best[e.end] { best[e.end] = candidate; back[e.end] = k }
        }
        var ids: [Int] = []
        var end = n
        while end > 0 {
            let k = back[end]
            if k < 0 { return [] }
            ids.append(lattice[k].id)
            end = lattice[k].start
        }
        return ids.reversed()
    }
}
