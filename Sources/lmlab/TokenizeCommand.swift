import ArgumentParser
import Foundation
import Text
#if canImport(Glibc)
import Glibc
#endif

/// `lmlab tokenize [--subword MODEL] [FILE]`: JSON lines with a `text` field in, one
/// `{"tokens":[…]}` line out per input line, in order, streamed in batches.
struct TokenizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokenize",
        abstract: "Tokenize JSON lines ({\"text\": …}) the way fastai does (rules + spaCy English words).",
        discussion: """
        Reads FILE (or standard input) one JSON object per line and writes {"tokens":[...]} per \
        line, in order. Tokens are fastai's TextBlock tokens (rules, spaCy, replace_space). \
        Invalid UTF-8 or malformed JSON stops with an error naming the line.
        """)

    @Option(name: .long, help: "Use this sentencepiece model instead of word tokenization.")
    var subword: String?

    @Option(name: .long, parsing: .unconditional, help: "Worker threads.")
    var threads: Int = 2

    @Argument(help: "Input file (default: standard input).")
    var file: String?

    func run() throws {
        guard threads >= 1 else { throw CommandFailure("--threads must be at least 1") }
        let input: UnsafeMutablePointer<FILE>
        if let file {
            guard let f = fopen(file, "rb") else { throw CommandFailure("cannot open \(file): \(String(cString: strerror(errno)))") }
            input = f
        } else {
            guard let f = fdopen(STDIN_FILENO, "rb") else { throw CommandFailure("cannot read standard input") }
            input = f
        }
        defer { if file != nil { fclose(input) } }
        guard let output = fdopen(STDOUT_FILENO, "wb") else { throw CommandFailure("cannot write standard output") }
        let (tokenize, tokenizeLong) = try makeTokenizer()
        do {
            try JSONLinesTokenization.run(input: input, longTextBytes: Self.longTextBytes, tokenize: tokenize,
                                          tokenizeLong: tokenizeLong) { bytes in
                bytes.withUnsafeBufferPointer { _ = fwrite($0.baseAddress, 1, $0.count, output) }
            }
        } catch let e as JSONLinesError {
            fflush(output)
            throw CommandFailure("\(file ?? "<stdin>"): \(e)")
        }
        fflush(output)
    }
}

extension TokenizeCommand {
    /// Word tokens (rules + spaCy + replace_space), or with `--subword` fastai's
    /// `Tokenizer(SubwordTokenizer)`: the default rules, then sentencepiece pieces.
    ///
    /// The second closure tokenizes one very long text in pieces (word tokens: cut at spaces
    /// where the result cannot change; subwords: the whole text at once).
    func makeTokenizer() throws -> (([String]) -> [[String]], (String, ([String]) -> Void) -> Void) {
        let threads = self.threads
        guard let subword else {
            let tkn = try FastaiTokenizer()
            return ({ tkn.tokenizeDataset($0, threads: threads) },
                    { text, emit in tkn.tokenizeForDataset(text, chunkBytes: Self.chunkBytes, emit: emit) })
        }
        let model: SentencePieceModel
        do { model = try SentencePieceModel(contentsOf: URL(fileURLWithPath: subword)) }
        catch { throw CommandFailure("\(error)") }
        let one = { (text: String) in model.encodeAsPieces(TextRule.apply(TextRule.defaults, to: text)) }
        return ({ $0.map(one) }, { text, emit in emit(one(text)) })
    }

    /// Lines of at least this many bytes are tokenized and written in pieces.
    static let longTextBytes = 1 << 20
    /// Size of those pieces (bytes of text).
    static let chunkBytes = 256 << 10
}

/// A one-line error message for the user (ArgumentParser prints it and exits with status 1).
struct CommandFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
