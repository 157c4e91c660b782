import ArgumentParser
import LEMModel

/// The options of `lm bench` and `kws bench` besides `--config` (whose list is each tool's own).
public struct BenchOptions: ParsableArguments {
    @Flag(help: "One JSON object per line.")
    public var json = false
    @Flag(help: "Tiny sizes that finish in seconds (checks the benchmark still runs).")
    public var short = false
    @Option(help: "Seconds to time each configuration (after warm-up).")
    public var seconds: Double = 8

    public init() {}

    public mutating func validate() throws {
        if !(seconds > 0) { throw ValidationError("--seconds must be positive") }
    }

    /// How long to time one configuration: `seconds`, or a moment with `--short`.
    public var duration: Double { short ? 0.05 : seconds }

    /// A bench command's run: only `config` in this process (`measure` gives its result lines), or,
    /// without one, every configuration in a child process of its own (`Benchmarking.runAll`).
    public func run(tool: String, config: String?, configurations: [String],
                    measure: (String) throws -> [[String: Any]], describe: ([String: Any]) -> String) throws {
        if let config {
            for line in try measure(config) { print(json ? jsonLine(line) : describe(line)) }
            return
        }
        try Benchmarking.runAll(tool: tool, configurations: configurations, seconds: seconds, short: short, json: json,
                                describe: describe)
    }
}

/// Runs a command's `body`, turning every error into one line `<tool>: error: …` on standard error
/// and exit status 1 (no stack traces); argument errors keep swift-argument-parser's usage message.
public func reportingErrors(tool: String, _ body: () throws -> Void) throws {
    do { try body() } catch let error as ExitCode {
        throw error
    } catch let error as ValidationError {
        throw error
    } catch {
        writeStandardError("\(tool): error: \(error)\n")
        throw ExitCode.failure
    }
}
