import ArgumentParser
import Foundation
import TaskSupport
import ToolSupport

extension Adding {
    struct Plot: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Draw the test-MSE curves of several `adding train --csv` files in one SVG.",
            discussion: """
                Each file becomes one curve, named after the file (without .csv); the y axis is
                logarithmic.

                Example:
                  adding plot lem-2000.csv lstm-2000.csv gru-2000.csv --out adding-2000.svg
                """)

        @Argument(help: "CSV files written by `adding train --csv`.") var files: [String]
        @Option(help: ArgumentHelp("The SVG to write.", valueName: "file")) var out: String
        @Option(help: "x axis: steps or minutes.") var x: String = "steps"
        @Option(help: "Chart title.") var title: String = "Adding problem: test MSE"

        mutating func validate() throws {
            if files.isEmpty { throw ValidationError("give at least one CSV file") }
            if !["steps", "minutes"].contains(x) { throw ValidationError("--x must be steps or minutes") }
        }

        func run() throws {
            try reportingErrors(tool: "adding") {
                let series = try files.map { path -> ChartSeries in
                    guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                        throw ToolError(description: "\(path): cannot read")
                    }
                    let points = try text.split(separator: "\n").dropFirst().enumerated().map { index, line -> (x: Double, y: Double) in
                        let fields = line.split(separator: ",").map { Double($0) }
                        guard fields.count == 3, let step = fields[0], let minutes = fields[1], let mse = fields[2] else {
                            throw ToolError(description: "\(path): line \(index + 2) is not step,minutes,test_mse")
                        }
                        return (x == "steps" ? step : minutes, mse)
                    }
                    let name = URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
                    return ChartSeries(name: name, points: points)
                }
                try writeLineChart(series, title: title, xLabel: x == "steps" ? "training steps" : "training minutes",
                                   yLabel: "test MSE", logY: true, to: out)
                print("wrote \(out)")
            }
        }
    }
}
