/// An expression of the command language, with the place it starts.
indirect enum Expr {
    case literal(Value, SourceLocation)
    case name(String, SourceLocation)
    case list([Expr], SourceLocation)
    case tuple([Expr], SourceLocation)
    case unary(String, Expr, SourceLocation)
    case binary(String, Expr, Expr, SourceLocation)
    /// `a < b`, `a == b != c`: chained like Python.
    case compare([String], [Expr], SourceLocation)
    case and(Expr, Expr, SourceLocation)
    case or(Expr, Expr, SourceLocation)
    case attribute(Expr, String, SourceLocation)
    case call(Expr, [Expr], [(String, Expr)], SourceLocation)
    case index(Expr, [Subscript], SourceLocation)

    var location: SourceLocation {
        switch self {
        case .literal(_, let l), .name(_, let l), .list(_, let l), .tuple(_, let l), .unary(_, _, let l),
             .binary(_, _, _, let l), .compare(_, _, let l), .and(_, _, let l), .or(_, _, let l),
             .attribute(_, _, let l), .call(_, _, _, let l), .index(_, _, let l):
            return l
        }
    }
}

/// One item between `[` and `]`: an index or a `start:stop:step` slice.
enum Subscript {
    case index(Expr)
    case slice(Expr?, Expr?, Expr?)
}

/// A statement: an expression to show, or an assignment to one or more names.
enum Statement {
    case expression(Expr)
    /// `x = …` (one target) or `x, y = …` (unpacking).
    case assign([String], unpack: Bool, Expr, SourceLocation)
    /// `help` or `help name` without parentheses.
    case help(String?, SourceLocation)

    var location: SourceLocation {
        switch self {
        case .expression(let e): return e.location
        case .assign(_, _, _, let l), .help(_, let l): return l
        }
    }
}

/// Recursive-descent parser with Python's precedence:
/// `or` < `and` < `not` < comparisons < `+ -` < `* / // % @` < unary `- +` < `**` < calls, `[]`, `.`.
struct Parser {
    private var tokens: [Token]
    private var p = 0
    private var depth = 0
    /// Links of the left-deep chains being parsed (`a + b + c`, `x[0][1]`, `f(a)(b)`).
    private var links = 0
    /// Deep nesting is refused rather than risking the stack.
    static let maxDepth = 50
    /// The deepest tree the parser builds, brackets and chain links together. Evaluating,
    /// printing and freeing a tree recurse once per level, so a chain of 95,000 `+` must be
    /// refused here, before it exists; the evaluator's own bound (`Session.maxEvalDepth`) is
    /// lower, so no program that could run is refused.
    static let maxTreeDepth = 200

    init(tokens: [Token]) { self.tokens = tokens }

    static func parse(_ source: String) throws -> [Statement] {
        var parser = Parser(tokens: try Lexer.tokenize(source))
        return try parser.program()
    }

    private var tok: Token { tokens[p] }
    private mutating func next() -> Token { let t = tokens[p]; if p < tokens.count - 1 { p += 1 }; return t }
    private func isOp(_ s: String) -> Bool { tok.kind == .op(s) }
    private func isName(_ s: String) -> Bool { tok.kind == .name(s) }

    private mutating func expect(_ s: String, _ context: String) throws {
        guard isOp(s) else { throw LabError("expected '\(s)' \(context), found \(describe(tok))", at: tok.location) }
        _ = next()
    }

    private func describe(_ t: Token) -> String {
        switch t.kind {
        case .int(let i): "number \(i)"
        case .float(let d): "number \(Value.formatFloat(d))"
        case .string(let s): "string \(pythonRepr(s))"
        case .name(let n): "'\(n)'"
        case .op(let o): "'\(o)'"
        case .separator: "end of statement"
        case .end: "end of input"
        }
    }

    mutating func program() throws -> [Statement] {
        var out: [Statement] = []
        while true {
            while tok.kind == .separator { _ = next() }
            if tok.kind == .end { return out }
            out.append(try statement())
            guard tok.kind == .separator || tok.kind == .end else {
                throw LabError("unexpected \(describe(tok)) (statements are separated by ';' or new lines)", at: tok.location)
            }
        }
    }

    private mutating func statement() throws -> Statement {
        let start = tok.location
        // `help` / `help name`: the bare-word form of help(name).
        if isName("help") {
            let after = tokens[min(p + 1, tokens.count - 1)].kind
            if after == .separator || after == .end { _ = next(); return .help(nil, start) }
            if case .name(let n) = after, [Token.Kind.separator, .end].contains(tokens[min(p + 2, tokens.count - 1)].kind) {
                _ = next(); _ = next(); return .help(n, start)
            }
        }
        // Augmented assignment: NAME op= expr.
        if case .name(let n) = tok.kind, case .op(let o) = tokens[p + 1].kind, ["+=", "-=", "*=", "/="].contains(o) {
            _ = next()
            let l = next().location
            let value = try expression()
            return .assign([n], unpack: false, .binary(String(o.dropLast()), .name(n, start), value, l), start)
        }
        // Assignment targets: NAME (',' NAME)* [','] '='
        if let (names, unpack) = assignmentTargets() {
            let value = try expression()
            return .assign(names, unpack: unpack, value, start)
        }
        let e = try expression()
        if isOp("=") {
            throw LabError("cannot assign to this expression (only names can be assigned)", at: tok.location)
        }
        return .expression(e)
    }

    /// If the statement starts with assignment targets followed by `=`, consumes them.
    private mutating func assignmentTargets() -> ([String], Bool)? {
        var q = p
        var names: [String] = []
        var comma = false
        while case .name(let n) = tokens[q].kind, !["None", "True", "False", "and", "or", "not"].contains(n) {
            names.append(n)
            q += 1
            if tokens[q].kind == .op(",") { comma = true; q += 1; continue }
            break
        }
        guard !names.isEmpty, tokens[q].kind == .op("=") else { return nil }
        p = q + 1
        return (names, comma)
    }

    /// A possibly comma-separated expression; commas make a tuple.
    mutating func expression() throws -> Expr {
        let start = tok.location
        let first = try test()
        guard isOp(",") else { return first }
        var items = [first]
        while isOp(",") {
            _ = next()
            if startsExpression() { items.append(try test()) } else { break }
        }
        return .tuple(items, start)
    }

    private func startsExpression() -> Bool {
        switch tok.kind {
        case .int, .float, .string, .name: return !["and", "or"].contains({ if case .name(let n) = tok.kind { return n }; return "" }())
        case .op(let o): return ["(", "[", "-", "+"].contains(o)
        default: return false
        }
    }

    private mutating func nested<T>(_ body: (inout Parser) throws -> T) throws -> T {
        depth += 1
        defer { depth -= 1 }
        guard depth <= Parser.maxDepth else { throw LabError("expression nested too deeply", at: tok.location) }
        return try body(&self)
    }

    /// One more link of a left-deep chain: the tree grows one level deeper.
    private mutating func link(_ count: inout Int) throws {
        count += 1
        links += 1
        guard depth + links <= Parser.maxTreeDepth else {
            throw LabError("expression too long or nested too deeply", at: tok.location)
        }
    }

    private mutating func test() throws -> Expr {
        try nested { p in
            var n = 0
            defer { p.links -= n }
            var e = try p.andTest()
            while p.isName("or") { try p.link(&n); let l = p.next().location; e = .or(e, try p.andTest(), l) }
            return e
        }
    }

    private mutating func andTest() throws -> Expr {
        var n = 0
        defer { links -= n }
        var e = try notTest()
        while isName("and") { try link(&n); let l = next().location; e = .and(e, try notTest(), l) }
        return e
    }

    private mutating func notTest() throws -> Expr {
        if isName("not") { let l = next().location; return .unary("not", try nested { try $0.notTest() }, l) }
        return try comparison()
    }

    private mutating func comparison() throws -> Expr {
        let start = tok.location
        let first = try arith()
        var ops: [String] = []
        var items = [first]
        while case .op(let o) = tok.kind, ["==", "!=", "<", "<=", ">", ">="].contains(o) {
            _ = next()
            ops.append(o)
            items.append(try arith())
        }
        return ops.isEmpty ? first : .compare(ops, items, start)
    }

    private mutating func arith() throws -> Expr {
        var n = 0
        defer { links -= n }
        var e = try term()
        while case .op(let o) = tok.kind, o == "+" || o == "-" {
            try link(&n)
            let l = next().location
            e = .binary(o, e, try term(), l)
        }
        return e
    }

    private mutating func term() throws -> Expr {
        var n = 0
        defer { links -= n }
        var e = try factor()
        while case .op(let o) = tok.kind, ["*", "/", "//", "%", "@"].contains(o) {
            try link(&n)
            let l = next().location
            e = .binary(o, e, try factor(), l)
        }
        return e
    }

    private mutating func factor() throws -> Expr {
        if case .op(let o) = tok.kind, o == "-" || o == "+" {
            let l = next().location
            return .unary(o, try nested { try $0.factor() }, l)
        }
        return try power()
    }

    private mutating func power() throws -> Expr {
        let base = try postfix()
        if isOp("**") {
            let l = next().location
            return .binary("**", base, try nested { try $0.factor() }, l)
        }
        return base
    }

    private mutating func postfix() throws -> Expr {
        var n = 0
        defer { links -= n }
        var e = try atom()
        while true {
            if isOp(".") || isOp("(") || isOp("[") { try link(&n) }
            if isOp(".") {
                let l = next().location
                guard case .name(let n) = tok.kind else {
                    throw LabError("expected an attribute name after '.', found \(describe(tok))", at: tok.location)
                }
                _ = next()
                e = .attribute(e, n, l)
            } else if isOp("(") {
                let l = next().location
                let (args, kwargs) = try nested { try $0.arguments() }
                e = .call(e, args, kwargs, l)
            } else if isOp("[") {
                let l = next().location
                var subs: [Subscript] = []
                repeat {
                    if isOp(",") { _ = next() }
                    if isOp("]") { break }
                    subs.append(try nested { try $0.subscriptItem() })
                } while isOp(",")
                try expect("]", "to close '['")
                guard !subs.isEmpty else { throw LabError("empty index '[]'", at: l) }
                e = .index(e, subs, l)
            } else {
                return e
            }
        }
    }

    private mutating func arguments() throws -> ([Expr], [(String, Expr)]) {
        var args: [Expr] = []
        var kwargs: [(String, Expr)] = []
        while !isOp(")") {
            if case .name(let n) = tok.kind, tokens[p + 1].kind == .op("=") {
                let l = tok.location
                _ = next(); _ = next()
                if kwargs.contains(where: { $0.0 == n }) { throw LabError("keyword argument '\(n)' given twice", at: l) }
                kwargs.append((n, try test()))
            } else {
                if !kwargs.isEmpty { throw LabError("positional argument after keyword argument", at: tok.location) }
                args.append(try test())
            }
            if isOp(",") { _ = next() } else { break }
        }
        try expect(")", "to close the argument list")
        return (args, kwargs)
    }

    private mutating func subscriptItem() throws -> Subscript {
        var start: Expr?
        if !isOp(":") { start = try test() }
        guard isOp(":") else { return .index(start!) }
        _ = next()
        var stop: Expr?, step: Expr?
        if !isOp(":") && !isOp(",") && !isOp("]") { stop = try test() }
        if isOp(":") {
            _ = next()
            if !isOp(",") && !isOp("]") { step = try test() }
        }
        return .slice(start, stop, step)
    }

    private mutating func atom() throws -> Expr {
        let t = tok
        switch t.kind {
        case .int(let i): _ = next(); return .literal(.int(i), t.location)
        case .float(let d): _ = next(); return .literal(.float(d), t.location)
        case .string(var s):
            _ = next()
            // Adjacent string literals concatenate, as in Python.
            while case .string(let more) = tok.kind { s += more; _ = next() }
            return .literal(.string(s), t.location)
        case .name(let n):
            switch n {
            case "None": _ = next(); return .literal(.none, t.location)
            case "True": _ = next(); return .literal(.bool(true), t.location)
            case "False": _ = next(); return .literal(.bool(false), t.location)
            case "and", "or", "not": throw LabError("unexpected '\(n)'", at: t.location)
            default: _ = next(); return .name(n, t.location)
            }
        case .op("("):
            _ = next()
            if isOp(")") { _ = next(); return .tuple([], t.location) }
            let e = try nested { try $0.expression() }
            try expect(")", "to close '('")
            return e
        case .op("["):
            _ = next()
            var items: [Expr] = []
            while !isOp("]") {
                items.append(try nested { try $0.test() })
                if isOp(",") { _ = next() } else { break }
            }
            try expect("]", "to close '['")
            return .list(items, t.location)
        default:
            throw LabError("unexpected \(describe(t))", at: t.location)
        }
    }
}
