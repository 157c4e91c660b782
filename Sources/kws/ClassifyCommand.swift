import ArgumentParser
import Audio
import Foundation
import LEMModel

extension KWS {
    struct Classify: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Label audio files with a trained keyword spotter.",
            discussion: """
                Each file is read with libsndfile (WAV of any sample format, FLAC, OGG, AIFF, …),
                mixed to mono, resampled to 16 kHz, padded or cut to 1 s, and classified. A file that
                cannot be read gets an error line and the others are still classified; the exit
                status is 1 if any file failed.

                Examples:
                  kws classify --checkpoint kws.ckpt yes.wav no.wav
                  kws classify --checkpoint kws.ckpt clips/*.wav --top 3 --json
                """)

        @OptionGroup var checkpoint: CheckpointOption
        @Option(help: "Show the K most likely labels.") var top: Int = 1
        @Flag(help: "One JSON object per line: file, label, probability (and top).") var json = false
        @Argument(help: ArgumentHelp("Audio files.", valueName: "file")) var files: [String]

        mutating func validate() throws {
            if top < 1 { throw ValidationError("--top must be at least 1") }
        }

        func run() throws {
            var failed = false
            try reportingErrors {
                let spotter = try KeywordSpotter(checkpoint: checkpoint.checkpoint)
                let options = spotter.tool.dataset
                let C = spotter.tool.labels.count
                let k = min(top, C)
                for file in files {
                    do {
                        let samples = try loadClip(path: file, sampleRate: options.sampleRate, length: options.clipSamples)
                        let x = spotter.features(samples)
                        let logits = spotter.model.logits(features: x, steps: spotter.extractor.frameCount, batch: 1)
                        softmaxInPlace(logits, count: C)
                        let ranked = (0..<C).sorted { logits[$0] != logits[$1] ? logits[$0] > logits[$1] : $0 < $1 }.prefix(k)
                        let best = ranked.first!
                        if json {
                            var object: [String: Any] = ["file": file, "label": spotter.tool.labels[best], "probability": Double(logits[best])]
                            if k > 1 { object["top"] = ranked.map { ["label": spotter.tool.labels[$0], "probability": Double(logits[$0])] } }
                            print(Benchmarking.jsonLine(object))
                        } else {
                            let alternatives = ranked.map { String(format: "%@ %.3f", spotter.tool.labels[$0], Double(logits[$0])) }
                            print("\(file)\t" + alternatives.joined(separator: "\t"))
                        }
                    } catch {
                        failed = true
                        if json { print(Benchmarking.jsonLine(["file": file, "error": "\(error)"])) }
                        writeStandardError("kws: error: \(error)\n")
                    }
                }
            }
            if failed { throw ExitCode.failure }
        }
    }
}
