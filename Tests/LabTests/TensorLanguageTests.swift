import Testing
import Tensor
@testable import Lab

@Suite struct TensorLanguageTests {
    @Test func summaryShapeAndIndexing() {
        let s = Session()
        _ = s.run("t = tensor([[1, 2, 3], [4, 5, 6]])")
        #expect(show("t", in: s) == "Tensor [2, 3] float32  min 1  max 6  mean 3.5  std 1.871  [1, 2, 3, 4, 5, …]")
        #expect(show("t.shape, shape(t), t.ndim, t.numel()", in: s) == "((2, 3), (2, 3), 2, 6)")
        #expect(show("t[0].tolist(), t[0, :2].tolist(), t[:, -1].tolist(), t[1, 2]", in: s)
                == "([1.0, 2.0, 3.0], [1.0, 2.0], [3.0, 6.0], Tensor [] float32  min 6  max 6  mean 6  [6])")
        #expect(show("t[::-1, 1:].tolist()", in: s) == "[[5.0, 6.0], [2.0, 3.0]]")
        #expect(show("t[2]", in: s) == "error: dimension 0 index 2 out of range (size 2)")
        #expect(show("t[0, 0, 0]", in: s) == "error: too many indices for tensor of shape [2, 3]: 3")
    }

    @Test func arithmeticMatchesTensorOps() throws {
        let s = Session()
        _ = s.run("a = tensor([[1, 2], [3, 4]]); b = tensor([[5, 6], [7, 8]])")
        let a = Tensor(shape: [2, 2], data: [1, 2, 3, 4]), b = Tensor(shape: [2, 2], data: [5, 6, 7, 8])
        #expect(try s.evaluate("a @ b").asTensor == a.matmul(b))
        #expect(try s.evaluate("a * 2 + b / 2").asTensor == a * 2 + b / 2)
        #expect(try s.evaluate("2 - a").asTensor == (-a) + 2)
        #expect(try s.evaluate("a.T").asTensor == a.transposed)
        #expect(try s.evaluate("a.sum(dim=1)").asTensor == a.sum(axis: 1))
        #expect(show("a + ones(3)", in: s) == "error: shapes [2, 2] and [3] do not match for +")
        #expect(show("a @ ones(3, 1)", in: s) == "error: '@': inner sizes differ: [2, 2] @ [3, 1]")
        #expect(show("a.reshape(3, -1)", in: s) == "error: Tensor.reshape: cannot reshape [2, 2] (4 elements) to [3, -1]")
        #expect(show("a.reshape(-1).shape", in: s) == "(4,)")
    }

    @Test func randomTensorsAreSeededAndSized() throws {
        let s = Session()
        var g = SeededGenerator(seed: 7)
        #expect(try s.evaluate("randn(3, 4, seed=7)").asTensor == Tensor.normal([3, 4], using: &g))
        #expect(try s.evaluate("randn(3, 4, seed=7)").asTensor == s.evaluate("randn((3, 4), seed=7)").asTensor)
        #expect(show("zeros(2, 3).shape, ones([4]).sum()", in: s) == "((2, 3), 4.0)")
        #expect(show("zeros(100000, 100000)", in: s).hasPrefix("error: zeros: shape: shape [100000, 100000] is too large"))
        #expect(show("randn(-1)", in: s) == "error: randn: shape: negative dimension -1")
    }

    @Test func tensorFromRaggedListIsAnError() {
        #expect(show("tensor([[1, 2], [3]])") == "error: tensor: values: ragged nested list (lengths 2 and 1)")
        #expect(show("tensor([1, [2]])") == "error: tensor: values: ragged nested list")
        #expect(show("tensor(['a'])") == "error: tensor: values must be numbers, got str")
    }

    @Test func inspectShowsStatsValuesHeatMapAndHistogram() {
        let text = show("inspect(tensor([[0, 1, 2, 3], [1, 2, 3, 4], [2, 3, 4, 5]]))")
        #expect(text == """
        Tensor [3, 4] float32, 12 values
          min 0  max 5  mean 2.5  std 1.446
          values [:3, :4]:
            0  1  2  3
            1  2  3  4
            2  3  4  5
          heat map (3×4): ' ' = 0 … '█' = 5
            │ ░▒▒│
            │░▒▒▓│
            │▒▒▓█│
          histogram of 12 values:
                0 … 0.625 │██████████                     1
            0.625 …  1.25 │████████████████████           2
             1.25 … 1.875 │                               0
            1.875 …   2.5 │██████████████████████████████ 3
              2.5 … 3.125 │██████████████████████████████ 3
            3.125 …  3.75 │                               0
             3.75 … 4.375 │████████████████████           2
            4.375 …     5 │██████████                     1
        """)
        let big = show("inspect(randn(2, 40, 100, seed=1))")
        #expect(big.contains("heat map of [0] (40×100, averaged to 16×64)"))
        #expect(big.contains("values [0, :4, :6]:"))
        #expect(show("inspect(tensor([1, 2, nan_value]))".replacingOccurrences(of: "nan_value", with: "log(-1)"))
                .contains("nan 1  inf 0"))
    }
}

extension Value {
    var asTensor: Tensor? { if case .tensor(let t) = self { return t }; return nil }
}

import Foundation
