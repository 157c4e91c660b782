import ArgumentParser
import LEMModel
import TaskSupport

/// The options of `lm bench` and `kws bench` besides `--config` (whose list is each tool's own).
public struct BenchOptions: ParsableArguments {
    @Flag(help: "One JSON object per line.")
    public var json = false
    @Flag(help: "Tiny sizes that finish in seconds (checks the benchmark still runs).")
    public var short = false
    @Option(help: "Seconds to time each configuration (after warm-up).")
    public var seconds: Double = 8
    @Option(help: "Also run each training configuration data-parallel over this many MPI ranks (mpirun -np N, threads shared out), beside the one-process row.")
    public var ranks: Int?

    public init() {}

    public mutating func validate() throws {
        if !(seconds > 0) { throw ValidationError("--seconds must be positive") }
        if let ranks, ranks < 1 { throw ValidationError("--ranks must be at least 1") }
    }

    /// How long to time one configuration: `seconds`, or a moment with `--short`.
    public var duration: Double { short ? 0.05 : seconds }

    /// A bench command's run: only `config` in this process (`measure` gives its result lines), or,
    /// without one, every configuration in a child process of its own (`Benchmarking.runAll`).
    /// `arguments` are the tool's own bench flags, passed on to the child processes.
    /// Under `mpirun` only rank 0 prints. `distributable`: the training configurations `--ranks` repeats.
    public func run(tool: String, config: String?, configurations: [String], arguments: [String] = [], distributable: Set<String> = [],
                    measure: (String) throws -> [[String: Any]], describe: ([String: Any]) -> String) throws {
        if let config {
            let lines = try measure(config)
            if ProcessGroup.world.isLeader { for line in lines { print(json ? jsonLine(line) : describe(line)) } }
            return
        }
        try Benchmarking.runAll(tool: tool, configurations: configurations, seconds: seconds, short: short, json: json,
                                arguments: arguments, ranks: ranks, distributable: distributable, describe: describe)
    }
}

/// Runs a command's `body`, turning every error into one line `<tool>: error: …` on standard error
/// and exit status 1 (no stack traces); argument errors keep swift-argument-parser's usage message.
///
/// Under `mpirun` an error on any rank ends the whole job at once (`MPI_Abort`), so the other
/// ranks never wait forever in a collective call for the rank that left.
public func reportingErrors(tool: String, _ body: () throws -> Void) throws {
    do { try body() } catch let error as ExitCode {
        throw error
    } catch let error as ValidationError {
        if let group = distributedGroup() {
            writeStandardError("\(tool): error (MPI rank \(group.rank) of \(group.size)): \(error.message)\n")
            group.abort(code: 64)
        }
        throw error
    } catch {
        if let group = distributedGroup() {
            writeStandardError("\(tool): error (MPI rank \(group.rank) of \(group.size)): \(error)\n")
            group.abort(code: 1)
        }
        writeStandardError("\(tool): error: \(error)\n")
        throw ExitCode.failure
    }
}

/// The MPI job this process belongs to, if `mpirun` started it with more than one rank.
private func distributedGroup() -> ProcessGroup? {
    guard ProcessGroup.startedByMPI else { return nil }
    let group = ProcessGroup.world
    return group.isDistributed ? group : nil
}

extension CellKind: ExpressibleByArgument {}

/// `--cell`, `--layers` and `--dropout-layer` of `lm train` and `kws train`: which recurrent cell,
/// how many stacked layers, and the dropout between them.
public struct CellOptions: ParsableArguments {
    @Option(help: "Recurrent cell: lem (the paper's), lstm, gru (as PyTorch's nn.LSTM / nn.GRU) or lru (Orvieto et al. 2023's residual LRU blocks); default lem.")
    public var cell: CellKind?
    @Option(help: "Stacked recurrent layers (default 1).")
    public var layers: Int?
    @Option(name: .customLong("dropout-layer"), help: "Locked dropout between stacked layers (default 0).")
    public var dropoutLayer: Float?

    public init() {}

    public mutating func validate() throws {
        if let layers, !(1...CellKind.maximumLayers).contains(layers) {
            throw ValidationError("--layers must be from 1 to \(CellKind.maximumLayers) (got \(layers))")
        }
        if let dropoutLayer, !(dropoutLayer >= 0 && dropoutLayer < 1) {
            throw ValidationError("--dropout-layer must be in [0, 1) (got \(dropoutLayer))")
        }
    }

    /// What the flags ask for (the task libraries' form).
    public var architecture: Architecture { Architecture(cell: cell, layers: layers, dropoutLayer: dropoutLayer) }
}

/// How long a training run goes and how it keeps its state: the flags `lm train` and `kws train`
/// share (`--max-minutes`, `--max-steps`, `--save-every`, `--seed`, `--resume`).
public struct RunOptions: ParsableArguments {
    @Option(name: .customLong("max-minutes"), help: "Stop (resumably) after this many minutes of training.")
    public var maxMinutes: Double?
    @Option(name: .customLong("max-steps"), help: "Stop (resumably) after this many optimizer steps (smoke tests).")
    public var maxSteps: Int?
    @Option(name: .customLong("save-every"), help: "Minutes between resumable saves within an epoch (a kill loses at most this much).")
    public var saveEvery: Double = 10
    @Option(name: .customLong("save-every-steps"), help: ArgumentHelp("Also save the resumable state every this many steps.", visibility: .hidden))
    public var saveEverySteps: Int?
    @Option(help: "Random seed (initialisation, data order, dropout).")
    public var seed: UInt64 = 1
    @Flag(help: "Continue from <checkpoint>.resume.")
    public var resume = false

    public init() {}

    public mutating func validate() throws {
        if let maxMinutes, !(maxMinutes > 0) { throw ValidationError("--max-minutes must be positive") }
        if let maxSteps, maxSteps < 1 { throw ValidationError("--max-steps must be at least 1 (got \(maxSteps))") }
        if !(saveEvery > 0) { throw ValidationError("--save-every must be positive") }
        if let saveEverySteps, saveEverySteps < 1 { throw ValidationError("--save-every-steps must be at least 1") }
    }

    /// What the flags ask for (the task libraries' form).
    public var limits: RunLimits {
        RunLimits(maxMinutes: maxMinutes, maxSteps: maxSteps, saveEveryMinutes: saveEvery, saveEverySteps: saveEverySteps)
    }
}
