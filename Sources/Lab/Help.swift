/// The text of `help`, `help name` and `help(value)`, built from the same registry the
/// evaluator calls (so help can never describe a function that does not exist).
package enum Help {
    static func text(for topic: Value?, in session: Session) throws -> String {
        guard let topic else { return overview(session) }
        switch topic {
        case .string(let name):
            if let b = session.builtins[name] { return describe(b) }
            if let t = session.types[name] { return describeType(t.name, t.summary, t.members()) }
            if name == "Tensor" { return describeType("Tensor", session.tensorType.summary, session.tensorType.members) }
            if let v = session.variables[name] { return try text(for: v, in: session) }
            let names = Array(session.builtins.keys) + Array(session.types.keys) + Array(session.variables.keys)
            throw LabError("help: no builtin, type or variable named '\(name)'" + Suggest.didYouMean(name, among: names))
        case .function(let f):
            return describe(f)
        default:
            let members = session.members(of: topic)
            let summary = session.types[topic.typeName]?.summary
                ?? (topic.typeName == "Tensor" ? session.tensorType.summary : "a \(topic.typeName) value")
            return describeType(topic.typeName, summary, members)
        }
    }

    static func describe(_ b: Builtin) -> String {
        var lines = [b.signature, "  " + b.summary]
        let names = b.parameters.map { ($0.isVariadic ? "*" : "") + $0.name }
        let w = names.map(\.count).max() ?? 0
        let tw = b.parameters.map(\.type.rawValue.count).max() ?? 0
        for (name, p) in zip(names, b.parameters) {
            lines.append("    \(pad(name, w))  \(pad(p.type.rawValue, tw))  \(p.doc)")
        }
        if !b.example.isEmpty { lines.append("  example: " + b.example) }
        return lines.joined(separator: "\n")
    }

    static func describeType(_ name: String, _ summary: String, _ members: [Member]) -> String {
        var lines = ["\(name): \(summary)"]
        let attrs = members.filter { $0.kind == .attribute }
        let methods = members.filter { $0.kind == .method }
        if !attrs.isEmpty {
            lines.append("  attributes:")
            let w = attrs.map(\.signature.count).max() ?? 0
            for m in attrs { lines.append("    \(pad(m.signature, w))  \(m.summary)") }
        }
        if !methods.isEmpty {
            lines.append("  methods:")
            let w = methods.map(\.signature.count).max() ?? 0
            for m in methods { lines.append("    \(pad(m.signature, w))  \(m.summary)") }
        }
        return lines.joined(separator: "\n")
    }

    static func overview(_ s: Session) -> String {
        var lines = ["LMLab commands: Python-like statements, one per line or separated by ';'.",
                     "Type help(name) or help name for one builtin; inspect(x) to look inside a value."]
        let byTopic = Dictionary(grouping: s.builtins.values, by: \.topic)
        for topic in byTopic.keys.sorted(by: topicOrder) {
            lines.append("")
            lines.append(topic + ":")
            let items = byTopic[topic]!.sorted { $0.name < $1.name }
            let w = items.map(\.name.count).max() ?? 0
            for b in items { lines.append("  \(pad(b.name, w))  \(b.summary)") }
        }
        if !s.types.isEmpty {
            lines.append("")
            lines.append("types:")
            let w = s.types.keys.map(\.count).max() ?? 0
            for name in s.types.keys.sorted() { lines.append("  \(pad(name, w))  \(s.types[name]!.summary)") }
        }
        return lines.joined(separator: "\n")
    }

    /// "general" first, then the rest alphabetically.
    private static func topicOrder(_ a: String, _ b: String) -> Bool {
        if a == "general" { return b != "general" }
        if b == "general" { return false }
        return a < b
    }

    package static func pad(_ s: String, _ w: Int) -> String { s + String(repeating: " ", count: max(0, w - s.count)) }
}
