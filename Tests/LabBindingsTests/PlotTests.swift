import Foundation
import Testing
@testable import Lab
@testable import LabBindings

@Suite struct PlotTests {
    @Test func plotDrawsBrailleAndSVG() throws {
        let s = Session()
        let p = try s.evaluate("plot([0, 1, 2, 3], [3, 1, 2, 0], title='loss', xlabel='batch')")
        guard case .object(let o) = p else { Issue.record("plot is not an object"); return }
        let lines = o.display.split(separator: "\n").map(String.init)
        #expect(lines[0] == "loss")
        #expect(lines[1].hasPrefix("3 ┤") && lines[12].hasPrefix("0 ┤"))
        #expect(lines[13] == "  └" + String(repeating: "─", count: 60))
        #expect(lines[15] == "   x: batch")
        // First point top-left, last bottom-right.
        #expect(lines[1].unicodeScalars.dropFirst(3).first != "\u{2800}")
        #expect(lines[12].unicodeScalars.last != "\u{2800}")
        let svg = try #require(o.svg)
        #expect(svg.hasPrefix("<svg xmlns=\"http://www.w3.org/2000/svg\""))
        #expect(svg.contains("<polyline") && svg.contains(">loss</text>"))
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("lab-plot-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        s.directory = dir.path
        #expect(show("savefig(plot([1, 2]), 'a.svg')", in: s) == "wrote a.svg")
        #expect(try String(contentsOf: dir.appendingPathComponent("a.svg"), encoding: .utf8).contains("<polyline"))
        #expect(show("savefig(plot([1, 2]), 'a.png')", in: s) == "error: savefig: only SVG files can be written (path must end in .svg)")
    }
}
