import Foundation
import Tensor

/// What can be recovered, safely and without Python, from a `learn.export` file.
///
/// `learn.export` pickles the whole Learner with cloudpickle (callbacks, transforms,
/// a spaCy tokenizer, sometimes functions serialised by value). Rebuilding those objects
/// would mean running Python, so this reader never does: it unpickles in inspect-only
/// mode (every global stays an inert name, every call an inert record) and then reads
/// plain data out of the recorded tree:
/// - `vocab`: the `vocab` list stored on the `Numericalize` transform;
/// - `model`: every parameter and persistent buffer of the `nn.Module` tree under the
///   learner's `model` attribute, named as `state_dict()` would name them.
/// Everything else (tokenizer rules, callbacks, loss, data loaders) is left alone; use
/// LMLab's own bundle format for a complete learner.
///
///     let export = try FastaiExport.inspect(url)
///     export.vocab?.prefix(3)                    // ["xxunk", "xxpad", "xxbos"]
public struct FastaiExport: Sendable {
    /// The Numericalize vocabulary (index → token), if found.
    public var vocab: [String]?
    /// Model tensors by state_dict key.
    public var model: [String: Tensor]
    /// The state_dict keys in module order.
    public var keys: [String]
    /// Class of the pickled learner and of its model, e.g. `fastai.text.learner.LMLearner`.
    public var learnerClass: String?
    public var modelClass: String?

    /// Reads an exported learner's vocabulary and weights.
    public static func inspect(_ url: URL) throws -> FastaiExport {
        try inspect(ZipArchive(contentsOf: url), source: url.lastPathComponent)
    }

    /// Reads an exported learner from an opened archive.
    public static func inspect(_ zip: ZipArchive, source: String = "export") throws -> FastaiExport {
        let (doc, prefix) = try TorchCheckpointReader.pickle(of: zip, policy: .inspectOnly, source: source)
        var storages = StorageCache(backing: .zip(zip, prefix: prefix), source: source, nodeCount: doc.nodes.count)

        var result = FastaiExport(vocab: nil, model: [:], keys: [], learnerClass: nil, modelClass: nil)
        // Vocabulary: the first Numericalize transform with a list-valued `vocab` attribute.
        for node in doc.nodes where node.kind == .object && node.className == "fastai.text.data.Numericalize" {
            guard let st = node.state?.node, let v = st["vocab"] else { continue }
            if let tokens = strings(v) { result.vocab = tokens; break }
        }
        // Model: the learner's `model` attribute.
        if let learner = doc.root.node, learner.kind == .object {
            result.learnerClass = learner.className
            if let st = learner.state?.node, let m = st["model"]?.node, m.kind == .object {
                result.modelClass = m.className
                try walk(m, prefix: "", depth: 0, into: &result, storages: &storages, source: source)
            }
        }
        return result
    }

    /// A list (or fastcore `L`) of strings.
    static func strings(_ v: PickleValue) -> [String]? {
        guard let n = v.node else { return nil }
        var items = n.items
        if n.kind == .object, n.className == "fastcore.foundation.L", let st = n.state?.node,
           let inner = st["items"]?.node { items = inner.items }
        guard n.kind == .list || n.kind == .tuple || n.kind == .object else { return nil }
        let s = items.compactMap(\.string)
        return s.count == items.count && !s.isEmpty ? s : nil
    }

    /// Adds a module's parameters, persistent buffers and children, as `Module.state_dict` does.
    static func walk(_ module: PickleNode, prefix: String, depth: Int, into result: inout FastaiExport,
                     storages: inout StorageCache, source: String) throws {
        guard depth < TorchCheckpointReader.maxDepth else {
            throw ArchiveError("\(source): modules nested deeper than \(TorchCheckpointReader.maxDepth) levels")
        }
        try storages.spend(source: source)   // shared child modules cannot make the walk explode
        guard let st = module.state?.node, st.kind == .dict else { return }
        var nonPersistent: Set<String> = []
        if let np = st["_non_persistent_buffers_set"]?.node {
            let list = np.kind == .object ? np.args.first?.node : np
            nonPersistent = Set(list?.items.compactMap(\.string) ?? [])
        }
        for field in ["_parameters", "_buffers"] {
            guard let d = st[field]?.node else { continue }
            let pairs = d.kind == .dict || d.kind == .object ? d.pairs : []
            for (k, v) in pairs {
                guard let name = k.string, case .node = v, !(field == "_buffers" && nonPersistent.contains(name)) else { continue }
                let key = prefix + name
                let value = try TorchCheckpointReader.convert(v, depth: 0, storages: &storages, source: source)
                guard let t = value.tensor else { throw ArchiveError("\(source): \(key) is not a tensor") }
                result.model[key] = try t.floatTensor(name: "\(source): \(key)")
                result.keys.append(key)
            }
        }
        if let children = st["_modules"]?.node {
            for (k, v) in children.pairs {
                guard let name = k.string, let child = v.node, child.kind == .object else { continue }
                try walk(child, prefix: prefix + name + ".", depth: depth + 1, into: &result, storages: &storages, source: source)
            }
        }
    }
}
