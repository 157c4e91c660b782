import ArgumentParser
import Audio
import Foundation
import KeywordSpotting
import LEMModel
import TaskSupport
import ToolSupport

extension KWS {
    struct Bench: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Measure keyword-spotting training, feature and classification speed.",
            discussion: """
                Configurations:
                  kws       training (forward + backward + Adam) on random features of
                            the paper's shape: 80 features × 126 frames, hidden 128,
                            batch 100, 12 classes
                  mfcc      MFCC extraction of 1 s clips at 16 kHz on all cores (clips/s)
                  classify  one 1 s WAV through decoding, features and the model
                            (latency), and a batch of 100 WAVs (clips/s)
                  listen    kws eval-stream's scan (what kws listen does on a recorded
                            file) over a 60-minute stream, 1 s windows every 100 ms:
                            real-time factor, for the paper's log-mel model (80 × 126,
                            hidden 128) and a 40 × 101 MFCC one (random weights)
                  sgemm     2048³ sgemm through the same BLAS (the machine's peak)
                Each configuration runs in its own process (its own peak resident memory).

                Examples:
                  kws bench
                  kws bench --json
                  kws bench --short      # tiny sizes, seconds (CI)
                  kws bench --ranks 2    # also 2 MPI ranks × 1 thread for the training row
                  kws bench --cell lstm  # the paper's LSTM baseline at the same shapes
                  kws bench --config classify --int8   # classify and listen in int8
                """)

        @Option(help: "Run only this configuration: kws, mfcc, classify, listen, sgemm.") var config: String?
        @Option(help: "Recurrent cell of the kws and classify configurations: lem, lstm, gru or lru.") var cell: CellKind = .lem
        @OptionGroup var options: BenchOptions
        @OptionGroup var precision: PrecisionOption

        static let configs = ["sgemm", "kws", "mfcc", "speech-embedding", "classify", "listen"]

        mutating func validate() throws {
            if let config, !Self.configs.contains(config) { throw ValidationError("--config must be one of \(Self.configs.joined(separator: ", "))") }
            if precision.int8, config == nil || ["kws", "mfcc", "sgemm"].contains(config!) {
                throw ValidationError("--int8 applies to --config classify or listen (training and features run in float)")
            }
        }

        func run() throws {
            try reportingErrors {
                try options.run(tool: "kws", config: config, configurations: Self.configs, arguments: ["--cell", cell.rawValue],
                                distributable: ["kws"], measure: measure, describe: describe)
            }
        }

        func describe(_ r: [String: Any]) -> String {
            var parts: [String] = []
            if let v = r["frames_per_s"] as? Double { parts.append("\(formatCount(v)) frames/s") }
            if let v = r["clips_per_s"] as? Double { parts.append("\(formatCount(v)) clips/s") }
            if let v = r["embeddings_per_s"] as? Double { parts.append("\(formatCount(v)) embeddings/s") }
            if let v = r["latency_ms"] as? Double { parts.append(String(format: "%.2f ms per clip (batch 1, WAV + features + model)", v)) }
            if let v = r["real_time_factor"] as? Double, let minutes = r["stream_minutes"] as? Double, let ms = r["ms_per_window"] as? Double {
                parts.append(String(format: "%.0fx real time (%.3f ms per window, %@ features, %g-minute stream, stride %d ms)", v, ms,
                                    r["features"] as? String ?? "?", minutes, r["stride_ms"] as? Int ?? 0))
            }
            if let v = r["gflops"] as? Double { parts.append(String(format: "%.1f GFLOP/s", v)) }
            if let v = r["peak_rss_mb"] as? Double { parts.append(String(format: "peak RSS %.0f MB", v)) }
            if let v = r["allreduce_ms_per_step"] as? Double, let mb = r["gradient_mb"] as? Double {
                parts.append(String(format: "allreduce %.2f ms/step (%.2f MB)", v, mb))
            }
            let cell = (r["cell"] as? String).flatMap { $0 == "lem" ? nil : " \($0)" } ?? ""
            let int8 = r["precision"] as? String == "int8" ? " int8" : ""
            let name = (r["config"] as? String ?? "?") + cell + int8 + ((r["mode"] as? String).map { " (\($0))" } ?? "")
                + ((r["ranks"] as? Int).map { " ×\($0) ranks" } ?? "")
            return name.padding(toLength: 18, withPad: " ", startingAt: 0) + parts.joined(separator: ", ")
        }

        var precisionName: String { precision.int8 ? "int8" : "float" }

        func measure(_ config: String) throws -> [[String: Any]] {
            let duration = options.duration
            switch config {
            case "sgemm":
                let n = options.short ? 256 : 2048
                return [["config": "sgemm", "gflops": sgemmGFLOPS(n: n), "n": n, "blas": blasCoreName(), "threads": blasThreadCount()]]
            case "kws":
                let (T, B, m, d, C) = options.short ? (10, 8, 8, 8, 12) : (126, 100, 80, 128, 12)
                let model = SequenceClassifier(config: {
                    var c = SequenceClassifierConfig(inputSize: m, hiddenSize: d, classCount: C)
                    c.inputDropout = 0.03
                    c.cell = cell
                    return c
                }())
                var rng = RandomGenerator(seed: 1)
                model.initialize(&rng)
                // Under mpirun (`--ranks`) each rank trains its share of the batch's clips and the
                // gradients are summed over the ranks every step, as in `kws train`.
                let group = ProcessGroup.world
                let mine = group.share(of: B)
                let x = (0..<(T * mine.count * m)).map { _ in rng.normal() }
                let y = (0..<mine.count).map { _ in Int32(rng.below(C)) }
                let parallel = ParallelSequenceClassifier(model)
                let adam = Optimizer(settings: OptimizerSettings(kind: .adam), parameterCount: model.parameters.count)
                var allreduceSeconds = 0.0, steps = 0
                let perStep = Benchmarking.time(group: group, warmup: 2, minimumRuns: options.short ? 1 : 5, minimumSeconds: duration) {
                    _ = parallel.trainStep(features: x, labels: y, steps: T, batch: mine.count, rng: &rng, firstStream: mine.lowerBound)
                    let t0 = monotonicSeconds()
                    group.averageGradients(model.parameters, localCount: Double(mine.count), totalCount: Double(B))
                    allreduceSeconds += monotonicSeconds() - t0
                    steps += 1
                    adam.step(model.parameters, learningRate: 1e-3)
                }
                let frames = Double(T * B) / perStep
                let flopsPerFrame = 6 * Double(cell.productMultiplyAdds(inputSize: m, hiddenSize: d))
                var row: [String: Any] = ["config": "kws", "cell": cell.rawValue, "frames_per_s": frames, "gflops": frames * flopsPerFrame / 1e9,
                                          "ms_per_step": perStep * 1000, "peak_rss_mb": Benchmarking.peakRSSMegabytes(), "batch": B, "frames": T,
                                          "hidden": d, "features": m, "gradient_mb": Double(model.parameters.count * 4) / 1e6]
                if group.isDistributed {
                    row["ranks"] = group.size
                    row["threads_per_rank"] = workerCount
                    row["allreduce_ms_per_step"] = 1000 * allreduceSeconds / Double(max(steps, 1))
                }
                return [row]
            case "mfcc":
                let extractor = try FeatureExtractor(settings: .mfcc)
                var rng = RandomGenerator(seed: 2)
                let clips = (0..<(options.short ? 8 : 512)).map { _ in (0..<16000).map { _ in rng.normal() * 0.1 } }
                let perRun = Benchmarking.time(warmup: 1, minimumRuns: 1, minimumSeconds: duration) { _ = extractor.computeContiguous(clips) }
                return [["config": "mfcc", "clips_per_s": Double(clips.count) / perRun, "features": "mfcc 40 × 101"]]
            case "speech-embedding":
                // The native openWakeWord front end: mel + Google's speech_embedding, 3 embeddings per 1 s clip, all cores.
                let extractor = try FeatureExtractor(settings: .speechEmbedding)
                let network = try SpeechEmbedding()
                var rng = RandomGenerator(seed: 2)
                let clips = (0..<(options.short ? 4 : 128)).map { _ in (0..<16000).map { _ in rng.normal() * 0.1 } }
                let perRun = Benchmarking.time(warmup: 1, minimumRuns: 1, minimumSeconds: duration) { _ = extractor.computeContiguous(clips) }
                let embeddings = Double(clips.count * 3) / perRun
                return [["config": "speech-embedding", "clips_per_s": Double(clips.count) / perRun, "embeddings_per_s": embeddings,
                         "gflops": embeddings * 2 * Double(network.multiplyAdds) / 1e9, "features": "speech-embedding 3 × 96", "threads": workerCount]]
            case "listen":
                return try [FeatureSettings.Kind.logmel, .mfcc].map { try measureListen(features: $0) }
            default:   // classify
                let dir = NSTemporaryDirectory() + "kws-bench-\(getpid())"
                try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
                defer { try? FileManager.default.removeItem(atPath: dir) }
                var rng = RandomGenerator(seed: 3)
                let count = options.short ? 4 : 100
                let paths = try (0..<count).map { i -> String in
                    let path = "\(dir)/clip\(i).wav"
                    try writeWAV(path: path, samples: (0..<16000).map { _ in rng.normal() * 0.1 }, sampleRate: 16000)
                    return path
                }
                let extractor = try FeatureExtractor(settings: .mfcc)
                var config = SequenceClassifierConfig(inputSize: extractor.featureCount, hiddenSize: options.short ? 8 : 128, classCount: 12)
                config.cell = cell
                let model = SequenceClassifier(config: config)
                model.initialize(&rng)
                if precision.int8 { model.quantizeForInference() }
                let normalizer = FeatureNormalizer.identity(featureCount: extractor.featureCount)
                var index = 0
                let one = Benchmarking.time(warmup: 3, minimumRuns: 10, minimumSeconds: duration) {
                    var x = extractor.compute(try! loadClip(path: paths[index % count]))
                    normalizer.apply(&x)
                    let logits = model.logits(features: x, steps: extractor.frameCount, batch: 1)
                    softmaxInPlace(logits, count: 12)
                    index += 1
                }
                _ = try loadClip(path: paths[0])
                let batch = Benchmarking.time(warmup: 1, minimumRuns: 1, minimumSeconds: duration) {
                    let clips = paths.map { try! loadClip(path: $0) }
                    var features = extractor.computeContiguous(clips)
                    normalizer.apply(&features)
                    // [clips, T, F] → [T, clips, F]
                    let (T, F) = (extractor.frameCount, extractor.featureCount)
                    var x = [Float](repeating: 0, count: features.count)
                    for c in 0..<count { for t in 0..<T { for f in 0..<F { x[(t * count + c) * F + f] = features[(c * T + t) * F + f] } } }
                    _ = model.logits(features: x, steps: T, batch: count)
                }
                return [["config": "classify", "cell": cell.rawValue, "precision": precisionName, "latency_ms": one * 1000, "clips_per_s": Double(count) / batch, "batch": count]]
            }
        }
    
        /// The stream scan of `kws eval-stream` / `kws listen` on a file: a generated stream (noise
        /// with tone bursts) through `scanWindows` with a randomly initialised model of the paper's
        /// shape, written as a checkpoint so that the real loading path runs too.
        func measureListen(features kind: FeatureSettings.Kind) throws -> [String: Any] {
            let dir = NSTemporaryDirectory() + "kws-bench-listen-\(getpid())"
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: dir) }
            let settings = FeatureSettings.preset(kind)
            var config = SequenceClassifierConfig(inputSize: settings.featureCount, hiddenSize: options.short ? 8 : 128, classCount: 12)
            config.cell = cell
            let model = SequenceClassifier(config: config)
            var rng = RandomGenerator(seed: 4)
            model.initialize(&rng)
            let tool = KWSToolData(labels: SpeechCommands.google12Labels, features: settings, normalizer: .identity(featureCount: settings.featureCount),
                                   dataset: SpeechCommandsOptions(), data: "(kws bench)")
            try Checkpoint(kind: "kws", model: config, tool: tool, parameters: model.parameters).write(to: dir + "/bench.ckpt")
            let minutes = options.short ? 0.1 : 60
            let rate = 16000, total = Int(minutes * 60) * rate
            var stream = [Float](repeating: 0, count: total)
            for i in 0..<total {
                let burst: Float = i % 32000 < 8000 ? 0.2 * Float(sin(Double(i) * 0.15)) : 0   // a 0.5 s tone every 2 s
                stream[i] = rng.normal() * 0.02 + burst
            }
            try writeAudio(path: dir + "/stream.wav", interleaved: stream, channels: 1, sampleRate: rate)
            let spotter = try KeywordSpotter(checkpoint: dir + "/bench.ckpt", int8: precision.int8)
            var recognizer = CommandRecognizer(labels: tool.labels, threshold: 0.5)
            let strideMs = 100
            let audio = try AudioStream(path: dir + "/stream.wav", outputRate: rate)
            let scan = try scanWindows(read: { try audio.read(maximum: $0) }, spotter: spotter, strideMs: strideMs) { w in
                _ = recognizer.process(time: Double(w.end) * 1000 / Double(rate), scores: w.scores)
            }
            return ["config": "listen", "mode": kind.rawValue, "precision": precisionName, "features": "\(settings.featureCount) × \(settings.frames)", "cell": cell.rawValue,
                    "real_time_factor": minutes * 60 / scan.seconds, "ms_per_window": 1000 * scan.seconds / Double(scan.windows),
                    "windows": scan.windows, "stream_minutes": minutes, "stride_ms": strideMs, "hidden": config.hiddenSize,
                    "peak_rss_mb": Benchmarking.peakRSSMegabytes()]
        }
    }
}
