import Foundation
import Tensor
import Testing
@testable import Lab
@testable import LabBindings

/// Random and mutated statements (fixed seed, bounded count and size) must never crash or hang
/// the evaluator, every error must be one line, and the session must stay usable.
@Suite struct FuzzTests {
    static let corpus = [
        "x = randn(6, 15, seed=42)", "x.mean(), x.std()", "t = tensor([[1, 2, 3], [4, 5, 6]])",
        "t[0, :2]", "t[:, -1]", "t @ t.T", "t.sum(dim=0)", "rows, cols = x.shape", "a, b = first([(1, 2), (3, 4)])",
        "1e-2/2.6**4", "slice(1e-2/2.6**4, 1e-2)", "words = ['xxbos', 'i', 'liked']", "words[1:3]", "len(words)",
        "'I liked this movie'.split()", "print('loss', 4.5, sep=', ')", "inspect(t)", "plot([1, 3, 2], title='x')",
        "help randn", "help(t)", "range(2, 10, 3)", "7 // 2, 7 % 2, 2**10", "not 1 < 2 <= 3 and None or True",
        "x.reshape(3, -1)", "softmax(tensor([1, 2, 3]))", "zeros(2, 3) + ones(2, 3) * 2", "abs(-3), round(2.567, 1)",
        "min([3, 1, 2]), max(3, 4), sum([1.5, 2])", "'a\\tb' + \"c\"", "[1, [2, (3,)]][1][1][0]", "t[::-1, 1:]",
        "exp(1), log(tensor([1, 2])), sqrt(4)", "type(t), dir(t)", "int('12') + float('1e-3')", "y = x; y *= 2",
    ]
    static let atoms = ["1", "0", "-1", "2.5", "1e-3", "1e308", "'s'", "\"q\"", "None", "True", "False", "x", "t", "words",
                        "[]", "()", "[1, 2]", "(1, 2)", "tensor([1, 2])", "randn(2, 3)", "zeros(0)", "zeros(2, 0)",
                        "slice(1, 2)", "9223372036854775807", "-9223372036854775807 - 1", "1e999", "log(0)", "help"]
    static let ops = ["+", "-", "*", "/", "//", "%", "**", "@", "==", "<", ">=", "!=", "and", "or"]
    static let suffixes = [".shape", ".T", "[0]", "[-1]", "[1:]", "[::-1]", "[0, :2]", ".sum()", ".mean(dim=1)",
                           "()", "(1)", "(seed=1)", ".reshape(-1)", ".item()", ".tolist()", "[9223372036854775807::9223372036854775807]"]
    static let callees = ["len", "range", "tensor", "randn", "zeros", "shape", "first", "inspect", "slice", "print",
                          "plot", "list", "int", "float", "str", "abs", "round", "min", "max", "sum", "softmax", "exp",
                          "help", "type", "dir", "repr", "arange", "matmul"]

    struct Gen {
        var rng: SeededGenerator
        mutating func int(_ n: Int) -> Int { Int(rng.next() % UInt64(n)) }
        mutating func pick(_ a: [String]) -> String { a[int(a.count)] }

        mutating func expr(_ depth: Int) -> String {
            if depth <= 0 { return pick(FuzzTests.atoms) }
            switch int(7) {
            case 0: return expr(depth - 1) + " " + pick(FuzzTests.ops) + " " + expr(depth - 1)
            case 1: return pick(FuzzTests.callees) + "(" + (0..<int(3)).map { _ in expr(depth - 1) }.joined(separator: ", ") + ")"
            case 2: return expr(depth - 1) + pick(FuzzTests.suffixes)
            case 3: return "[" + expr(depth - 1) + ", " + expr(depth - 1) + "]"
            case 4: return "(" + expr(depth - 1) + ")"
            case 5: return ["-", "not ", "+"][int(3)] + expr(depth - 1)
            default: return pick(FuzzTests.atoms)
            }
        }

        mutating func statement() -> String {
            switch int(4) {
            case 0: return pick(["x", "t", "a, b", "words", "q"]) + " = " + expr(3)
            case 1: return mutate(pick(FuzzTests.corpus))
            case 2: return mutate(expr(3))
            default: return expr(3)
            }
        }

        /// Deletes, duplicates, inserts or swaps characters.
        mutating func mutate(_ s: String) -> String {
            var c = Array(s)
            for _ in 0..<(1 + int(3)) {
                guard !c.isEmpty else { break }
                let i = int(c.count)
                switch int(5) {
                case 0: c.remove(at: i)
                case 1: c.insert(c[i], at: i)
                case 2: c.insert(Array("()[]{},.:;='\"\\#-+*/@0129eE_ \nxtλ")[int(32)], at: i)
                case 3: let j = int(c.count); c.swapAt(i, j)
                default: c.insert(contentsOf: Array(pick(FuzzTests.atoms)), at: i)
                }
            }
            return String(c)
        }
    }

    @Test func randomAndMutatedStatementsNeverBreakTheSession() {
        let session = Session()
        session.directory = FileManager.default.temporaryDirectory.path
        // LAB_FUZZ_COUNT / LAB_FUZZ_SEED allow longer local runs; the suite uses the fixed defaults.
        let env = ProcessInfo.processInfo.environment
        let count = env["LAB_FUZZ_COUNT"].flatMap(Int.init) ?? 3000
        var gen = Gen(rng: SeededGenerator(seed: env["LAB_FUZZ_SEED"].flatMap(UInt64.init) ?? 20_251_125))
        var errors = 0, ran = 0
        for i in 0..<count {
            var source = gen.statement()
            if gen.int(5) == 0 { source += "; " + gen.statement() }
            // `sleep` waits for real; keep the run bounded.
            if source.contains("sleep") { continue }
            ran += 1
            // The REPL also feeds every prefix of what is typed to these two.
            let cut = source.index(source.startIndex, offsetBy: gen.int(source.count + 1))
            _ = Session.needsMoreInput(String(source[..<cut]))
            _ = Completion.candidates(for: String(source[..<cut]), in: session)
            let result = session.run(source)
            for case .error(let e) in result.outputs {
                errors += 1
                #expect(!e.message.contains("\n") && !e.message.isEmpty, "multi-line error for \(source.debugDescription)")
            }
            if i % 100 == 0 {
                #expect(session.run("1 + 1").text == "2", "session unusable after \(source.debugDescription)")
            }
        }
        #expect(ran > count * 9 / 10)
        #expect(errors > 100)          // the fuzzer does reach error paths
        #expect(errors < ran)          // … and valid ones
        #expect(session.run("z = 40 + 2; z").text == "42")
    }

    @Test func deepNestingAndLongChainsAreErrorsNotCrashes() {
        let s = Session()
        let deep = String(repeating: "(", count: 5000) + "1" + String(repeating: ")", count: 5000)
        #expect(s.run(deep).error?.message == "expression nested too deeply")
        let chain = "1" + String(repeating: " + 1", count: 5000)
        #expect(s.run(chain).error?.message == "expression too long or nested too deeply")
        #expect(s.run("1" + String(repeating: " + 1", count: 100)).text == "101")
        let attrs = "t = zeros(1); t" + String(repeating: ".T", count: 5000)
        #expect(s.run(attrs).error != nil)
        #expect(s.run(String(repeating: "-", count: 5000) + "1").error?.message == "expression nested too deeply")
        #expect(s.run("[1][::9223372036854775807], range(5, 10, 9223372036854775807)").text == "([1], [5])")
        #expect(s.run("range(0, -9223372036854775807 - 1, -1)").error?.message == "range: range too large (limit 1000000 items)")
        #expect(s.run("'ab' * 10000000").error?.message == "repetition too large (limit \(Convert.maxStringBytes) bytes)")
        // Value ranges that overflow float arithmetic must not break the pictures.
        #expect(s.run("inspect(tensor([[-3e38, 3e38], [0, 1]])); inspect(tensor([log(0), 1, 2]))").error == nil)
        #expect(s.run("plot([-1e308, 1e308], [1e308, -1e308]); plot([1, 2], [3e38, -3e38]); plot([])").error == nil)
        #expect(s.run("1 + 1").text == "2")
    }
}
