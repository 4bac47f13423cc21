/// fastai's `pad_input_chunk` / `Pad_Chunk`: pads every document of a batch to the longest
/// one, in whole chunks of `seqLen` on one side and the remainder on the other, so every
/// text starts at a multiple of `seqLen` (what the classifier's chunked encoder expects).
///
/// For a document `l` tokens shorter than the longest: `front = (l / seqLen)·seqLen` pads,
/// `back = l % seqLen` pads. `padFirst` gives `[front] + doc + [back]`; otherwise
/// `doc + [front] + [back]`.
///
/// ```swift
/// padChunk([[5,6,7,8,9,10,11], [5,6], [5,6,7,8]], seqLen: 3)
/// // [[5,6,7,8,9,10,11], [1,1,1,5,6,1,1], [1,1,1,5,6,7,8]]
/// ```
public func padChunk<T: BinaryInteger>(_ documents: [[T]], padIndex: T = 1, seqLen: Int = 72,
                                       padFirst: Bool = true) -> [[T]] {
    let maxLen = documents.map(\.count).max() ?? 0
    let chunk = max(1, seqLen)
    return documents.map { doc in
        let (front, back) = padCounts(length: doc.count, maxLength: maxLen, seqLen: chunk)
        let f = [T](repeating: padIndex, count: front)
        let b = [T](repeating: padIndex, count: back)
        return padFirst ? f + doc + b : doc + f + b
    }
}

/// Pads before and after a document of `length` tokens in a batch whose longest is
/// `maxLength` (pad-first layout): `((l / seqLen)·seqLen, l % seqLen)` with `l = maxLength − length`.
public func padCounts(length: Int, maxLength: Int, seqLen: Int) -> (front: Int, back: Int) {
    let l = max(0, maxLength - length)
    return ((l / seqLen) * seqLen, l % seqLen)
}
