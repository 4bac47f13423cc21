import Foundation

/// A byte trie over piece strings, walked one UTF-8 byte at a time during encoding.
///
/// Nodes are stored flat: node n's children are `childLabels/childNodes[childStart[n]..<childStart[n+1]]`
/// sorted by label; the root additionally has a 256-entry table because every walk starts there.
struct PieceTrie: Sendable {
    /// Piece id stored at each node, or -1.
    private(set) var values: [Int32] = [-1]
    private var childStart: [Int32] = []
    private var childLabels: [UInt8] = []
    private var childNodes: [Int32] = []
    private var rootTable = [Int32](repeating: -1, count: 256)

    /// Builds the trie from (bytes, id) entries; later duplicates are ignored.
    init(_ entries: [([UInt8], Int)]) {
        // Build with per-node dictionaries, then flatten.
        var children: [[UInt8: Int32]] = [[:]]
        var values: [Int32] = [-1]
        for (key, id) in entries where !key.isEmpty {
            var node = 0
            for byte in key {
                if let next = children[node][byte] {
                    node = Int(next)
                } else {
                    let next = Int32(children.count)
                    children[node][byte] = next
                    children.append([:])
                    values.append(-1)
                    node = Int(next)
                }
            }
            if values[node] < 0 { values[node] = Int32(id) }
        }
        self.values = values
        childStart.reserveCapacity(children.count + 1)
        for node in 0..<children.count {
            childStart.append(Int32(childLabels.count))
            for (label, next) in children[node].sorted(by: { $0.key < $1.key }) {
                childLabels.append(label)
                childNodes.append(next)
            }
        }
        childStart.append(Int32(childLabels.count))
        for (label, next) in children[0] { rootTable[Int(label)] = next }
    }

    var isEmpty: Bool { values.count == 1 }

    /// The child of `node` along `label`, or -1.
    @inline(__always) func child(_ node: Int, _ label: UInt8) -> Int {
        if node == 0 { return Int(rootTable[Int(label)]) }
        var lo = Int(childStart[node]), hi = Int(childStart[node + 1])
        // Children lists are short; a linear scan beats binary search here.
        while lo < hi {
            let l = childLabels[lo]
            if l == label { return Int(childNodes[lo]) }
            if l > label { return -1 }
            lo += 1
        }
        return -1
    }

    @inline(__always) func value(_ node: Int) -> Int { Int(values[node]) }

    /// Length in bytes of the longest key that is a prefix of `bytes[start..<end]`, or 0.
    func longestPrefix(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int, to end: Int) -> Int {
        var node = 0
        var best = 0
        var i = start
        while i < end {
            node = child(node, bytes[i])
            if node < 0 { break }
            i += 1
            if values[node] >= 0 { best = i - start }
        }
        return best
    }
}

extension PieceTrie {
    /// Unsafe read-only access for hot loops: the arrays' buffers obtained once.
    struct View {
        let values: UnsafeBufferPointer<Int32>
        let childStart: UnsafeBufferPointer<Int32>
        let childLabels: UnsafeBufferPointer<UInt8>
        let childNodes: UnsafeBufferPointer<Int32>
        let rootTable: UnsafeBufferPointer<Int32>

        /// The child of `node` along `label`, or -1 (same as `PieceTrie.child`).
        @inline(__always) func child(_ node: Int, _ label: UInt8) -> Int {
            if node == 0 { return Int(rootTable[Int(label)]) }
            var k = Int(childStart[node])
            let end = Int(childStart[node + 1])
            while k < end {
                let l = childLabels[k]
                if l == label { return Int(childNodes[k]) }
                if l > label { return -1 }
                k += 1
            }
            return -1
        }

        @inline(__always) func value(_ node: Int) -> Int { Int(values[node]) }
    }

    func withView<R>(_ body: (View) throws -> R) rethrows -> R {
        try values.withUnsafeBufferPointer { v in
            try childStart.withUnsafeBufferPointer { cs in
                try childLabels.withUnsafeBufferPointer { cl in
                    try childNodes.withUnsafeBufferPointer { cn in
                        try rootTable.withUnsafeBufferPointer { rt in
                            try body(View(values: v, childStart: cs, childLabels: cl, childNodes: cn, rootTable: rt))
                        }
                    }
                }
            }
        }
    }
}
