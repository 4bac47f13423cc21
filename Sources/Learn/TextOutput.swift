import Foundation

/// Where people-facing text (progress bars, tables) goes.
public protocol TextOutput: AnyObject {
    /// Writes text as is (no newline added).
    func write(_ text: String)
    /// True for an interactive terminal (ANSI control and `\r` redraws are allowed).
    var isTerminal: Bool { get }
}

/// Standard error or standard output of the process.
public final class StandardStream: TextOutput, @unchecked Sendable {  // immutable after init; FileHandle writes are thread-safe
    private let handle: FileHandle
    private let fd: Int32
    public let isTerminal: Bool
    /// Standard error (progress bars by default).
    public static let standardError = StandardStream(fd: 2)
    /// Standard output (epoch tables by default).
    public static let standardOutput = StandardStream(fd: 1)
    private init(fd: Int32) {
        self.fd = fd
        self.handle = fd == 2 ? FileHandle.standardError : FileHandle.standardOutput
        self.isTerminal = isatty(fd) == 1
    }
    public func write(_ text: String) { handle.write(Data(text.utf8)) }
}

/// Collects text in memory (tests, REPL capture).
public final class StringOutput: TextOutput {
    public private(set) var text = ""
    public let isTerminal: Bool
    public init(isTerminal: Bool = false) { self.isTerminal = isTerminal }
    public func write(_ text: String) { self.text += text }
}
