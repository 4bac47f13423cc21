import Tensor

/// The sizes every value of the language is held to, whichever way it is made (literal,
/// operator, builtin or method). Each check runs before the memory is asked for, so a typo like
/// `s.join([s] * 10**6)` or `zeros(0).reshape(2**62, 0)` is a one-line error, not a crash or a
/// machine that swaps. The README's troubleshooting section lists the same numbers.
extension Convert {
    /// Longest string, in UTF-8 bytes (10 MB: a few thousand reviews; the data loaders read
    /// whole datasets without making language strings).
    public static let maxStringBytes = 10_000_000
    /// Deepest nesting of lists, tuples, slices and `L`s: `[[1]]` is 2. Printing, comparing and
    /// freeing a value recurse once per level, so this bound keeps them off the stack's edge.
    public static let maxNesting = 100
    /// Most characters a display (`repr`, `str`, `print`, the REPL's echo) builds before it
    /// stops with `…`; a list of 10^9 items (built by nesting) is not spelled out.
    public static let maxDisplay = 1_000_000
    /// Most dimensions a tensor has.
    public static let maxRank = 16

    /// Checks a tensor shape in one place: no negative size, at most `maxRank` dimensions, and
    /// both the product of all sizes and the product of the non-zero ones within `maxElements`
    /// (overflow checked). The second product matters for empty tensors: `[2**62, 0]` holds no
    /// element, but summing its rows or listing them would make 2^62 of something.
    public static func checkShape(_ dims: [Int], _ what: String) throws {
        guard dims.count <= maxRank else { throw LabError("\(what): \(dims.count) dimensions (limit \(maxRank))") }
        var all = 1, nonZero = 1
        for d in dims {
            guard d >= 0 else { throw LabError("\(what): negative dimension \(d)") }
            var o1 = false, o2 = false
            (all, o1) = all.multipliedReportingOverflow(by: d)
            if d != 0 { (nonZero, o2) = nonZero.multipliedReportingOverflow(by: d) }
            guard !o1, !o2, all <= maxElements, nonZero <= maxElements else {
                throw LabError("\(what): shape \(dims) is too large (limit \(maxElements) elements)")
            }
        }
    }

    /// Checks the number of items of a list or tuple about to be made.
    public static func checkItems(_ count: Int, _ what: String) throws {
        guard count <= maxItems else { throw LabError("\(what): \(count) items is too many (limit \(maxItems))") }
    }

    /// Checks the UTF-8 size of a string about to be made (`count` may be an upper bound).
    public static func checkString(bytes count: Int, _ what: String) throws {
        guard count <= maxStringBytes else {
            throw LabError("\(what): the string would be \(count) bytes (limit \(maxStringBytes))")
        }
    }

    /// Checks that a list, tuple, slice or `L` holding `items` stays within `maxNesting`.
    /// Existing values already respect the bound, so the walk recurses at most `maxNesting`
    /// deep; arrays shared by many items (`[x] * 1000`) are walked once.
    public static func checkNesting(_ items: [Value], _ what: String) throws {
        var known: [UnsafeRawPointer: Int] = [:]
        guard 1 + nesting(of: items, &known) <= maxNesting else {
            throw LabError("\(what): values nested more than \(maxNesting) deep")
        }
    }

    private static func nesting(of items: [Value], _ known: inout [UnsafeRawPointer: Int]) -> Int {
        guard let key = items.withUnsafeBufferPointer({ $0.baseAddress.map(UnsafeRawPointer.init) }) else { return 0 }
        if let d = known[key] { return d }
        var deepest = 0
        for v in items { deepest = max(deepest, nesting(of: v, &known)) }
        known[key] = deepest
        return deepest
    }

    private static func nesting(of v: Value, _ known: inout [UnsafeRawPointer: Int]) -> Int {
        switch v {
        case .list(let a), .tuple(let a): return 1 + nesting(of: a, &known)
        case let .slice(a, b, c): return 1 + nesting(of: [a ?? .none, b ?? .none, c ?? .none], &known)
        case .object(let o):
            guard let inner = o.nestedValues else { return 0 }
            return 1 + nesting(of: inner, &known)
        default: return 0
        }
    }
}
