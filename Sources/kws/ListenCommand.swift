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

                A checkpoint that carries a decision layer (kws eval-stream --sweep
                --save-decision) sets the thresholds, averaging, cooldown, consecutive windows
                and energy gate chosen on a validation stream; flags override them.
                --save-detections DIR keeps the audio of every detection, to retrain on false
                wakes (kws train --hard-negatives DIR).

                Standard input ("-") is raw PCM at the model's rate (--format s16 or f32,
                --channels); files are anything libsndfile reads, resampled as needed.

                Examples:
                  arecord -f S16_LE -r 16000 -c 1 | kws listen --checkpoint g12.ckpt -
                  kws listen --checkpoint g12.ckpt meeting.wav --threshold 0.7 \\
                      --threshold yes=0.85 --json
                  kws listen --checkpoint alexa.ckpt - --save-detections wakes/
                """)

        @OptionGroup var checkpoint: CheckpointOption
        @OptionGroup var precision: PrecisionOption
        @Argument(help: ArgumentHelp("A file, or - for raw PCM on standard input.", valueName: "input")) var input: String
        @Option(help: "Sample rate of raw PCM on standard input (must be the model's).") var rate: Int?
        @Option(help: "Raw PCM sample format on standard input: s16 or f32 (little-endian).") var format: PCMInput.Format = .s16
        @Option(help: "Interleaved channels of raw PCM on standard input (mixed to mono).") var channels: Int = 1
        @Option(parsing: .singleValue, help: ArgumentHelp("Detection threshold (default 0.5), or label=threshold for one keyword; repeatable.", valueName: "t"))
        var threshold: [String] = []
        @Option(name: .customLong("stride-ms"), help: "Milliseconds between windows (default: 80 for speech-embedding models, openWakeWord's cadence; else 100).") var strideMs: Int?
        @Option(name: .customLong("average-ms"), help: "Posteriors averaged over this many ms of windows (default: the checkpoint's decision layer, else 1000).") var averageMs: Double?
        @Option(name: .customLong("suppress-ms"), help: "After a detection, the same keyword cannot fire again for this long.") var suppressMs: Double = 500
        @Option(name: .customLong("cooldown-ms"), help: "Nothing fires for this long after any firing (default: the checkpoint's decision layer, else 0: TensorFlow's rule).") var cooldownMs: Double?
        @Option(help: "Windows in a row above the threshold before a keyword fires (default: the checkpoint's, else 1).") var consecutive: Int?
        @Option(name: .customLong("energy-gate-db"), help: ArgumentHelp("Windows quieter than this RMS level (dBFS) count as silence, e.g. --energy-gate-db=-50 (default: the checkpoint's, else none).", valueName: "dB")) var energyGateDB: Double?
        @Option(name: .customLong("save-detections"), help: ArgumentHelp("Write the 1 s window of every detection to this folder as a WAV (collect false wakes for kws train --hard-negatives).", valueName: "dir")) var saveDetections: String?
        @Flag(help: "JSON lines.") var json = false

        func thresholds(labels: [String], saved: [String: Float] = [:]) throws -> (Float, [String: Float]) {
            var global: Float = 0.5, perClass: [String: Float] = threshold.isEmpty ? saved : [:]
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
            if let strideMs, strideMs < 1 { throw ValidationError("--stride-ms must be at least 1") }
            if channels < 1 || channels > 64 { throw ValidationError("--channels must be from 1 to 64") }
            if let consecutive, consecutive < 1 || consecutive > 100 { throw ValidationError("--consecutive must be from 1 to 100") }
            if let cooldownMs, !(cooldownMs >= 0 && cooldownMs.isFinite) { throw ValidationError("--cooldown-ms must be a number ≥ 0") }
            if let energyGateDB, !(energyGateDB.isFinite && energyGateDB <= 0) { throw ValidationError("--energy-gate-db is a level in dBFS: a number ≤ 0, e.g. -50") }
            if input != "-" && rate != nil { throw ValidationError("--rate is for raw PCM on standard input; a file says its own rate") }
        }

        func run() throws {
            try reportingErrors {
                let spotter = try KeywordSpotter(checkpoint: checkpoint.checkpoint, int8: precision.int8)
                let modelRate = spotter.tool.dataset.sampleRate
                let decision = spotter.tool.detection
                let (global, perClass) = try thresholds(labels: spotter.tool.labels, saved: decision?.thresholds ?? [:])
                var recognizer = CommandRecognizer(labels: spotter.tool.labels, threshold: global, perClass: perClass,
                                                   averageMs: averageMs ?? decision?.averageMs ?? 1000, suppressMs: suppressMs)
                recognizer.cooldownMs = cooldownMs ?? decision?.cooldownMs ?? 0
                recognizer.consecutive = consecutive ?? decision?.consecutive ?? 1
                let gate = energyGateDB ?? decision?.energyGateDB
                let silent = silenceScores(labels: spotter.tool.labels)
                if let decision, threshold.isEmpty {
                    writeStandardError("kws listen: the checkpoint's decision layer: \(decision.summary)\n")
                }
                if let saveDetections {
                    do { try FileManager.default.createDirectory(atPath: saveDetections, withIntermediateDirectories: true) } catch {
                        throw ToolError(description: "\(saveDetections): cannot create the folder (\(error.localizedDescription))")
                    }
                }
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
                let scan = try scanWindows(read: read, spotter: spotter, strideMs: strideMs ?? spotter.defaultStrideMs, batch: 1,
                                           shouldStop: { InterruptHandler.requested != nil }) { w in
                    let t0 = monotonicSeconds()
                    let quiet = gate.map { w.levelDB < $0 } ?? false
                    let detection = recognizer.process(time: Double(w.end) * 1000 / Double(modelRate), scores: quiet ? silent : w.scores)
                    if let d = detection, let folder = saveDetections {
                        try writeWAV(path: String(format: "%@/%@-%010.3f.wav", folder, d.label, d.time), samples: w.samples, sampleRate: modelRate)
                    }
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
