import ArgumentParser
import Foundation
import LEMModel
import LanguageModelling
import TaskSupport
import ToolSupport
import Text

extension LM {
    struct Bench: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Measure training and sampling speed (random data, paper's shapes).",
            discussion: """
                Configurations (the paper's, docs/MODEL.md):
                  word         vocab 10,000, embedding 256 tied, hidden 256, batch 64, BPTT 70
                  char         vocab 50, embedding 200, hidden 1024, batch 128, BPTT 150
                  sample-word  word model, one token at a time, batch 1
                  sample-char  char model, one token at a time, batch 1
                  sgemm        2048³ sgemm through the same BLAS (the machine's peak)
                Training = forward + backward + Adam step, steady state. Each training
                configuration runs in its own process so its peak resident memory is its own.
                GFLOP/s counts the matrix products of forward and backward
                (18.5 / 30.4 MFLOP per token).

                Examples:
                  lm bench
                  lm bench --json
                  lm bench --config word --seconds 20
                  lm bench --cell lstm      # the same shapes through nn.LSTM's equations
                  lm bench --short          # tiny sizes, a few seconds (CI)
                  lm bench --ranks 2        # also 2 MPI ranks × 1 thread per training row
                  lm bench --config sample-word --int8   # sampling with int8 products
                """)

        @Option(help: "Run only this configuration: word, char, sample-word, sample-char, sgemm.") var config: String?
        @Option(help: "Recurrent cell of the word, char and sample configurations: lem, lstm, gru or lru.") var cell: CellKind = .lem
        @OptionGroup var options: BenchOptions
        @OptionGroup var precision: PrecisionOption

        static let configs = ["sgemm", "word", "char", "sample-word", "sample-char"]

        mutating func validate() throws {
            if let config, !Self.configs.contains(config) {
                throw ValidationError("--config must be one of \(Self.configs.joined(separator: ", "))")
            }
            if precision.int8, config == nil || ["word", "char", "sgemm"].contains(config!) {
                throw ValidationError("--int8 applies to --config sample-word or sample-char (training runs in float)")
            }
        }

        func run() throws {
            try reportingErrors {
                try options.run(tool: "lm", config: config, configurations: Self.configs, arguments: ["--cell", cell.rawValue],
                                distributable: ["word", "char"], measure: measure, describe: describe)
            }
        }

        func describe(_ r: [String: Any]) -> String {
            var name = r["config"] as? String ?? "?"
            if let cell = r["cell"] as? String, cell != "lem" { name += " (\(cell))" }
            if r["precision"] as? String == "int8" { name += " int8" }
            if let ranks = r["ranks"] as? Int { name += " ×\(ranks) ranks" }
            var parts: [String] = []
            if let v = r["tokens_per_s"] as? Double { parts.append("\(formatCount(v)) tokens/s") }
            if let v = r["gflops"] as? Double { parts.append(String(format: "%.1f GFLOP/s", v)) }
            if let v = r["ms_per_step"] as? Double { parts.append(String(format: "%.1f ms/step", v)) }
            if let v = r["peak_rss_mb"] as? Double { parts.append(String(format: "peak RSS %.0f MB", v)) }
            if let v = r["allreduce_ms_per_step"] as? Double, let mb = r["gradient_mb"] as? Double {
                parts.append(String(format: "allreduce %.2f ms/step (%.1f MB)", v, mb))
            }
            return "\(name.padding(toLength: max(12, name.count), withPad: " ", startingAt: 0)) " + parts.joined(separator: ", ")
        }

        struct Shape { var vocab, embedding, hidden, batch, bptt: Int; var tied: Bool }

        func shape(_ config: String) -> Shape {
            if options.short { return Shape(vocab: 100, embedding: 16, hidden: 16, batch: 4, bptt: 8, tied: config.hasSuffix("word")) }
            return config.hasSuffix("word")
                ? Shape(vocab: 10_000, embedding: 256, hidden: 256, batch: 64, bptt: 70, tied: true)
                : Shape(vocab: 50, embedding: 200, hidden: 1024, batch: 128, bptt: 150, tied: false)
        }

        /// Forward + backward matrix-product FLOPs per token (3 × forward): the recurrent layer's
        /// products and the decoder.
        func flopsPerToken(_ s: Shape) -> Double {
            6 * Double(cell.productMultiplyAdds(inputSize: s.embedding, hiddenSize: s.hidden) + s.hidden * s.vocab)
        }

        func measure(_ config: String) throws -> [[String: Any]] {
            let duration = options.duration
            switch config {
            case "sgemm":
                let n = options.short ? 256 : 2048
                return [["config": "sgemm", "gflops": sgemmGFLOPS(n: n), "n": n, "blas": blasCoreName(), "threads": blasThreadCount()]]
            case "word", "char":
                let s = shape(config)
                let model = makeModel(s, preset: config == "word" ? .ptbWord : .ptbChar)
                // Under mpirun (`--ranks`) each rank trains its share of the batch's streams and
                // the gradients are summed over the ranks every step, as in `lm train`.
                let group = ProcessGroup.world
                let mine = group.share(of: s.batch)
                var rng = RandomGenerator(seed: 2, stream: UInt64(group.rank))
                let tokens = (0..<(mine.count * s.bptt)).map { _ in Int32(rng.below(s.vocab)) }
                let targets = (0..<(mine.count * s.bptt)).map { _ in Int32(rng.below(s.vocab)) }
                var state = model.initialState(batch: mine.count)
                let adam = Optimizer(settings: OptimizerSettings(kind: .adam), parameterCount: model.parameters.count)
                let parallel = ParallelLanguageModel(model)   // exactly what `lm train` runs
                var allreduceSeconds = 0.0, steps = 0
                let perStep = Benchmarking.time(group: group, warmup: 2, minimumRuns: options.short ? 1 : 3, minimumSeconds: duration) {
                    _ = parallel.trainStep(tokens: tokens, targets: targets, steps: s.bptt, batch: mine.count, state: &state, rng: &rng,
                                           firstStream: mine.lowerBound)
                    let t0 = monotonicSeconds()
                    group.averageGradients(model.parameters, localCount: Double(mine.count), totalCount: Double(s.batch))
                    allreduceSeconds += monotonicSeconds() - t0
                    steps += 1
                    clipGradientNorm(model.parameters, maxNorm: 1)
                    adam.step(model.parameters, learningRate: 1e-3)
                }
                let tokensPerSecond = Double(s.batch * s.bptt) / perStep
                var row: [String: Any] = ["config": config, "cell": cell.rawValue, "tokens_per_s": tokensPerSecond,
                                          "gflops": tokensPerSecond * flopsPerToken(s) / 1e9,
                                          "ms_per_step": perStep * 1000, "peak_rss_mb": Benchmarking.peakRSSMegabytes(),
                                          "batch": s.batch, "bptt": s.bptt, "hidden": s.hidden, "vocab": s.vocab,
                                          "gradient_mb": Double(model.parameters.count * 4) / 1e6]
                if group.isDistributed {
                    row["ranks"] = group.size
                    row["threads_per_rank"] = workerCount
                    row["allreduce_ms_per_step"] = 1000 * allreduceSeconds / Double(max(steps, 1))
                }
                return [row]
            default:   // sample-word, sample-char
                let s = shape(config)
                let model = makeModel(s, preset: config == "sample-word" ? .ptbWord : .ptbChar)
                if precision.int8 { model.quantizeForInference() }
                var state = model.initialState(batch: 1)
                var rng = RandomGenerator(seed: 3)
                var order = [Int](repeating: 0, count: s.vocab)
                var token: Int32 = 0
                let count = options.short ? 20 : 500
                let perRun = Benchmarking.time(warmup: 1, minimumRuns: 1, minimumSeconds: duration) {
                    for _ in 0..<count {
                        let logits = model.nextTokenLogits(after: &token, batch: 1, state: &state)
                        token = sampleToken(logits: logits, count: s.vocab, temperature: 1, topK: 0, order: &order, rng: &rng)
                    }
                }
                return [["config": config, "cell": cell.rawValue, "precision": precision.int8 ? "int8" : "float",
                         "tokens_per_s": Double(count) / perRun, "hidden": s.hidden, "vocab": s.vocab]]
            }
        }

        func makeModel(_ s: Shape, preset: LanguageModelPreset) -> LanguageModel {
            let h = Hyperparameters.preset(preset)
            var config = LanguageModelConfig(vocabularySize: s.vocab, embeddingSize: s.embedding, hiddenSize: s.hidden, tied: s.tied)
            config.inputDropout = h.inputDropout
            config.outputDropout = h.outputDropout
            config.stateDropout = h.stateDropout
            config.cell = cell
            let model = LanguageModel(config: config)
            var rng = RandomGenerator(seed: 1)
            model.initialize(&rng)
            return model
        }
    }
}
