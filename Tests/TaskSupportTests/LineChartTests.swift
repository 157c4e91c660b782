import Foundation
@testable import TaskSupport
import XCTest

/// The SVG line charts: a DET curve on the field's log axis of false alarms per hour.
final class LineChartTests: XCTestCase {
    func testLogXRunsOverWholeDecadesAndLeavesOutZero() throws {
        let path = NSTemporaryDirectory() + "lem-chart-\(getpid()).svg"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let det = ChartSeries(name: "DET", points: [(0, 80), (0.1, 60), (0.5, 40), (2, 25), (14, 10)])
        try writeLineChart([det], title: "t", xLabel: "false alarms per hour", yLabel: "miss rate (%)", logX: true, to: path)
        let svg = try String(contentsOfFile: path, encoding: .utf8)
        for tick in [">0.1<", ">1<", ">10<", ">100<"] { XCTAssertTrue(svg.contains(tick), "tick \(tick)") }
        XCTAssertTrue(svg.contains("false alarms per hour (log scale)"))
        let polyline = try XCTUnwrap(svg.split(separator: "\n").first { $0.contains("<polyline") })
        let points = polyline.split(separator: "\"").dropFirst(7).first!.split(separator: " ")
        print("log-x DET polyline: \(points.count) points (the 0 FA/h point left out): \(points)")
        XCTAssertEqual(points.count, 4)
        // Distances on a log axis are ratios: (x(0.5) − x(0.1)) / (x(2) − x(0.5)) = log 5 / log 4.
        let xs = points.map { Double($0.split(separator: ",")[0])! }
        XCTAssertEqual((xs[1] - xs[0]) / (xs[2] - xs[1]), log10(5) / log10(4), accuracy: 0.01)
    }
}
