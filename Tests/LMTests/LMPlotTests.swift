import Foundation
import ToolTestSupport
import XCTest

/// `lm plot` of two runs' metrics logs: the time axis starts at 0 and ends on round ticks.
final class LMPlotTests: XCTestCase {
    func testTwoRunsOnRoundMinuteTicks() throws {
        let dir = makeTemporaryDirectory()
        func log(_ name: String, _ points: [(minutes: Double, ppl: Double)]) throws -> String {
            let lines = points.enumerated().map { k, p in
                "{\"event\":\"valid\",\"epoch\":\(k + 1),\"step\":\(10 * (k + 1)),\"elapsed_s\":\(p.minutes * 60),\"metric\":\(p.ppl)}"
            }
            try (lines.joined(separator: "\n") + "\n").write(toFile: dir + "/" + name, atomically: true, encoding: .utf8)
            return dir + "/" + name
        }
        let a = try log("a.metrics.jsonl", [(3.5, 430), (58.5, 133), (116.8, 115.6)])
        let b = try log("b.metrics.jsonl", [(7.6, 428), (64.4, 160), (120.0, 133.1)])
        let r = try runTool("lm", ["plot", a, b, "--x", "minutes", "--out", dir + "/both.svg"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let svg = try String(contentsOfFile: dir + "/both.svg", encoding: .utf8)
        let xLabels = svg.split(separator: "\n").filter { $0.contains("text-anchor=\"middle\">") && !$0.contains("training") && !$0.contains("rotate") }
            .compactMap { $0.split(separator: ">").last?.split(separator: "<").first.map(String.init) }
        print("x ticks: \(xLabels)")
        XCTAssertEqual(xLabels, ["0", "30", "60", "90", "120"])
        XCTAssertTrue(svg.contains("— a</text>") && svg.contains("— b</text>"), "the legend names each run after its log")
    }
}
