import Foundation

/// An error raised while reading, using, training or writing a sentencepiece model.
///
/// The description is one line naming what was wrong and where, e.g.
/// `spm.model: truncated varint at byte 1023 (file is not a sentencepiece model or is damaged)`.
public struct SentencePieceError: Error, CustomStringConvertible, Equatable {
    /// The file (or other source) the problem was found in, if any.
    public var source: String?
    /// What went wrong.
    public var message: String

    public init(_ message: String, source: String? = nil) {
        self.message = message
        self.source = source
    }

    public var description: String {
        if let source { return "\(source): \(message)" }
        return message
    }
}
