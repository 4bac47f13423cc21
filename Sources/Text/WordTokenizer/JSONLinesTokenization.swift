import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A problem with one input line of a JSON-lines stream.
public struct JSONLinesError: Error, CustomStringConvertible, Equatable {
    /// 1-based line number.
    public let line: Int
    public let message: String
    public var description: String { "line \(line): \(message)" }
}

/// Streaming `{"text": …}` JSON lines → `{"tokens": […]}` JSON lines, in order, with memory
/// bounded by one batch (used by `lmlab tokenize`).
public enum JSONLinesTokenization {
    /// Reads lines from `input` (split on `\n` bytes only, so U+2028 inside strings is safe),
    /// tokenizes the `text` field of each in batches with `tokenize`, and passes one output
    /// line (without newline) per input line to `write`. Blank lines are skipped.
    /// Throws `JSONLinesError` for invalid UTF-8, malformed JSON or a missing `text` string,
    /// after writing the results of all earlier lines.
    public static func run(input: UnsafeMutablePointer<FILE>, batchLines: Int = 512, batchBytes: Int = 8 << 20,
                           tokenize: ([String]) -> [[String]], write: (String) -> Void) throws {
        // The streaming version below with no text long enough to be split: each output is one
        // whole line, newline included.
        try withoutActuallyEscaping(write) { write in
            try run(input: input, batchLines: batchLines, batchBytes: batchBytes, longTextBytes: .max,
                    tokenize: tokenize, tokenizeLong: { _, _ in },
                    output: { line in write(String(decoding: line.dropLast(), as: UTF8.self)) })
        }
    }

    /// Like `run(input:batchLines:batchBytes:tokenize:write:)`, for output written in parts:
    /// each `{"tokens":[…]}` line (newline included) goes to `output` in one or more pieces.
    /// A text of `longTextBytes` UTF-8 bytes or more is handed to `tokenizeLong`, which passes
    /// its tokens on in runs; they are written as they come, so memory follows the run size,
    /// not the text (`FastaiTokenizer.tokenizeForDataset(_:chunkBytes:emit:)`).
    public static func run(input: UnsafeMutablePointer<FILE>, batchLines: Int = 512, batchBytes: Int = 8 << 20,
                           longTextBytes: Int, tokenize: ([String]) -> [[String]],
                           tokenizeLong: (String, ([String]) -> Void) -> Void,
                           output: @escaping ([UInt8]) -> Void) throws {
        var pending: [String] = []
        var bytes = 0
        func flush() {
            for tokens in tokenize(pending) {
                var line = Array(encodeTokensLine(tokens).utf8)
                line.append(0x0A)
                output(line)
            }
            pending.removeAll(keepingCapacity: true)
            bytes = 0
        }
        var linePointer: UnsafeMutablePointer<CChar>? = nil
        var capacity = 0
        defer { free(linePointer) }
        var lineNumber = 0
        while true {
            let n = getline(&linePointer, &capacity, input)
            if n < 0 { break }
            lineNumber += 1
            guard let p = linePointer else { break }
            var length = n
            let raw = UnsafeRawBufferPointer(start: p, count: length)
            if length > 0 && raw[length - 1] == 0x0A { length -= 1 }
            if length > 0 && raw[length - 1] == 0x0D { length -= 1 }
            let line = UnsafeRawBufferPointer(rebasing: raw[0..<length])
            if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { continue }
            let text: String
            do { text = try self.text(ofLine: line, lineNumber) } catch {
                flush()
                throw error
            }
            if length >= longTextBytes {
                flush()
                if capacity > 1 << 20 { free(linePointer); linePointer = nil; capacity = 0 }   // do not keep the huge buffer
                var out: [UInt8] = Array(#"{"tokens":["#.utf8)
                var first = true
                tokenizeLong(text) { tokens in
                    for t in tokens {
                        if !first { out.append(UInt8(ascii: ",")) }
                        first = false
                        appendJSONString(t, to: &out)
                    }
                    output(out)
                    out.removeAll(keepingCapacity: true)
                }
                out.append(contentsOf: "]}\n".utf8)
                output(out)
                continue
            }
            pending.append(text)
            bytes += length
            if pending.count >= batchLines || bytes >= batchBytes { flush() }
        }
        if ferror(input) != 0 { flush(); throw JSONLinesError(line: lineNumber + 1, message: "read error") }
        flush()
    }

    /// The deepest nesting of `[` and `{` outside strings (to tell "too deep" from "malformed").
    static func nesting(_ line: UnsafeRawBufferPointer) -> Int {
        var depth = 0, deepest = 0, inString = false, escaped = false
        for b in line {
            if inString {
                if escaped { escaped = false } else if b == UInt8(ascii: "\\") { escaped = true } else if b == UInt8(ascii: "\"") { inString = false }
                continue
            }
            switch b {
            case UInt8(ascii: "\""): inString = true
            case UInt8(ascii: "["), UInt8(ascii: "{"): depth += 1; deepest = max(deepest, depth)
            case UInt8(ascii: "]"), UInt8(ascii: "}"): depth -= 1
            default: break
            }
        }
        return deepest
    }

    /// The `text` field of one JSON line.
    public static func text(ofLine line: UnsafeRawBufferPointer, _ lineNumber: Int) throws -> String {
        guard String(validating: line.bindMemory(to: UInt8.self), as: UTF8.self) != nil else {
            throw JSONLinesError(line: lineNumber, message: "invalid UTF-8")
        }
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: Data(line))
        } catch {
            let depth = nesting(line)
            throw JSONLinesError(line: lineNumber, message: depth > 500 ? "JSON nested too deeply (\(depth) levels; the reader takes up to 500)" : "malformed JSON")
        }
        guard let dict = object as? [String: Any] else {
            throw JSONLinesError(line: lineNumber, message: "expected a JSON object with a \"text\" field")
        }
        guard let text = dict["text"] as? String else {
            throw JSONLinesError(line: lineNumber, message: "no string field \"text\"")
        }
        return text
    }

    /// `{"tokens":[…]}` with minimal JSON escaping (non-ASCII written as UTF-8). Built as
    /// bytes: appending to a String piecewise can copy it each time (quadratic on huge lines).
    public static func encodeTokensLine(_ tokens: [String]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(tokens.reduce(16) { $0 + $1.utf8.count + 3 })
        out.append(contentsOf: #"{"tokens":["#.utf8)
        for (k, t) in tokens.enumerated() {
            if k > 0 { out.append(UInt8(ascii: ",")) }
            appendJSONString(t, to: &out)
        }
        out.append(contentsOf: "]}".utf8)
        return String(decoding: out, as: UTF8.self)
    }

    static func appendJSONString(_ s: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        var utf8 = s.utf8.makeIterator()
        while let b = utf8.next() {
            switch b {
            case UInt8(ascii: "\""): out.append(contentsOf: #"\""#.utf8)
            case UInt8(ascii: "\\"): out.append(contentsOf: #"\\"#.utf8)
            case 0x0A: out.append(contentsOf: #"\n"#.utf8)
            case 0x0D: out.append(contentsOf: #"\r"#.utf8)
            case 0x09: out.append(contentsOf: #"\t"#.utf8)
            case 0x00..<0x20, 0x7F:
                let hex = Array("0123456789abcdef".utf8)
                out.append(contentsOf: #"\u00"#.utf8)
                out.append(hex[Int(b >> 4)]); out.append(hex[Int(b & 15)])
            case 0xE2:
                // U+2028 / U+2029 (E2 80 A8 / E2 80 A9) are escaped: some JSON readers split on them.
                guard let b1 = utf8.next() else { out.append(b); break }
                guard let b2 = utf8.next() else { out.append(b); out.append(b1); break }
                if b1 == 0x80 && (b2 == 0xA8 || b2 == 0xA9) {
                    out.append(contentsOf: (b2 == 0xA8 ? #"\u2028"# : #"\u2029"#).utf8)
                } else {
                    out.append(b); out.append(b1); out.append(b2)
                }
            default: out.append(b)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}
