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
            abstract: "Write a long labelled recording (for streaming evaluation): Speech Commands words, or wake words in speech and noise.",
            discussion: """
                As TensorFlow's generate_streaming_test_wav: keyword and unknown-word clips of
                the split (speaker-disjoint from training when the split is valid or test) at
                random gaps (U(0.5, 1.5) × --gap-ms between clips) over the dataset's
                background recordings, cut at random offsets and joined, scaled so that
                20·log10(RMS of the clips / RMS of the noise) = --snr-db. Writes a 16-bit WAV
                and its ground truth, a CSV of label,start_ms,end_ms,clip per inserted clip
                (the span of its 1 s clip, and its file). The same data, split and flags give the same bytes.

                Wake words (--keyword-clips): as Picovoice's wake-word benchmark builds its
                test stream (mixer.py): every recording of the keyword folders once (or
                --keyword-count of them) in a random order, evenly spread over --hours of
                other speech (clips of --speech drawn at random, each kept with probability
                --speech-probability, else the same length of noise alone) over noise (the
                recordings of --noise end to end); every recording peak-normalised, each
                speech part scaled to --snr-db over the noise under it (peak 512-sample frame
                energies), and the whole stream divided by its peak. The labels give each
                keyword and speech clip its whole recording's span. Made twice, part by part,
                so memory stays small for any length; --out - writes raw 16-bit PCM to
                standard output for kws eval-stream - (the labels file is complete before the
                first sample is written).

                --noise-range start:end takes only that part of every noise recording
                (fractions of its length): train with kws train --noise-range 0:0.8 and test
                on streams made with --noise-range 0.8:1, and no test noise was heard in training.

                Examples:
                  kws make-stream --data speech_commands_v0.02 --split test --minutes 60 \\
                      --snr-db 10 --out stream.wav
                  kws make-stream --data corpora/generated/speech --minutes 5 --seed 2 \\
                      --out short.wav --labels short-truth.csv
                kws make-stream --keyword-clips wake_words/alexa \\
                      --speech speech_commands_v0.02 --speech-split test \\
                      --noise speech_commands_v0.02/_background_noise_ --noise-range 0.8:1 \\
                      --hours 10 --out alexa-10h.wav
                """)

        @Option(help: ArgumentHelp("Speech Commands folder (default: the built-in corpus).", valueName: "dir")) var data: String?
        @Option(help: "Split whose clips are used: test, valid or train.") var split: String = "test"
        @Option(help: "Length of the stream in minutes (default 10).") var minutes: Double?
        @Option(help: "Length of the stream in hours (instead of --minutes).") var hours: Double?
        @Option(name: .customLong("snr-db"), help: "Speech-to-noise ratio in dB.") var snrDB: Double = 10
        @Option(name: .customLong("gap-ms"), help: "Mean pause between clips in ms.") var gapMs: Double = 1000
        @Option(name: .customLong("keyword-fraction"), help: "Share of clips that are keywords (the rest unknown words).") var keywordFraction: Double = 0.8
        @Option(help: "Random seed (clip choice, gaps, noise offsets).") var seed: UInt64 = 1
        @Option(help: ArgumentHelp("The recording to write (16-bit WAV), or - for raw 16-bit PCM on standard output.", valueName: "file")) var out: String = "stream.wav"
        @Option(help: ArgumentHelp("The ground truth to write (default: --out with .csv; required with --out -).", valueName: "file")) var labels: String?
        @Option(name: .customLong("noise-range"), help: ArgumentHelp("Take noise only from this part of each recording (start:end, fractions of its length).", valueName: "start:end"))
        var noiseRange: String?
        @OptionGroup(title: "Wake-word stream (Picovoice's layout)") var wake: WakeWordOptions

        mutating func validate() throws {
            guard ["test", "valid", "train"].contains(split) else { throw ValidationError("--split must be test, valid or train (got \(split))") }
            if minutes != nil && hours != nil { throw ValidationError("give --minutes or --hours, not both") }
            if !(lengthMinutes > 0 && lengthMinutes <= 1440) { throw ValidationError("the stream must be longer than 0 and at most 24 hours (1440 minutes)") }
            if let noiseRange { do { _ = try NoiseRange(parsing: noiseRange) } catch { throw ValidationError("--noise-range: \(error)") } }
            if out == "-" && labels == nil { throw ValidationError("--out - needs --labels (the ground truth cannot share standard output)") }
            try wake.validate(speechCommandsFlags: data != nil)
            if !snrDB.isFinite { throw ValidationError("--snr-db must be a number") }
            if !(gapMs >= 0) { throw ValidationError("--gap-ms must not be negative") }
            if !(keywordFraction >= 0 && keywordFraction <= 1) { throw ValidationError("--keyword-fraction must be in [0, 1]") }
        }

        var lengthMinutes: Double { hours.map { $0 * 60 } ?? minutes ?? 10 }

        var labelsPath: String {
            labels ?? (out.hasSuffix(".wav") ? String(out.dropLast(4)) : out) + ".csv"
        }

        func writeLabels(_ csv: String) throws {
            do { try csv.write(toFile: labelsPath, atomically: true, encoding: .utf8) } catch {
                throw ToolError(description: "\(labelsPath): cannot write the labels (\(error.localizedDescription))")
            }
        }

        func run() throws {
            try reportingErrors {
                let range = try noiseRange.map { try NoiseRange(parsing: $0) } ?? .whole
                if !wake.keywordClips.isEmpty { return try makeWakeWordStream(noiseRange: range) }
                let root = try data ?? DefaultCorpus.speech.directory()
                // Every listed clip, keywords and unknown words alike; silence is not inserted.
                let dataset = try SpeechCommands(root: root, options: SpeechCommandsOptions(silencePercentage: 0, unknownPercentage: nil))
                let which: DatasetSplit = split == "test" ? .testing : split == "valid" ? .validation : .training
                var settings = StreamSettings()
                (settings.minutes, settings.snrDB, settings.gapMs, settings.keywordFraction, settings.seed) = (lengthMinutes, snrDB, gapMs, keywordFraction, seed)
                settings.noiseRange = range
                let stream = try makeLabelledStream(dataset, split: which, settings: settings)
                try writeLabels(stream.labelsCSV)
                if out == "-" { try writeRawPCM16ToStandardOutput(stream.samples) } else {
                    try writeAudio(path: out, interleaved: stream.samples, channels: 1, sampleRate: stream.sampleRate)
                }
                let keywordCount = stream.events.filter { $0.label != "_unknown_" }.count
                report(String(format: "%@: %.1f min at %d Hz, %d clips (%d keywords, %d unknown words) from the %@ split of %@, SNR %g dB; labels %@",
                             out == "-" ? "standard output" : out, lengthMinutes, stream.sampleRate, stream.events.count, keywordCount, stream.events.count - keywordCount,
                             split, root, snrDB, labelsPath))
            }
        }

        /// The summary line: standard output carries the audio with --out -, so it goes to standard error then.
        func report(_ line: String) {
            if out == "-" { writeStandardError(line + "\n") } else { print(line) }
        }

        func makeWakeWordStream(noiseRange: NoiseRange) throws {
            guard let speech = wake.speech, let noise = wake.noise else { throw ValidationError("a wake-word stream needs --speech and --noise") }
            let sources = try WakeWordStreamSources.scan(keywordFolders: wake.keywordClips, speechFolder: speech,
                                                         speechSplit: wake.speechSplit.map { $0 == "test" ? .testing : $0 == "valid" ? .validation : .training },
                                                         noiseFolder: noise, noiseRange: noiseRange, skipUnreadable: wake.skipUnreadable,
                                                         keywordSplit: wake.keywordSplit.map { $0 == "test" ? .testing : $0 == "valid" ? .validation : .training })
            for problem in sources.skipped { writeStandardError("skipping an unreadable keyword recording: \(problem)\n") }
            var settings = WakeWordStreamSettings()
            (settings.hours, settings.snrDB, settings.speechProbability, settings.keywordCount, settings.seed) =
                (lengthMinutes / 60, snrDB, wake.speechProbability, wake.keywordCount, seed)
            let writer = out == "-" ? nil : try AudioFileWriter(path: out, sampleRate: sources.sampleRate)
            let made = try WakeWordStreamMixer.render(sources: sources, settings: settings, truthReady: { events, _ in
                try writeLabels(labelsCSV(events, sampleRate: sources.sampleRate))
            }) { samples in
                if let writer { try writer.write(samples) } else { try writeRawPCM16ToStandardOutput(samples) }
            }
            try writer?.finish()
            let keywordLabels = Set(sources.keywords.map(\.label))
            let keywords = made.events.filter { keywordLabels.contains($0.label) }.count
            report(String(format: "%@: %.2f h at %d Hz, %d keywords (%@, %d recordings) and %d speech clips (of %d) over %d noise recordings (range %@), SNR %g dB, seed %llu; labels %@",
                          out == "-" ? "standard output" : out, Double(made.samples) / Double(sources.sampleRate) / 3600, sources.sampleRate, keywords,
                          keywordLabels.sorted().joined(separator: ", "), sources.keywords.count, made.events.count - keywords, sources.speech.count,
                          sources.noise.count, noiseRange.description, snrDB, seed, labelsPath)
                   + (sources.skipped.isEmpty ? "" : "; \(sources.skipped.count) unreadable keyword recordings left out"))
        }
    }
}

/// The flags of a wake-word stream (`kws make-stream --keyword-clips …`).
struct WakeWordOptions: ParsableArguments {
    @Option(name: .customLong("keyword-clips"), help: ArgumentHelp("A folder of recordings of one keyword, named after it (repeatable).", valueName: "dir"))
    var keywordClips: [String] = []
    @Option(help: ArgumentHelp("A folder of other speech clips, labelled by their folder (e.g. a Speech Commands folder).", valueName: "dir")) var speech: String?
    @Option(name: .customLong("speech-split"), help: "With a Speech Commands --speech: only its test, valid or train clips (speaker-disjoint lists).") var speechSplit: String?
    @Option(name: .customLong("keyword-split"), help: "Only the keyword recordings TensorFlow's hash split puts in test, valid or train (a kws synthesize folder's held-out voices: a validation stream).") var keywordSplit: String?
    @Option(help: ArgumentHelp("A folder of noise recordings (e.g. _background_noise_).", valueName: "dir")) var noise: String?
    @Option(name: .customLong("speech-probability"), help: "Share of the drawn speech clips kept between keywords (Picovoice: 0.2).") var speechProbability: Double = 0.2
    @Option(name: .customLong("keyword-count"), help: "Keywords in the stream (default: every recording once).") var keywordCount: Int?
    @Flag(name: .customLong("skip-unreadable"), help: "Leave out recordings that cannot be decoded (each named on standard error) instead of stopping.") var skipUnreadable = false

    func validate(speechCommandsFlags: Bool) throws {
        if keywordClips.isEmpty {
            if speech != nil || noise != nil || speechSplit != nil || keywordCount != nil { throw ValidationError("--speech, --noise, --speech-split and --keyword-count make a wake-word stream: give --keyword-clips too") }
            return
        }
        if speechCommandsFlags { throw ValidationError("--data is for a Speech Commands stream; a wake-word stream takes --keyword-clips, --speech and --noise") }
        if speech == nil || noise == nil { throw ValidationError("a wake-word stream needs --speech (other speech) and --noise (noise recordings)") }
        if let keywordSplit, !["test", "valid", "train"].contains(keywordSplit) { throw ValidationError("--keyword-split must be test, valid or train (got \(keywordSplit))") }
        if let speechSplit, !["test", "valid", "train"].contains(speechSplit) { throw ValidationError("--speech-split must be test, valid or train (got \(speechSplit))") }
        if !(0...1).contains(speechProbability) { throw ValidationError("--speech-probability must be in [0, 1]") }
        if let keywordCount, keywordCount < 1 { throw ValidationError("--keyword-count must be at least 1") }
    }
}
