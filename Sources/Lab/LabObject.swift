/// A member of an object type, as `help`, `inspect` and completion list it.
public struct Member {
    public enum Kind { case attribute, method }
    public var name: String
    public var kind: Kind
    /// `predict(text, n_words=1, temperature=1.0)` for methods; the name for attributes.
    public var signature: String
    public var summary: String
    /// A method's runnable example (after its type's sample), or "".
    public var example: String

    public init(_ name: String, kind: Kind, signature: String? = nil, summary: String, example: String = "") {
        self.name = name
        self.kind = kind
        self.signature = signature ?? name
        self.summary = summary
        self.example = example
    }
}

/// A library object the language can hold: a learner, data loaders, a plot….
///
/// Most objects are made with ``ObjectType`` (a few lines per attribute or method);
/// a class may also implement this protocol directly.
public protocol LabObject: AnyObject {
    /// The type's name as `type(x)` shows it, e.g. `Learner`.
    var typeName: String { get }
    /// What the object offers, for `help`, `inspect` and completion.
    var members: [Member] { get }
    /// The value of attribute `name` (methods come back as bound `.function`s); nil when unknown.
    func attribute(_ name: String) throws -> Value?
    /// What the REPL shows for the object (may be several lines).
    var display: String { get }
    /// An SVG picture of the object, for transcripts and `savefig`; nil when it has none.
    var svg: String? { get }
    /// What `print` and `str` give, when it differs from the display (Python's `__str__`
    /// versus a notebook's pretty display: `print(L)` shows a plain list); nil to use `display`.
    var plainText: String? { get }
    /// The language values the object holds (an `L`'s items), so nesting limits and walks see
    /// through it; nil for objects that hold none.
    var nestedValues: [Value]? { get }
}

extension LabObject {
    public var nestedValues: [Value]? { nil }
    public var svg: String? { nil }
    public var plainText: String? { nil }
}

/// The description of a Swift type `T` for the language: its name, attributes, methods and
/// display. Registering a type is a few lines:
///
///     let learnerType = ObjectType<Learner>("Learner", summary: "a model, its data and its optimizer")
///         .attribute("model", "the model") { .object(modelType.wrap($0.model)) }
///         .method("predict", "predict(text, n_words=1, temperature=1.0)",
///                 "continue a text", example: "learn.predict('I liked', 40)") { learner, args in
///             .string(try learner.predict(args.string("text", at: 0), …))
///         }
///         .display { "Learner(\($0.model))" }
///     session.define("learn", learnerType.wrap(learner))
public final class ObjectType<T> {
    public let name: String
    public let summary: String
    package private(set) var members: [Member] = []
    private var getters: [String: (T) throws -> Value] = [:]
    private var methods: [String: (T, Arguments) throws -> Value] = [:]
    private var methodInfo: [String: Builtin] = [:]
    private var show: (T) -> String
    private var picture: ((T) -> String?)?
    private var plain: ((T) -> String)?
    private var contents: ((T) -> [Value])?

    public init(_ name: String, summary: String) {
        self.name = name
        self.summary = summary
        let n = name
        self.show = { _ in "<\(n)>" }
    }

    /// Adds a read-only attribute.
    @discardableResult
    public func attribute(_ name: String, _ summary: String, _ get: @escaping (T) throws -> Value) -> ObjectType {
        members.append(Member(name, kind: .attribute, summary: summary))
        getters[name] = get
        return self
    }

    /// Adds a method with its declared parameters; help shows `predict(text, n_words=1)`.
    /// `example` runs after the type's ``sample`` in a fresh session (the tests run every one).
    @discardableResult
    public func method(_ name: String, _ summary: String, _ parameters: [Param] = [], example: String = "",
                       _ call: @escaping (T, Arguments) throws -> Value) -> ObjectType {
        // A called object (`tkn(txt)`) names itself in errors as the type, not `Tokenizer.__call__`.
        let info = Builtin(name == "__call__" ? self.name : "\(self.name).\(name)", parameters, summary: summary,
                           example: example, topic: self.name, shortName: name) { _ in .none }
        members.append(Member(name, kind: .method, signature: info.signature, summary: summary, example: example))
        methods[name] = call
        methodInfo[name] = info
        return self
    }

    /// Statements that make a value of this type under the name the method examples use
    /// (`learn = language_model_learner(…)`), so each example can run in a fresh session.
    public private(set) var sample = ""

    /// Sets ``sample``.
    @discardableResult
    public func sample(_ source: String) -> ObjectType {
        sample = source
        return self
    }

    /// Sets how the REPL shows a value of this type.
    @discardableResult
    public func display(_ show: @escaping (T) -> String) -> ObjectType {
        self.show = show
        return self
    }

    /// Sets what `print` and `str` show, when it differs from the display.
    @discardableResult
    public func str(_ text: @escaping (T) -> String) -> ObjectType {
        self.plain = text
        return self
    }

    /// Sets how a value of this type is drawn as SVG (for transcripts and `savefig`).
    @discardableResult
    public func svg(_ draw: @escaping (T) -> String?) -> ObjectType {
        self.picture = draw
        return self
    }

    /// Wraps a Swift value as a language value of this type.
    /// Declares that the type holds language values (see `LabObject.nestedValues`).
    @discardableResult
    public func holds(_ items: @escaping (T) -> [Value]) -> ObjectType {
        self.contents = items
        return self
    }

    public func wrap(_ value: T) -> Value { .object(NativeObject(type: self, value: value)) }

    /// The Swift value inside `v`, when `v` was made by this type's `wrap`.
    public func unwrap(_ v: Value) -> T? {
        if case .object(let o) = v, let n = o as? NativeObject<T>, n.type === self { return n.value }
        return nil
    }

    /// Attribute or bound method `name` of `value`, nil when the type has none.
    public func member(_ name: String, of value: T) throws -> Value? {
        if let g = getters[name] { return try g(value) }
        if let m = methods[name], var info = methodInfo[name] {
            info.call = { args in try m(value, args) }
            return .function(info)
        }
        return nil
    }

    package func render(_ value: T) -> String { show(value) }
    func draw(_ value: T) -> String? { picture?(value) }
    func plainText(_ value: T) -> String? { plain?(value) }
    func nestedValues(_ value: T) -> [Value]? { contents?(value) }
}

/// A Swift value together with its ``ObjectType``.
package final class NativeObject<T>: LabObject {
    package let type: ObjectType<T>
    package let value: T
    package init(type: ObjectType<T>, value: T) { self.type = type; self.value = value }
    package var typeName: String { type.name }
    package var members: [Member] { type.members }
    package func attribute(_ name: String) throws -> Value? { try type.member(name, of: value) }
    package var display: String { type.render(value) }
    package var svg: String? { type.draw(value) }
    package var plainText: String? { type.plainText(value) }
    package var nestedValues: [Value]? { type.nestedValues(value) }
}
