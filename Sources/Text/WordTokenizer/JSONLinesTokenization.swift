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
        var texts: [String] = []
        var bytes = 0
        func flush() {
            for tokens in tokenize(texts) { write(encodeTokensLine(tokens)) }
            texts.removeAll(keepingCapacity: true)
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
            do {
                texts.append(try text(ofLine: line, lineNumber))
            } catch {
                flush()
                throw error
            }
            bytes += length
            if texts.count >= batchLines || bytes >= batchBytes { flush() }
        }
        if ferror(input) != 0 { flush(); throw JSONLinesError(line: lineNumber + 1, message: "read error") }
        flush()
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
            throw JSONLinesError(line: lineNumber, message: "malformed JSON")
        }
        guard let dict = object as? [String: Any] else {
            throw JSONLinesError(line: lineNumber, message: "expected a JSON object with a \"text\" field")
        }
        guard let text = dict["text"] as? String else {
            throw JSONLinesError(line: lineNumber, message: "no string field \"text\"")
        }
        return text
    }

    /// `{"tokens":[…]}` with minimal JSON escaping (non-ASCII written as UTF-8).
    public static func encodeTokensLine(_ tokens: [String]) -> String {
        var out = "{\"tokens\":["
        for (k, t) in tokens.enumerated() {
            if k > 0 { out += "," }
            appendJSONString(t, to: &out)
        }
        out += "]}"
        return out
    }

    static func appendJSONString(_ s: String, to out: inout String) {
        out += "\""
        var plainStart = s.unicodeScalars.startIndex
        var i = plainStart
        let scalars = s.unicodeScalars
        while i < scalars.endIndex {
            let c = scalars[i]
            let escape: String?
            switch c {
            case "\"": escape = "\\\""
            case "\\": escape = "\\\\"
            case "\n": escape = "\\n"
            case "\r": escape = "\\r"
            case "\t": escape = "\\t"
            case "\u{2028}": escape = "\\u2028"
            case "\u{2029}": escape = "\\u2029"
            default:
                if c.value < 0x20 || c.value == 0x7F {
                    let hex = String(c.value, radix: 16)
                    escape = "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    escape = nil
                }
            }
            if let escape {
                out.unicodeScalars.append(contentsOf: scalars[plainStart..<i])
                out += escape
                plainStart = scalars.index(after: i)
            }
            i = scalars.index(after: i)
        }
        out.unicodeScalars.append(contentsOf: scalars[plainStart..<scalars.endIndex])
        out += "\""
    }
}
