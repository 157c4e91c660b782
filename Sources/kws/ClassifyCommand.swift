import ArgumentParser
import Audio
import Foundation
import KeywordSpotting
import LEMModel
import TaskSupport
import ToolSupport

extension KWS {
    struct Classify: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Label audio files with a trained keyword spotter.",
            discussion: """
                Each file is read with libsndfile (WAV of any sample format, FLAC, OGG,
                AIFF, …), mixed to mono and resampled to 16 kHz. A clip of up to 1.5 s is
                padded or cut to 1 s and classified. A longer recording is scanned in a
                streaming way, with bounded memory however long it is: 1 s windows every
                --stride-ms, and each run of windows whose most likely label is a keyword
                with probability ≥ --threshold is reported as a detection with its start
                and end time.

                Clips go through the model 64 at a time (features on all cores); results
                are printed in the order of the files. A file that cannot be read gets an
                error line and the others are still processed; the exit status is 1 if any
                file failed.

                Examples:
                  kws classify --checkpoint kws.ckpt yes.wav no.wav
                  kws classify --checkpoint kws.ckpt clips/*.wav --top 3 --json
                  kws classify --checkpoint kws.ckpt clips/*.wav --save-features x.npy
                  kws classify --checkpoint kws.ckpt meeting-1h.wav --stride-ms 250 \\
                      --threshold 0.8
                """)

        @OptionGroup var checkpoint: CheckpointOption
        @OptionGroup var precision: PrecisionOption
        @Option(help: "Show the K most likely labels (single clips).") var top: Int = 1
        @Flag(help: "One JSON object per line: file, label, probability (and top); detections also start, end.") var json = false
        @Option(name: .customLong("stride-ms"), help: "Long recordings: milliseconds between the starts of consecutive 1 s windows.") var strideMs: Int = 250
        @Option(help: "Long recordings: minimum probability of a keyword window.") var threshold: Double = 0.5
        @Option(name: .customLong("save-features"),
                help: ArgumentHelp("Also write the clips' features, as the model reads them before its normaliser ([clips, frames, features], one row per file in order; clips only, and not written if a file fails), to this .npy file: the input of an exported model (kws export).", valueName: "file.npy"))
        var saveFeatures: String?
        @Argument(help: ArgumentHelp("Audio files.", valueName: "file")) var files: [String]

        mutating func validate() throws {
            if top < 1 { throw ValidationError("--top must be at least 1") }
            if strideMs < 10 { throw ValidationError("--stride-ms must be at least 10") }
            if !(threshold >= 0 && threshold <= 1) { throw ValidationError("--threshold must be in [0, 1]") }
        }

        func run() throws {
            var failed = false
            try reportingErrors {
                let spotter = try KeywordSpotter(checkpoint: checkpoint.checkpoint, int8: precision.int8)
                let options = spotter.tool.dataset
                // Clips are classified in batches (features on all cores, one model pass); results
                // are printed in the order of the files, so a batch is flushed before anything else
                // is printed.
                var pending: [(file: String, samples: [Float])] = []
                var features: [Float] = [], featureClips = 0
                func flush() {
                    guard !pending.isEmpty else { return }
                    if saveFeatures != nil {
                        features += spotter.extractor.computeContiguous(pending.map(\.samples))
                        featureClips += pending.count
                    }
                    let probabilities = spotter.probabilities(ofClips: pending.map(\.samples))
                    for (clip, p) in zip(pending, probabilities) { report(clip.file, p, spotter.tool.labels) }
                    pending.removeAll(keepingCapacity: true)
                }
                for file in files {
                    do {
                        let stream = try AudioStream(path: file, outputRate: options.sampleRate)
                        if stream.duration <= 1.5 * Double(options.clipSamples) / Double(options.sampleRate) {
                            pending.append((file, try loadClip(path: file, sampleRate: options.sampleRate, length: options.clipSamples)))
                            if pending.count == Self.clipBatch { flush() }
                        } else if saveFeatures != nil {
                            // The features file has one row per file, in order: a recording cannot be one.
                            throw ToolError(description: "\(file): a recording of \(String(format: "%.1f", stream.duration)) s, not a clip of up to "
                                            + String(format: "%.1f s", 1.5 * Double(options.clipSamples) / Double(options.sampleRate))
                                            + ": --save-features takes clips only")
                        } else {
                            flush()
                            try scanRecording(file, stream, spotter)
                        }
                    } catch {
                        flush()
                        failed = true
                        if json { print(jsonLine(["file": file, "error": "\(error)"])) }
                        writeStandardError("kws: error: \(error)\n")
                    }
                }
                flush()
                if let saveFeatures, failed {
                    writeStandardError("kws classify: --save-features \(saveFeatures) not written: its rows would not match the files (see the errors above)\n")
                } else if let saveFeatures {
                    let shape = [featureClips, spotter.extractor.frameCount, spotter.extractor.featureCount]
                    do { try writeFileAtomically(npyFileBytes(shape: shape, values: features), to: saveFeatures) } catch {
                        throw ToolError(description: "cannot write --save-features \(saveFeatures): \(error)")
                    }
                    writeStandardError("kws classify: features of \(featureClips) clip(s) \(shape) written to \(saveFeatures)\n")
                }
            }
            reportPeakMemoryIfAsked()
            if failed { throw ExitCode.failure }
        }

        /// Clips per model pass (a batch of 64 is about twice as fast per clip as one at a time).
        static let clipBatch = 64

        /// Prints one clip's top classes.
        func report(_ file: String, _ probabilities: [Float], _ labels: [String]) {
            let ranked = probabilities.indices.sorted { probabilities[$0] != probabilities[$1] ? probabilities[$0] > probabilities[$1] : $0 < $1 }
                .prefix(min(top, probabilities.count))
            let best = ranked.first!
            if json {
                var object: [String: Any] = ["file": file, "label": labels[best], "probability": Double(probabilities[best])]
                if top > 1 { object["top"] = ranked.map { ["label": labels[$0], "probability": Double(probabilities[$0])] } }
                print(jsonLine(object))
            } else {
                print("\(file)\t" + ranked.map { String(format: "%@ %.3f", labels[$0], Double(probabilities[$0])) }.joined(separator: "\t"))
            }
        }

        /// Sliding 1 s windows over a long recording, classified in batches; consecutive windows
        /// with the same keyword above the threshold merge into one detection.
        func scanRecording(_ file: String, _ stream: AudioStream, _ spotter: KeywordSpotter) throws {
            let rate = spotter.tool.dataset.sampleRate, clip = spotter.tool.dataset.clipSamples
            let labels = spotter.tool.labels
            let background: Set<String> = ["_silence_", "_unknown_"]
            var current: (label: Int, start: Int, end: Int, probability: Float)?
            var detections = 0

            func emit(_ d: (label: Int, start: Int, end: Int, probability: Float)) {
                detections += 1
                let (s, e) = (Double(d.start) / Double(rate), Double(d.end) / Double(rate))
                if json {
                    print(jsonLine(["file": file, "start": s, "end": e, "label": labels[d.label], "probability": Double(d.probability)]))
                } else {
                    print(String(format: "%@\t%.2f-%.2f s\t%@ %.3f", file, s, e, labels[d.label], Double(d.probability)))
                }
            }
            let scan = try scanWindows(read: { try stream.read(maximum: $0) }, spotter: spotter, strideMs: strideMs, batch: 64) { w in
                let p = w.scores
                let best = p.indices.max { p[$0] < p[$1] }!
                let isKeyword = !background.contains(labels[best]) && Double(p[best]) >= threshold
                if isKeyword, var c = current, c.label == best, w.start <= c.end {
                    c.end = w.start + clip
                    c.probability = max(c.probability, p[best])
                    current = c
                } else {
                    if let c = current { emit(c) }
                    current = isKeyword ? (best, w.start, w.start + clip, p[best]) : nil
                }
            }
            if let c = current { emit(c) }
            let windows = scan.windows
            if detections == 0 {
                let duration = Double(scan.samples) / Double(rate)
                if json {
                    print(jsonLine(["file": file, "label": NSNull(), "detections": 0, "windows": windows, "duration": duration]))
                } else {
                    print(String(format: "%@\tno keyword detected (%d windows over %.1f s)", file, windows, duration))
                }
            }
        }
    }
}
