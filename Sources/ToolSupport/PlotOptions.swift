import ArgumentParser

/// The arguments of `lm plot` and `kws plot`: runs' metrics logs drawn in one chart.
public struct PlotOptions: ParsableArguments {
    @Argument(help: "Metrics logs of training runs (<checkpoint>.metrics.jsonl), or the curves a tool plots.")
    public var logs: [String]
    @Option(help: ArgumentHelp("The SVG to write.", valueName: "file"))
    public var out: String
    @Option(help: "x axis: minutes (training time, for equal-budget comparisons) or epochs.")
    public var x: String = "minutes"
    @Option(help: "Chart title.")
    public var title: String?
    @Flag(name: .customLong("log-y"), help: "Logarithmic y axis.")
    public var logY = false

    public init() {}

    public mutating func validate() throws {
        if logs.isEmpty { throw ValidationError("give at least one metrics log") }
        if !["minutes", "epochs"].contains(x) { throw ValidationError("--x must be minutes or epochs") }
    }
}
