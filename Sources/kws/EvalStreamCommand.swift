import ArgumentParser
import Audio
import Foundation
import KeywordSpotting
import LEMModel
import TaskSupport
import ToolSupport

extension KWS {
    struct EvalStream: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "eval-stream",
            abstract: "Miss rate and false alarms per hour of a keyword spotter on a labelled stream.",
            discussion: """
                Slides 1 s windows over the recording every --stride-ms, averages the
                posteriors over --average-ms, and fires a keyword when its average passes the
                threshold and it is not the keyword that fired within the last --suppress-ms
                (TensorFlow's RecognizeCommands). Detections are compared with the labels
                (kws make-stream's CSV): a detection matches a word when it falls between the
                word's start and --tolerance-ms after its clip ends. Prints, per keyword and
                overall, the miss rate and false alarms per hour (docs/STREAMING.md defines
                them). --sweep runs thresholds 0.30 … 0.99 (and --threshold) on one pass and
                writes the DET curve (CSV and SVG), and the threshold that meets
                --target-fa-per-hour.

                Wake words: --sweep also reports the miss rate at 0.1, 0.5, 1, 2 and 5 false
                alarms per hour (read off the DET curve, with the misses and false alarms
                behind each figure); --scoring picovoice scores as Picovoice's benchmark does
                (a detection between a keyword's start and 0.5 s after its end finds it, every
                other firing is a false alarm); --cooldown-ms N lets nothing fire for N ms
                after a firing (a wake-word engine's refractory time). Each false alarm is
                attributed: noise, other speech, another keyword. The decision layer:
                --consecutive N windows above the threshold, --energy-gate-db (quieter windows
                are silence); --save-decision writes each keyword's threshold for
                --target-fa-per-hour into the checkpoint, and kws listen uses it. Choose it on a
                validation stream (make-stream --speech-split valid, training's noise range),
                never on the test stream; eval-stream of that checkpoint without --sweep or
                --threshold then measures it as listen applies it (flags override a setting). A stream too long to keep
                comes on standard input ("-", raw PCM as kws listen takes it), e.g. straight
                from kws make-stream --out -: its labels are read when the audio ends.

                Also prints TensorFlow's streaming accuracy, named and counted as its
                accuracy_utils.py does (correct, wrong, false positive, matched: shares of all
                words), from TensorFlow's RecognizeCommands run on the same windows at the same
                settings (--tf-tolerance-ms around each word's start). --protocol tf takes
                test_streaming_accuracy.py's defaults for every setting not given: stride 30 ms,
                average 500 ms, threshold 0.7, suppression 500 ms, tolerance 1500 ms, minimum
                count 4 (ours: 100, 1000, 0.5, 500, 750 after the clip, 3).

                Examples:
                  kws make-stream --data speech_commands_v0.02 --minutes 30 --out stream.wav
                  kws eval-stream --checkpoint g12.ckpt stream.wav --labels stream.csv
                  kws eval-stream --checkpoint g12.ckpt stream.wav --labels stream.csv \\
                      --sweep --target-fa-per-hour 2 --json
                kws make-stream --keyword-clips alexa/ --speech speech/ --noise noise/ \\
                      --hours 10 --out - --labels ten.csv \\
                  | kws eval-stream --checkpoint alexa.ckpt - --labels ten.csv --sweep \\
                      --scoring picovoice --cooldown-ms 1000
                python3 tools/reference/peers/openwakeword_scores.py ten.wav --out oww.csv
                kws eval-stream --scores oww.csv ten.wav --sweep \\
                      --scoring picovoice --cooldown-ms 1000
                """)

        @Option(help: ArgumentHelp("Model checkpoint (safetensors).", valueName: "file")) var checkpoint: String = "kws.ckpt"
        @Option(help: ArgumentHelp("Score another detector instead: a CSV of time_s,label,score per frame (tools/reference/peers/ write them).", valueName: "file")) var scores: String?
        @OptionGroup var precision: PrecisionOption
        @Argument(help: ArgumentHelp("The recording (any format libsndfile reads), or - for raw PCM on standard input.", valueName: "stream")) var stream: String
        @Option(help: ArgumentHelp("Its ground truth (default: the recording's name with .csv; required for -).", valueName: "file")) var labels: String?
        @Option(help: "Sample rate of raw PCM on standard input (must be the model's).") var rate: Int?
        @Option(help: "Raw PCM sample format on standard input: s16 or f32 (little-endian).") var format: PCMInput.Format = .s16
        @Option(help: "Interleaved channels of raw PCM on standard input (mixed to mono).") var channels: Int = 1
        @Option(help: "How detections are scored: lem (ours, --tolerance-ms) or picovoice (Picovoice's benchmark).") var scoring: Scoring = .lem
        @Option(name: .customLong("cooldown-ms"), help: "Nothing fires for this long after any firing (default: the checkpoint's decision layer's, else 0: TensorFlow's rule).") var cooldownMs: Double?
        @Option(help: "Windows in a row whose averaged score passes the threshold before a keyword fires (default: the checkpoint's decision layer's, else 1).") var consecutive: Int?
        @Option(name: .customLong("energy-gate-db"), help: ArgumentHelp("Windows quieter than this RMS level (dBFS) count as silence, e.g. --energy-gate-db=-50.", valueName: "dB")) var energyGateDB: Double?
        @Flag(name: .customLong("save-decision"), help: "With --sweep: write each keyword's threshold for --target-fa-per-hour (and --cooldown-ms, --consecutive, --energy-gate-db, --average-ms) into the checkpoint; kws listen then uses them.") var saveDecision = false
        @Option(help: "Defaults of the settings below: lem (ours) or tf (test_streaming_accuracy.py's).") var `protocol`: StreamProtocol = .lem
        @Option(help: "Detection threshold on the averaged posterior (lem 0.5, tf 0.7).") var threshold: Float?
        @Option(name: .customLong("stride-ms"), help: "Milliseconds between windows (lem: 80 for speech-embedding models, else 100; tf 30).") var strideMs: Int?
        @Option(name: .customLong("average-ms"), help: "Posteriors averaged over this many ms of windows (lem 1000, tf 500; with --scores 1: each frame alone).") var averageMs: Double?
        @Option(name: .customLong("suppress-ms"), help: "After a detection, the same keyword cannot fire again for this long.") var suppressMs: Double = 500
        @Option(name: .customLong("tolerance-ms"), help: "A detection up to this long after a word's clip ends still matches it.") var toleranceMs: Double = 750
        @Option(name: .customLong("tf-tolerance-ms"), help: "TensorFlow's rates: a command within this long of a word's start matches it.") var tfToleranceMs: Int = 1500
        @Flag(help: "Run thresholds 0.30 … 0.99 and write the DET curve.") var sweep = false
        @Option(name: .customLong("target-fa-per-hour"), help: "With --sweep: report the lowest threshold with at most this many false alarms per hour.") var targetFAPerHour: Double = 2
        @Option(help: ArgumentHelp("With --sweep: the DET curve's files (default: the recording's name with .det.csv / .det.svg).", valueName: "prefix")) var det: String?
        @Option(name: .customLong("save-false-alarms"), help: ArgumentHelp("Write the windows behind every false alarm on noise or an unknown word (at --threshold) to this folder as 1 s WAVs, for kws train --hard-negatives.", valueName: "dir")) var saveFalseAlarms: String?
        @Flag(help: "Print one JSON object.") var json = false

        enum StreamProtocol: String, ExpressibleByArgument, CaseIterable { case lem, tf }
        enum Scoring: String, ExpressibleByArgument, CaseIterable { case lem, picovoice }

        /// The settings in force: the flags, else the protocol's defaults.
        var settings: (threshold: Float, strideMs: Int?, averageMs: Double, minimumCount: Int) {
            let tf = `protocol` == .tf
            return (threshold ?? (tf ? 0.7 : 0.5), strideMs ?? (tf ? 30 : nil), averageMs ?? (scores != nil ? 1 : tf ? 500 : 1000), tf ? 4 : 3)
        }

        mutating func validate() throws {
            if let threshold, !(threshold > 0 && threshold < 1) { throw ValidationError("--threshold must be in (0, 1)") }
            if let strideMs, strideMs < 1 { throw ValidationError("--stride-ms must be at least 1") }
            if let averageMs, !(averageMs > 0) { throw ValidationError("--average-ms must be positive") }
            if let consecutive, consecutive < 1 || consecutive > 100 { throw ValidationError("--consecutive must be from 1 to 100") }
            if let energyGateDB, !(energyGateDB.isFinite && energyGateDB <= 0) { throw ValidationError("--energy-gate-db is a level in dBFS: a number ≤ 0, e.g. -50") }
            if saveDecision && !sweep { throw ValidationError("--save-decision chooses thresholds on the sweep: add --sweep") }
            if let cooldownMs, !(cooldownMs >= 0 && cooldownMs.isFinite) { throw ValidationError("--cooldown-ms must be a number ≥ 0") }
            if channels < 1 || channels > 64 { throw ValidationError("--channels must be from 1 to 64") }
            if stream != "-" && rate != nil { throw ValidationError("--rate is for raw PCM on standard input; a file says its own rate") }
            if scores != nil && (stream == "-" || saveFalseAlarms != nil || precision.int8) {
                throw ValidationError("--scores scores another detector's frames against the file's labels: give the recording's path (for its length), without --save-false-alarms or --int8")
            }
            if stream == "-" && labels == nil { throw ValidationError("a stream on standard input needs --labels") }
            if stream == "-" && saveFalseAlarms != nil { throw ValidationError("--save-false-alarms cuts windows from a file: it cannot read them back from standard input") }
            if !(suppressMs >= 0 && toleranceMs >= 0 && tfToleranceMs >= 0) { throw ValidationError("--suppress-ms, --tolerance-ms and --tf-tolerance-ms must not be negative") }
        }

        func run() throws {
            try reportingErrors {
                let (threshold, strideMs, averageMs, minimumCount) = settings
                // A checkpoint's decision layer (eval-stream --sweep --save-decision) is what kws
                // listen applies: measure it the same way, unless a sweep or --threshold asks otherwise.
                let decision = scores == nil && !sweep && self.threshold == nil ? try savedDetectionSettings(checkpoint: checkpoint) : nil
                var evaluation = StreamEvaluation(checkpoint: checkpoint, stream: stream)
                if let decision {
                    evaluation.perKeywordThresholds = decision.thresholds
                    writeStandardError("kws eval-stream: the checkpoint's decision layer: \(decision.summary)\n")
                }
                evaluation.scoresFile = scores
                (evaluation.int8, evaluation.labels, evaluation.protocolName) = (precision.int8, labels, `protocol`.rawValue)
                (evaluation.threshold, evaluation.strideMs, evaluation.minimumCount) = (threshold, strideMs, minimumCount)
                evaluation.averageMs = self.averageMs ?? decision?.averageMs ?? averageMs
                (evaluation.suppressMs, evaluation.toleranceMs, evaluation.tfToleranceMs) = (suppressMs, toleranceMs, tfToleranceMs)
                (evaluation.sweep, evaluation.targetFAPerHour, evaluation.det, evaluation.saveFalseAlarms) = (sweep, targetFAPerHour, det, saveFalseAlarms)
                (evaluation.scoring, evaluation.cooldownMs) = (scoring == .picovoice ? .picovoice : .lem, cooldownMs ?? decision?.cooldownMs ?? 0)
                (evaluation.consecutive, evaluation.energyGateDB, evaluation.saveDecision) = (consecutive ?? decision?.consecutive ?? 1, energyGateDB ?? decision?.energyGateDB, saveDecision)
                if stream == "-" {
                    evaluation.standardInput = PCMInput(format: format, channels: channels)
                    evaluation.standardInputRate = rate
                }
                let report = try evaluation.run()
                if json { print(jsonLine(report.object)) } else { for line in report.lines { print(line) } }
            }
        }
    }
}
