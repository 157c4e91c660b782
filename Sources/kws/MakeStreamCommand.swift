import ArgumentParser
import Audio
import Foundation
import KeywordSpotting
import LEMModel
import TaskSupport
import ToolSupport

extension KWS {
    struct MakeStream: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "make-stream",
            abstract: "Write a long labelled recording from a Speech Commands split (for streaming evaluation).",
            discussion: """
                As TensorFlow's generate_streaming_test_wav: keyword and unknown-word clips of
                the split (speaker-disjoint from training when the split is valid or test) at
                random gaps (U(0.5, 1.5) × --gap-ms between clips) over the dataset's
                background recordings, cut at random offsets and joined, scaled so that
                20·log10(RMS of the clips / RMS of the noise) = --snr-db. Writes a 16-bit WAV
                and its ground truth, a CSV of label,start_ms,end_ms,clip per inserted clip
                (the span of its 1 s clip, and its file). The same data, split and flags give the same bytes.

                Examples:
                  kws make-stream --data speech_commands_v0.02 --split test --minutes 60 \\
                      --snr-db 10 --out stream.wav
                  kws make-stream --data corpora/generated/speech --minutes 5 --seed 2 \\
                      --out short.wav --labels short-truth.csv
                """)

        @Option(help: ArgumentHelp("Speech Commands folder (default: the built-in corpus).", valueName: "dir")) var data: String?
        @Option(help: "Split whose clips are used: test, valid or train.") var split: String = "test"
        @Option(help: "Length of the stream in minutes.") var minutes: Double = 10
        @Option(name: .customLong("snr-db"), help: "Speech-to-noise ratio in dB.") var snrDB: Double = 10
        @Option(name: .customLong("gap-ms"), help: "Mean pause between clips in ms.") var gapMs: Double = 1000
        @Option(name: .customLong("keyword-fraction"), help: "Share of clips that are keywords (the rest unknown words).") var keywordFraction: Double = 0.8
        @Option(help: "Random seed (clip choice, gaps, noise offsets).") var seed: UInt64 = 1
        @Option(help: ArgumentHelp("The recording to write (16-bit WAV).", valueName: "file")) var out: String = "stream.wav"
        @Option(help: ArgumentHelp("The ground truth to write (default: --out with .csv).", valueName: "file")) var labels: String?

        mutating func validate() throws {
            guard ["test", "valid", "train"].contains(split) else { throw ValidationError("--split must be test, valid or train (got \(split))") }
            if !(minutes > 0 && minutes <= 1440) { throw ValidationError("--minutes must be in (0, 1440]") }
            if !snrDB.isFinite { throw ValidationError("--snr-db must be a number") }
            if !(gapMs >= 0) { throw ValidationError("--gap-ms must not be negative") }
            if !(keywordFraction >= 0 && keywordFraction <= 1) { throw ValidationError("--keyword-fraction must be in [0, 1]") }
        }

        var labelsPath: String {
            labels ?? (out.hasSuffix(".wav") ? String(out.dropLast(4)) : out) + ".csv"
        }

        func run() throws {
            try reportingErrors {
                let root = try data ?? DefaultCorpus.speech.directory()
                // Every listed clip, keywords and unknown words alike; silence is not inserted.
                let dataset = try SpeechCommands(root: root, options: SpeechCommandsOptions(silencePercentage: 0, unknownPercentage: nil))
                let which: DatasetSplit = split == "test" ? .testing : split == "valid" ? .validation : .training
                var settings = StreamSettings()
                (settings.minutes, settings.snrDB, settings.gapMs, settings.keywordFraction, settings.seed) = (minutes, snrDB, gapMs, keywordFraction, seed)
                let stream = try makeLabelledStream(dataset, split: which, settings: settings)
                try writeAudio(path: out, interleaved: stream.samples, channels: 1, sampleRate: stream.sampleRate)
                do { try stream.labelsCSV.write(toFile: labelsPath, atomically: true, encoding: .utf8) } catch {
                    throw ToolError(description: "\(labelsPath): cannot write the labels (\(error.localizedDescription))")
                }
                let keywordCount = stream.events.filter { $0.label != "_unknown_" }.count
                print(String(format: "%@: %.1f min at %d Hz, %d clips (%d keywords, %d unknown words) from the %@ split of %@, SNR %g dB; labels %@",
                             out, minutes, stream.sampleRate, stream.events.count, keywordCount, stream.events.count - keywordCount,
                             split, root, snrDB, labelsPath))
            }
        }
    }
}
