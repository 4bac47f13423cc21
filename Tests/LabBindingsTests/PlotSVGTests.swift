import Foundation
import Testing
@testable import Lab
@testable import LabBindings

@Suite struct PlotSVGTests {
    @Test func niceNumbersAreOneTwoFiveTimesAPowerOfTen() {
        #expect(AxisTicks.niceNumber(0.00066, round: false) == 0.001)
        #expect(AxisTicks.niceNumber(0.00014, round: true) == 0.0001)
        #expect(AxisTicks.niceNumber(3.1, round: false) == 5)
        #expect(AxisTicks.niceNumber(2.6, round: true) == 2)
        #expect(AxisTicks.niceNumber(7.5, round: true) == 10)
    }

    @Test func linearTicksAreRoundNumbersInsideTheRange() {
        // The data extremes of the issue's plot: ticks at round numbers, not at 0.0001748 and 0.0008318.
        let (ticks, decimals) = AxisTicks.linear(0.0001748, 0.0008318)
        #expect(ticks == [0.0002, 0.0003, 0.0004, 0.0005, 0.0006, 0.0007, 0.0008])
        #expect(decimals == 4)
        #expect(ticks.map { AxisTicks.label($0, decimals: decimals) }.first == "0.0002")
        let loss = AxisTicks.linear(3.7, 6.8)
        #expect(loss.ticks == [4, 4.5, 5, 5.5, 6, 6.5])
        #expect(AxisTicks.label(1.5e-5, decimals: 6) == "1.5e-05")
        #expect(AxisTicks.decades(-7.4, 1.0) == [-7, -6, -5, -4, -3, -2, -1, 0, 1])
    }

    @Test func svgHasTitlesLegendAndTheSuggestionMark() throws {
        var p = LinePlot(xs: [1e-7, 1e-4, 1e-1, 10], ys: [6.7, 6.69, 6.2, 6.9], title: "lr_find", xlabel: "Learning Rate",
                         ylabel: "Loss", logX: true)
        p.label = "loss"
        p.mark = (1e-4, 6.69, "valley: 1.00e-04")
        let svg = p.svg()
        #expect(svg.contains(">Learning Rate</text>") && svg.contains(">Loss</text>"))
        #expect(svg.contains("fill=\"red\""))
        #expect(svg.contains(">valley: 1.00e-04</text>") && svg.contains(">loss</text>"))
        // Decade labels 10^-7 … 10^1, with the exponent raised.
        #expect(svg.contains("10<tspan dy=\"-5\" font-size=\"8\">−7</tspan>"))
        #expect(svg.contains("10<tspan dy=\"-5\" font-size=\"8\">1</tspan>"))
        // One line, no mark: no legend.
        let single = LinePlot(xs: [0, 1, 2], ys: [1, 3, 2], title: "t").svg()
        #expect(!single.contains("stroke=\"#cccccc\""))
        // Every label lies inside the picture: the y labels' right edge leaves room for their text.
        let lefts = single.components(separatedBy: "text-anchor=\"end\">").count - 1
        #expect(lefts >= 4)
        let many = LinePlot(xs: [0, 1], ys: [-123456.5, 98765.25]).svg()
        let match = try #require(many.range(of: #"<text x="([0-9.]+)" y="[0-9.]+" text-anchor="end">([^<]+)</text>"#, options: .regularExpression))
        let text = String(many[match])
        let x = Double(text.split(separator: "\"")[1])!
        let label = String(text.split(separator: ">")[1].dropLast(6))
        #expect(x - Double(label.count) * 6.5 > 0, "y label \(label) at x \(x) would be clipped")
    }
}
