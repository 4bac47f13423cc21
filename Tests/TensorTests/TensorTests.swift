import Testing
@testable import Tensor

// Tolerances: relative 1e-6 for a handful of float32 multiply-adds of small integers,
// which are exact anyway; the tolerance only guards against BLAS reassociation.
private func close(_ a: [Float], _ b: [Float], tol: Float = 1e-6) -> Bool {
    a.count == b.count && zip(a, b).allSatisfy { abs($0 - $1) <= tol * max(1, abs($1)) }
}

@Test func shapeIndexingAndReshape() {
    var t = Tensor(shape: [2, 3], data: [1, 2, 3, 4, 5, 6])
    #expect(t[1, 2] == 6)
    #expect(t[-1, -1] == 6)
    t[0, 1] = 20
    #expect(t.data == [1, 20, 3, 4, 5, 6])
    #expect(t.strides == [3, 1])
    #expect(t.reshaped([3, -1]).shape == [3, 2])
    #expect(t.row(1).data == [4, 5, 6])
    #expect(t.rows(0..<1).shape == [1, 3])
    #expect(t.transposed.data == [1, 4, 20, 5, 3, 6])
}

@Test func elementwiseAndReductions() {
    let a = Tensor(shape: [4], data: [1, 2, 3, 4])
    let b = Tensor(shape: [4], data: [4, 3, 2, 1])
    #expect((a + b).data == [5, 5, 5, 5])
    #expect((a * b).data == [4, 6, 6, 4])
    #expect((a - 1).data == [0, 1, 2, 3])
    #expect(a.sum() == 10)
    #expect(a.mean() == 2.5)
    #expect(a.min() == 1 && a.max() == 4)
    // sample std of 1,2,3,4 = sqrt(5/3)
    #expect(abs(a.std() - 1.2909944) < 1e-6)
    #expect(abs(a.std(unbiased: false) - 1.1180340) < 1e-6)
    #expect(b.argmax() == 0)
    var c = a
    c.addScaled(b, by: 2)
    #expect(c.data == [9, 8, 7, 6])
    let m = Tensor(shape: [2, 3], data: [1, 2, 3, 4, 5, 6])
    #expect(m.sum(axis: 0).data == [5, 7, 9])
    #expect(m.sum(axis: 1).data == [6, 15])
    #expect(m.mean(axis: -1).data == [2, 5])
}

@Test func matmulWithTransposes() {
    // [[1,2],[3,4],[5,6]] · [[1,0,2],[0,1,3]] computed by hand
    let a = Tensor(shape: [3, 2], data: [1, 2, 3, 4, 5, 6])
    let b = Tensor(shape: [2, 3], data: [1, 0, 2, 0, 1, 3])
    let expected: [Float] = [1, 2, 8, 3, 4, 18, 5, 6, 28]
    #expect(a.matmul(b).shape == [3, 3])
    #expect(close(a.matmul(b).data, expected))
    #expect(close(a.transposed.matmul(b, transposeA: true).data, expected))
    #expect(close(a.matmul(b.transposed, transposeB: true).data, expected))
    #expect(close(a.transposed.matmul(b.transposed, transposeA: true, transposeB: true).data, expected))
}

@Test func batchedMatmulMatchesLoop() {
    var rng = SeededGenerator(seed: 1)
    let a = Tensor.normal([3, 4, 5], using: &rng)
    let b = Tensor.normal([3, 5, 2], using: &rng)
    let c = a.batchedMatmul(b)
    #expect(c.shape == [3, 4, 2])
    for i in 0..<3 {
        let want = a.row(i).matmul(b.row(i))
        #expect(close(c.row(i).data, want.data, tol: 1e-5))
    }
    let ct = a.batchedMatmul(b.batchedMatmul(Tensor.ones([3, 2, 2])), transposeB: false)
    #expect(ct.shape == [3, 4, 2])
}

@Test func seededRandomIsReproducible() {
    var r1 = SeededGenerator(seed: 42), r2 = SeededGenerator(seed: 42)
    let a = Tensor.normal([1000], using: &r1)
    let b = Tensor.normal([1000], using: &r2)
    #expect(a == b)
    // 1000 standard normals: mean within ±0.15 and std within ±0.1 (≈5 standard errors)
    #expect(abs(a.mean()) < 0.15)
    #expect(abs(a.std() - 1) < 0.1)
    var r3 = SeededGenerator(seed: 7)
    let u = Tensor.uniform([1000], low: -2, high: 3, using: &r3)
    #expect(u.min() >= -2 && u.max() < 3)
}

@Test func descriptionShowsShapeStatsAndValues() {
    let t = Tensor(shape: [2, 3], data: [1, 2, 3, 4, 5, 6])
    #expect(t.description == "Tensor [2, 3] float32  min 1  max 6  mean 3.5  std 1.871  [1, 2, 3, 4, 5, …]")
    #expect(Tensor(shape: [0]).description == "Tensor [0] float32  (empty)")
    #expect(Tensor.format(1.5e-5) == "1.5e-05")
}
