import ArgumentParser
import Foundation
import LEMModel
import SequenceModelling
import TaskSupport
import ToolSupport

extension Seq {
    struct Bench: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Measure training speed at each paper task's shape (steps per second, memory).",
            discussion: """
                Configurations: one training step (forward, backward through time, Adam) of the
                authors' model at each task's shape, on random data, as seq train runs it:
                  smnist      784 × 1, hidden 128, batch 128, 10 classes (psmnist: the same)
                  ncifar      1,000 × 96, hidden 128, batch 100, 10 classes
                  eigenworms  17,984 × 6, hidden 32, batch 8, 5 classes
                  heart-rate  4,000 × 2, hidden 128, batch 32, one target
                  fhn         1,000 × 1, hidden 16, batch 32, a target at every step
                  sgemm       2048³ sgemm through the same BLAS (the machine's peak)
                Figures: sequence steps per second (T × B per step time), ms per batch and the
                process's peak resident memory (its own process per configuration).
                tools/reference/bench_pytorch_seq.py measures the authors' PyTorch LEM at the
                same shapes.

                Examples:
                  seq bench
                  seq bench --config eigenworms --seconds 30
                  seq bench --cell gru --json
                  seq bench --short      # tiny sizes, seconds (CI)
                """)

        @Option(help: "Run only this configuration: smnist, ncifar, eigenworms, heart-rate, fhn, sgemm.") var config: String?
        @Option(help: "Recurrent cell: lem, lstm, gru or lru.") var cell: CellKind = .lem
        @OptionGroup var options: BenchOptions

        static let configs = ["sgemm", "smnist", "ncifar", "eigenworms", "heart-rate", "fhn"]

        mutating func validate() throws {
            if let config, !Self.configs.contains(config) { throw ValidationError("--config must be one of \(Self.configs.joined(separator: ", "))") }
        }

        func run() throws {
            try reportingErrors {
                try options.run(tool: "seq", config: config, configurations: Self.configs, arguments: ["--cell", cell.rawValue],
                                measure: measure, describe: describe)
            }
        }

        func describe(_ r: [String: Any]) -> String {
            var parts: [String] = []
            if let v = r["steps_per_s"] as? Double { parts.append("\(formatCount(v)) steps/s") }
            if let v = r["ms_per_batch"] as? Double, let T = r["steps"] as? Int, let B = r["batch"] as? Int {
                parts.append(String(format: "%.1f ms per batch (%d × %d)", v, T, B))
            }
            if let v = r["gflops"] as? Double { parts.append(String(format: "%.1f GFLOP/s", v)) }
            if let v = r["peak_rss_mb"] as? Double { parts.append(String(format: "peak RSS %.0f MB", v)) }
            let cell = (r["cell"] as? String).flatMap { $0 == "lem" ? nil : " \($0)" } ?? ""
            return ((r["config"] as? String ?? "?") + cell).padding(toLength: 16, withPad: " ", startingAt: 0) + parts.joined(separator: ", ")
        }

        func measure(_ config: String) throws -> [[String: Any]] {
            if config == "sgemm" {
                let n = options.short ? 256 : 2048
                return [["config": "sgemm", "gflops": sgemmGFLOPS(n: n), "n": n, "blas": blasCoreName(), "threads": blasThreadCount()]]
            }
            guard let task = PaperTask(rawValue: config) else { throw ValidationError("unknown configuration \(config)") }
            let recipe = SequenceRecipe.authors(task)
            let shape = SequenceBenchShape(task: task, recipe: recipe, short: options.short)
            let perBatch = try SequenceBenchmark(shape: shape, cell: cell).secondsPerBatch(minimumSeconds: options.duration, minimumRuns: options.short ? 1 : 3)
            let steps = Double(shape.steps * shape.batch) / perBatch
            let flopsPerStep = 6 * Double(cell.productMultiplyAdds(inputSize: shape.features, hiddenSize: shape.hidden))
            return [["config": config, "cell": cell.rawValue, "steps_per_s": steps, "ms_per_batch": perBatch * 1000, "gflops": steps * flopsPerStep / 1e9,
                     "steps": shape.steps, "batch": shape.batch, "hidden": shape.hidden, "features": shape.features,
                     "peak_rss_mb": Benchmarking.peakRSSMegabytes(), "threads": blasThreadCount()]]
        }
    }
}
