import Lab
import Foundation
import Tensor
import Text

/// fastcore's `L`: a list that shows itself as `coll_repr` does in the book
/// (`(#25) ['xxbos','xxmaj','once',...]`).
struct LList {
    var items: [Value]
}

/// fastai's `TensorText`: integer token ids, 1-D (a document) or 2-D (a batch), shown the
/// way PyTorch prints an integer tensor.
struct TensorText {
    /// `[n]` or `[rows, columns]`.
    var shape: [Int]
    /// Row-major ids.
    var data: [Int]

    init(_ ids: [Int]) { shape = [ids.count]; data = ids }
    init(rows: Int, columns: Int, data: [Int]) { shape = [rows, columns]; self.data = data }
    init(_ batch: TokenBatch) { self.init(rows: batch.batchSize, columns: batch.seqLen, data: batch.ids) }

    var count: Int { shape[0] }

    /// Row `r` of a 2-D tensor.
    func row(_ r: Int) -> TensorText { TensorText(Array(data[(r * shape[1])..<((r + 1) * shape[1])])) }

    /// Rows as id lists (a 1-D tensor is one row).
    var rows: [[Int]] { shape.count == 1 ? [data] : (0..<shape[0]).map { row($0).data } }

    /// PyTorch's `repr`: `TensorText([   2,    8,  349, …])`, 80 columns, elements right-aligned
    /// to the widest shown, summarised (3 first, `...`, 3 last) above 1,000 elements.
    var torchRepr: String {
        let prefix = "TensorText("
        let summarize = data.count > 1000
        let edge = 3
        func shown(_ v: [Int]) -> [Int] { summarize && v.count > 2 * edge ? Array(v.prefix(edge) + v.suffix(edge)) : v }
        let visible: [Int]
        if shape.count == 1 {
            visible = shown(data)
        } else {
            let rowIndex = summarize && shape[0] > 2 * edge ? Array(0..<edge) + Array((shape[0] - edge)..<shape[0]) : Array(0..<shape[0])
            visible = rowIndex.flatMap { shown(row($0).data) }
        }
        let width = visible.map { String($0).count }.max() ?? 1
        func vector(_ v: [Int], indent: Int) -> String {
            let perLine = max(1, (80 - indent) / (width + 2))
            func cell(_ x: Int) -> String { String(repeating: " ", count: max(0, width - String(x).count)) + String(x) }
            let cells = summarize && v.count > 2 * edge
                ? v.prefix(edge).map(cell) + [" ..."] + v.suffix(edge).map(cell)
                : v.map(cell)
            let lines = stride(from: 0, to: cells.count, by: perLine).map { cells[$0..<min(cells.count, $0 + perLine)].joined(separator: ", ") }
            return "[" + lines.joined(separator: ",\n" + String(repeating: " ", count: indent + 1)) + "]"
        }
        let indent = prefix.count
        if shape.count == 1 { return prefix + vector(data, indent: indent) + ")" }
        var slices: [String] = []
        if summarize && shape[0] > 2 * edge {
            slices = (0..<edge).map { vector(row($0).data, indent: indent + 1) } + ["..."]
                + ((shape[0] - edge)..<shape[0]).map { vector(row($0).data, indent: indent + 1) }
        } else {
            slices = (0..<shape[0]).map { vector(row($0).data, indent: indent + 1) }
        }
        return prefix + "[" + slices.joined(separator: ",\n" + String(repeating: " ", count: indent + 1)) + "])"
    }
}

/// A file or folder path, shown as pathlib does: `Path('Datasets/imdb_sample/train/neg/0.txt')`.
struct PathValue {
    var url: URL
    /// The path as the user sees it (relative when it was given relative).
    var shown: String
}

/// An open text file (`files[0].open()`), read with `.read()`.
struct OpenFile {
    var path: PathValue
}

/// Helpers to read language values as the text pipeline's Swift types.
enum TextArgs {
    /// A string, or a list/L of strings.
    static func strings(_ v: Value, _ what: String, session: Session) throws -> [String] {
        try sequence(v, what, session: session).enumerated().map { i, x in
            guard case .string(let s) = x else { throw LabError("\(what): item \(i) must be a string, got \(x.typeName)") }
            return s
        }
    }

    /// `strings`, or nil for None.
    static func optionalStrings(_ v: Value, _ what: String, session: Session) throws -> [String]? {
        v.isNone ? nil : try strings(v, what, session: session)
    }

    /// The items of a list, tuple, L or TensorText.
    static func sequence(_ v: Value, _ what: String, session: Session) throws -> [Value] {
        switch v {
        case .list(let a), .tuple(let a): return a
        case .object(let o):
            guard let len = try o.attribute("__len__"), let get = try o.attribute("__getitem__") else {
                throw LabError("\(what) must be a list, got \(v.typeName)")
            }
            let n = try Convert.int(try session.call(len, []), what)
            return try (0..<max(0, n)).map { try session.call(get, [.int($0)]) }
        default: throw LabError("\(what) must be a list, got \(v.typeName)")
        }
    }

    /// One document's tokens: a list or L of strings.
    static func tokens(_ v: Value, _ what: String, session: Session) throws -> [String] {
        if case .string = v { throw LabError("\(what) must be a list of tokens, got a str (tokenize it first: tkn(txt))") }
        return try strings(v, what, session: session)
    }

    /// Several documents' tokens: a list or L of token lists.
    static func documents(_ v: Value, _ what: String, session: Session) throws -> [[String]] {
        let docs = try sequence(v, what, session: session)
        if let first = docs.first, case .string = first {
            throw LabError("\(what) must be a list of token lists (one per text), got a list of str")
        }
        return try docs.enumerated().map { i, d in try tokens(d, "\(what)[\(i)]", session: session) }
    }

    /// Ids: a TensorText, an int, or a list of ints.
    static func ids(_ v: Value, _ what: String, session: Session, tensorText: ObjectType<TensorText>) throws -> [Int] {
        if let t = tensorText.unwrap(v) { return t.data }
        if case .int(let i) = v { return [i] }
        return try sequence(v, what, session: session).map { try Convert.int($0, what) }
    }
}

/// A Python value for `coll_repr`, rendered with the language's own `repr`.
struct ReprItem: PythonReprConvertible {
    let value: Value
    var pythonRepr: String { value.repr }
}

/// The Swift value inside an object made by any `ObjectType<T>` (for bindings in other files,
/// e.g. learners taking `dls_lm`: `nativeValue(v, as: LMDataLoaders.self)`).
func nativeValue<T>(_ v: Value, as type: T.Type) -> T? {
    if case .object(let o) = v, let n = o as? NativeObject<T> { return n.value }
    return nil
}
