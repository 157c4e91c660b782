import ArgumentParser
import Audio
import Foundation
import KeywordSpotting
import LEMModel
import TaskSupport
import ToolSupport

extension PCMInput.Format: ExpressibleByArgument {}

extension KWS {
    struct Listen: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Spot keywords in a live stream (standard input or a file) as they are spoken.",
            discussion: """
                Slides 1 s windows over the audio every --stride-ms and applies TensorFlow's
                RecognizeCommands post-processing (posteriors averaged over --average-ms, a
                --threshold, per-keyword thresholds, --suppress-ms so one word fires once).
                Prints one line per detection as it happens (time in seconds, label, score;
                --json: JSON lines with keys time, label, score, latency_ms), flushed at once.
                Memory stays bounded for an endless stream; Ctrl-C ends with a summary.

                Standard input ("-") is raw PCM at the model's rate (--format s16 or f32,
                --channels); files are anything libsndfile reads, resampled as needed.

                Examples:
                  arecord -f S16_LE -r 16000 -c 1 | kws listen --checkpoint g12.ckpt -
                  kws listen --checkpoint g12.ckpt meeting.wav --threshold 0.7 \\
                      --threshold yes=0.85 --json
                """)

        @OptionGroup var checkpoint: CheckpointOption
        @OptionGroup var precision: PrecisionOption
        @Argument(help: ArgumentHelp("A file, or - for raw PCM on standard input.", valueName: "input")) var input: String
        @Option(help: "Sample rate of raw PCM on standard input (must be the model's).") var rate: Int?
        @Option(help: "Raw PCM sample format on standard input: s16 or f32 (little-endian).") var format: PCMInput.Format = .s16
        @Option(help: "Interleaved channels of raw PCM on standard input (mixed to mono).") var channels: Int = 1
        @Option(parsing: .singleValue, help: ArgumentHelp("Detection threshold (default 0.5), or label=threshold for one keyword; repeatable.", valueName: "t"))
        var threshold: [String] = []
        @Option(name: .customLong("stride-ms"), help: "Milliseconds between windows.") var strideMs: Int = 100
        @Option(name: .customLong("average-ms"), help: "Posteriors averaged over this many ms of windows.") var averageMs: Double = 1000
        @Option(name: .customLong("suppress-ms"), help: "After a detection, the same keyword cannot fire again for this long.") var suppressMs: Double = 500
        @Flag(help: "JSON lines.") var json = false

        func thresholds(labels: [String]) throws -> (Float, [String: Float]) {
            var global: Float = 0.5, perClass: [String: Float] = [:]
            for item in threshold {
                let parts = item.split(separator: "=", maxSplits: 1).map(String.init)
                guard let value = Float(parts.last!), value > 0, value < 1 else { throw ValidationError("--threshold \(item): a threshold must be in (0, 1)") }
                if parts.count == 2 {
                    guard labels.contains(parts[0]), !CommandRecognizer.background.contains(parts[0]) else {
                        throw ValidationError("--threshold \(item): \(parts[0]) is not one of the model's keywords (\(labels.filter { !CommandRecognizer.background.contains($0) }.joined(separator: ", ")))")
                    }
                    perClass[parts[0]] = value
                } else { global = value }
            }
            return (global, perClass)
        }

        mutating func validate() throws {
            if strideMs < 1 { throw ValidationError("--stride-ms must be at least 1") }
            if channels < 1 || channels > 64 { throw ValidationError("--channels must be from 1 to 64") }
            if input != "-" && rate != nil { throw ValidationError("--rate is for raw PCM on standard input; a file says its own rate") }
        }

        func run() throws {
            try reportingErrors {
                let spotter = try KeywordSpotter(checkpoint: checkpoint.checkpoint, int8: precision.int8)
                let modelRate = spotter.tool.dataset.sampleRate
                let (global, perClass) = try thresholds(labels: spotter.tool.labels)
                var recognizer = CommandRecognizer(labels: spotter.tool.labels, threshold: global, perClass: perClass,
                                                   averageMs: averageMs, suppressMs: suppressMs)
                let read: (Int) throws -> [Float]
                if input == "-" {
                    if let rate, rate != modelRate { throw ValidationError("--rate \(rate): the model takes \(modelRate) Hz; resample upstream (e.g. arecord -r \(modelRate))") }
                    let pcm = PCMInput(format: format, channels: channels)
                    read = { try pcm.read(maximum: $0) }
                } else {
                    let stream = try AudioStream(path: input, outputRate: modelRate)
                    read = { try stream.read(maximum: $0) }
                }
                InterruptHandler.install()
                defer { InterruptHandler.uninstall() }
                var detections = 0, busy = 0.0
                // The first window waits for a whole second of audio; then one every stride, each
                // answered as soon as it is complete (batch 1).
                let scan = try scanWindows(read: read, spotter: spotter, strideMs: strideMs, batch: 1,
                                           shouldStop: { InterruptHandler.requested != nil }) { w in
                    let t0 = monotonicSeconds()
                    let detection = recognizer.process(time: Double(w.end) * 1000 / Double(modelRate), scores: w.scores)
                    let latency = (w.passSeconds + monotonicSeconds() - t0) * 1000
                    busy += latency
                    if let d = detection {
                        detections += 1
                        if json {
                            print(jsonLine(["time": d.time, "label": d.label, "score": Double(d.score), "latency_ms": latency]))
                        } else {
                            print(String(format: "%8.2f s  %@  %.3f  (%.1f ms)", d.time, d.label, Double(d.score), latency))
                        }
                        fflush(nil)   // every stream: the line is out as the word is heard
                    }
                }
                let windows = scan.windows
                let seconds = Double(scan.samples) / Double(modelRate)
                writeStandardError(String(format: "kws listen: %.1f s of audio, %d windows, %d detections, %.2f ms per window%@\n", seconds, windows,
                                          detections, busy / Double(max(windows, 1)), InterruptHandler.requested != nil ? " (interrupted)" : ""))
            }
        }
    }
}
