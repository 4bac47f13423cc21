/// Which fastcore prints the collection.
public enum CollReprStyle: Sendable {
    /// fastcore 1.x, as printed in fastbook: always `(#N) `, items joined by `","`, max_n 10.
    case legacy
    /// fastcore 2.x: items joined by `", "`, max_n 250, `(#N) ` only when N ≥ max(7, max_n).
    case current

    /// The default `max_n` of this style.
    public var defaultMaxN: Int { self == .legacy ? 10 : 250 }
}

/// fastcore's `coll_repr(c, max_n)`: the first `max_n` items in Python `repr`, `...` when
/// there are more, with the `(#N)` count prefix of the chosen style.
///
/// ```swift
/// collRepr(Array(0..<11), maxN: 10, style: .legacy)    // "(#11) [0,1,2,3,4,5,6,7,8,9...]"
/// collRepr(["xxbos", "it", "is"], maxN: 2, style: .current)   // "['xxbos', 'it'...]"
/// ```
public func collRepr<C: Collection>(_ items: C, maxN: Int? = nil, style: CollReprStyle = .legacy) -> String
where C.Element: PythonReprConvertible {
    let n = items.count
    let limit = max(0, maxN ?? style.defaultMaxN)
    let body = items.prefix(limit).map(\.pythonRepr).joined(separator: style == .legacy ? "," : ", ")
    let more = n > limit ? "..." : ""
    let showCount = style == .legacy || n >= max(7, limit)
    return (showCount ? "(#\(n)) " : "") + "[" + body + more + "]"
}

/// How fastcore's `L` displays: `repr`/`str` give the plain list, a notebook (IPython
/// `_repr_pretty_`) gives `coll_repr` with the style's default `max_n`.
public enum LDisplay {
    /// `repr(L(x))` and `str(L(x))`: Python's list repr.
    public static func repr<S: Sequence>(_ items: S) -> String where S.Element: PythonReprConvertible {
        PythonRepr.list(items)
    }

    /// What Jupyter shows for `L(x)`.
    public static func pretty<C: Collection>(_ items: C, style: CollReprStyle = .legacy) -> String
    where C.Element: PythonReprConvertible {
        collRepr(items, maxN: nil, style: style)
    }
}
