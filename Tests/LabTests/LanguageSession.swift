import Lab

extension Session {
    /// The language alone (core and tensor builtins), without the library's bindings:
    /// these tests read and check the language without Text, Models or Learn.
    convenience init() { self.init(bindings: []) }
}
