import ArgumentParser
import Audio
import Foundation
import KeywordSpotting
import LEMModel
import TaskSupport
import ToolSupport

extension FeatureSettings.Kind: ExpressibleByArgument {}

extension KWS {
    struct Train: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Train a keyword spotter: LEM (the paper's), LSTM, GRU or LRU, one or more layers.",
            discussion: """
                Reads a Speech Commands folder (one folder per word; validation_list.txt and
                testing_list.txt name the evaluation clips, or, without them, TensorFlow's
                which_set hash of the speaker id splits it; _background_noise_/ holds noise for
                augmentation and silence). Without --data it trains on the built-in synthetic
                corpus (made once by corpora/make-default-speech.sh, about a minute).

                Features are computed once per run on both cores (training clips augmented as
                TensorFlow's speech_commands does: ±100 ms shift, background noise with
                probability 0.8), normalised with training-set statistics, and kept in the
                checkpoint with the labels, so `kws classify` needs nothing else. Validates
                every epoch, keeps the best model, prints the test accuracy and confusion
                matrix at the end. Ctrl-C saves a resumable state (<checkpoint>.resume;
                continue with --resume). --cell lstm|gru and --layers N train the paper's
                baselines on the same pipeline; the checkpoint records them.

                Examples:
                  kws train
                  kws train --data speech_commands_v0.02 --preset google12 \\
                      --checkpoint g12.ckpt
                  kws train --data speech_commands_v0.02 --features mfcc --hidden 128 \\
                      --epochs 30 --max-minutes 60
                  kws train --data speech_commands_v0.02 --preset google12 --cell gru \\
                      --checkpoint g12-gru.ckpt
                  kws train --wake-word jarvis --data speech_commands_v0.02 \\
                      --checkpoint jarvis.ckpt
                  kws synthesize --word jarvis --out synth/jarvis
                  kws train --data synth/jarvis --data speech_commands_v0.02 \\
                      --keywords jarvis --noise-range 0:0.8 --checkpoint jarvis.ckpt
                  mpirun -np 4 --hostfile hosts kws train --data /shared/speech_commands \\
                      --preset google12 --checkpoint /shared/g12.ckpt

                Started by mpirun (Open MPI), it trains one data-parallel job over the ranks:
                each rank computes the features of its share of the clips and trains on its
                share of every batch; gradients are summed each step; rank 0 writes the files.
                """)

        @Option(help: ArgumentHelp("Speech Commands folder; repeat to train on several as one (e.g. kws synthesize's clips and a folder of real speech).", valueName: "dir")) var data: [String] = []
        @OptionGroup var checkpoint: CheckpointOption
        @Option(help: "The paper's settings: google12 (flags override).") var preset: KeywordSpotterPreset?
        @Option(help: "Features: mfcc (40 MFCCs × 101 frames; with --preset google12, 80 MFCCs in the paper's framing), logmel (80 log-mel bands × 126 frames, as the paper) or speech-embedding (openWakeWord's front end with Google's pretrained speech_embedding: 3 × 96 values for a 1 s clip).") var features: FeatureSettings.Kind?
        @Option(help: "Feature front end: highest filterbank frequency in Hz (mfcc 4000, logmel 8000).") var fmax: Double?
        @Option(help: "Feature front end: lowest filterbank frequency in Hz (mfcc 20, logmel 40).") var fmin: Double?
        @Option(name: .customLong("n-fft"), help: "Feature front end: FFT size = window length in samples (mfcc 512 with a 480 window, logmel 1024).") var nFFT: Int?
        @Option(help: "Feature front end: samples between frames (mfcc 160, logmel 128); sets the frame count for the clip.") var hop: Int?
        @Option(name: .customLong("feature-count"), help: "Feature front end: mel bands (log-mel) or mel bands and coefficients (MFCC).") var featureCount: Int?
        @Flag(name: .customLong("per-clip-norm"), inversion: .prefixedNo, help: "z-score each clip's feature matrix (default: on for logmel, as the paper; off for mfcc).") var perClipNorm: Bool?
        @OptionGroup var architecture: CellOptions
        @Option(help: "Hidden size d of the recurrent layers.") var hidden: Int?
        @Option(help: "Clips per batch.") var batch: Int?
        @Option(help: "Learning rate (Adam).") var lr: Float?
        @Option(help: "Epochs to train.") var epochs: Int?
        @Option(name: .customLong("decay-at"), parsing: .upToNextOption, help: "Epochs after which the learning rate is multiplied by --lr-decay.") var decayAt: [Int] = []
        @Option(name: .customLong("lr-decay"), help: "Learning-rate factor at --decay-at epochs (or on plateau without --decay-at; 1 = never).") var lrDecay: Float?
        @Option(help: "Global gradient-norm clip (0 = none).") var clip: Float?
        @Option(help: "Dropout on the input features.") var dropout: Float?
        @Option(name: .customLong("weight-decay"), help: "L2 penalty added to the gradients.") var weightDecay: Float?
        @Option(help: "The LEM's Δt (--cell lem only).") var dt: Float?
        @Flag(inversion: .prefixedNo, help: "Augment the training clips (time shift, background noise).") var augment = true
        @Option(name: .customLong("reaugment-every"), help: "Draw fresh augmentations every N epochs (0 = one draw per run).") var reaugmentEvery: Int = 0
        @Option(name: .customLong("silence-percentage"), help: "Silence examples per split, % of keyword examples.") var silencePercentage: Double = 10
        @Option(name: .customLong("unknown-percentage"), help: "Unknown-word examples kept per split, % of keyword examples.") var unknownPercentage: Double = 10
        @Flag(name: .customLong("all-unknown"), help: "Keep every unknown-word clip (instead of --unknown-percentage).") var allUnknown = false
        @Option(name: .customLong("background-windows"), help: "Streams: extra _silence_ windows cut at random offsets from the background recordings, % of keyword clips.") var backgroundWindows: Double?
        @Option(name: .customLong("unknown-windows"), help: "Streams: extra _unknown_ examples, unknown-word clips at any offset in the window, % of keyword clips.") var unknownWindows: Double?
        @Option(name: .customLong("shifted-keywords"), help: "Streams: extra _unknown_ examples, keyword clips shifted until most of the word is outside the window, % of keyword clips.") var shiftedKeywords: Double?
        @Option(name: .customLong("noise-snr-db"), help: ArgumentHelp("Streams: mix background noise at a speech-to-noise ratio drawn from LOW:HIGH dB (instead of TensorFlow's volume U(0, 0.1)); a negative LOW as --noise-snr-db=-5:20.", valueName: "low:high")) var noiseSNR: String?
        @Flag(name: .customLong("stream-negatives"), help: "Streams: all three at once (\(StreamNegatives.recommended.summary)); the flags above override.") var streamNegatives = false
        @Option(name: .customLong("hard-negatives"), help: ArgumentHelp("Streams: a folder of clips the model fired on without a keyword (kws eval-stream --save-false-alarms), trained as _unknown_.", valueName: "dir")) var hardNegatives: String?
        @Option(name: .customLong("init"), help: ArgumentHelp("Start from this checkpoint's weights, features and normalisation (fine-tuning, e.g. on hard negatives).", valueName: "checkpoint")) var initial: String?
        @Option(name: .customLong("wake-word"), help: ArgumentHelp("The whole recipe for a wake word from text (docs/WAKEWORDS.md): synthesise it, train with --data as other speech and noise, choose the decision layer on a validation stream.", valueName: "word"))
        var wakeWord: String?
        @Option(name: .customLong("synth-count"), help: "With --wake-word: synthetic positives (and as many negatives).") var synthCount: Int = 4000
        @Option(name: .customLong("target-fa-per-hour"), help: "With --wake-word: the false-alarm budget the decision layer is chosen for.") var targetFAPerHour: Double = 0.5
        @Option(name: .customLong("validation-hours"), help: "With --wake-word: length of the validation stream the decision layer is chosen on.") var validationHours: Double = 1
        @Option(help: ArgumentHelp("The keyword classes, word folders of --data (comma-separated; default Google12's ten); every other word is _unknown_. A wake word: --keywords jarvis.", valueName: "words"))
        var keywords: String?
        @Option(name: .customLong("noise-range"), help: ArgumentHelp("Take background noise only from this part of each _background_noise_ recording (fractions of its length), e.g. 0:0.8 to leave 0.8:1 for kws make-stream --noise-range 0.8:1.", valueName: "start:end")) var noiseRange: String?
        @Option(name: .customLong("validation-percentage"), help: "A folder without list files is split by TensorFlow's which_set hash: this % validation.") var validationPercentage: Double = 10
        @Option(name: .customLong("testing-percentage"), help: "… and this % testing (the rest is training).") var testingPercentage: Double = 10
        @OptionGroup(title: "Run") var runOptions: RunOptions

        mutating func validate() throws {
            for (name, v) in [("--hidden", hidden), ("--batch", batch), ("--epochs", epochs)] {
                if let v, v < 1 { throw ValidationError("\(name) must be at least 1 (got \(v))") }
            }
            if let lr, !(lr > 0 && lr.isFinite) { throw ValidationError("--lr must be positive (got \(lr))") }
            if let dropout, !(dropout >= 0 && dropout < 1) { throw ValidationError("--dropout must be in [0, 1) (got \(dropout))") }
            if let clip, !(clip >= 0) { throw ValidationError("--clip must be 0 (off) or positive") }
            if let dt, !(dt > 0 && dt.isFinite) { throw ValidationError("--dt must be positive") }
            if dt != nil, let cell = architecture.cell, cell != .lem { throw ValidationError("--dt is the LEM's time step; --cell \(cell.rawValue) has none") }
            if let lrDecay, !(lrDecay > 0 && lrDecay <= 1) { throw ValidationError("--lr-decay must be in (0, 1]") }
            if reaugmentEvery < 0 { throw ValidationError("--reaugment-every must not be negative") }
            if !(silencePercentage >= 0 && silencePercentage <= 100) { throw ValidationError("--silence-percentage must be in [0, 100]") }
            if !(unknownPercentage >= 0 && unknownPercentage <= 10_000) { throw ValidationError("--unknown-percentage must be in [0, 10000]") }
            if !(validationPercentage >= 0 && testingPercentage >= 0 && validationPercentage + testingPercentage < 100) {
                throw ValidationError("--validation-percentage and --testing-percentage must be ≥ 0 and leave some training data")
            }
            for (name, v) in [("--background-windows", backgroundWindows), ("--unknown-windows", unknownWindows), ("--shifted-keywords", shiftedKeywords)] {
                if let v, !(v >= 0 && v <= 10_000) { throw ValidationError("\(name) must be in [0, 10000] (got \(v))") }
            }
            if keywords != nil {
                guard let list = keywordList, !list.isEmpty, Set(list).count == list.count, list.allSatisfy({ !$0.hasPrefix("_") && !$0.contains("/") }) else {
                    throw ValidationError("--keywords: distinct word folder names separated by commas, none starting with _ (got \(keywords!))")
                }
            }
            if wakeWord != nil {
                if synthCount < 1 || synthCount > 1_000_000 { throw ValidationError("--synth-count must be from 1 to 1000000") }
                if !(targetFAPerHour > 0 && targetFAPerHour.isFinite) { throw ValidationError("--target-fa-per-hour must be positive") }
                if !(validationHours > 0 && validationHours <= 100) { throw ValidationError("--validation-hours must be in (0, 100]") }
                if let w = wakeWord, w.trimmingCharacters(in: .whitespaces).isEmpty || w.contains("/") || w.contains(",") || w.hasPrefix("_") {
                    throw ValidationError("--wake-word: a word or phrase without /, commas or a leading _")
                }
            }
            if let noiseRange { do { _ = try NoiseRange(parsing: noiseRange) } catch { throw ValidationError("--noise-range: \(error)") } }
            if noiseSNR != nil {
                guard let r = noiseSNRRange else { throw ValidationError("--noise-snr-db: expected LOW:HIGH in dB with LOW ≤ HIGH, e.g. 0:20 (got \(noiseSNR!))") }
                if !augment { throw ValidationError("--noise-snr-db is an augmentation setting: drop --no-augment") }
                _ = r
            }
            var drawn = streamNegativeSettings
            drawn.hardNegatives = nil
            if !augment && !drawn.isEmpty {
                throw ValidationError("the stream negatives are drawn by augmentation: drop --no-augment")
            }
            if initial != nil {
                if runOptions.resume { throw ValidationError("--init starts a new run from a checkpoint's weights; --resume continues a run: use one") }
                let fixed: [(String, Bool)] = [("--features", features != nil), ("--hidden", hidden != nil), ("--cell", architecture.cell != nil),
                                               ("--layers", architecture.layers != nil), ("--dt", dt != nil), ("--fmax", fmax != nil),
                                               ("--fmin", fmin != nil), ("--n-fft", nFFT != nil), ("--hop", hop != nil),
                                               ("--feature-count", featureCount != nil), ("--per-clip-norm", perClipNorm != nil),
                                               ("--dropout", dropout != nil), ("--dropout-layer", architecture.dropoutLayer != nil)]
                if let clash = fixed.first(where: { $0.1 }) {
                    throw ValidationError("\(clash.0): with --init the model and its features come from the checkpoint")
                }
            }
        }

        /// `--noise-snr-db LOW:HIGH` as a range (nil when absent or malformed).
        var noiseSNRRange: ClosedRange<Double>? {
            guard let text = noiseSNR else { return nil }
            let parts = text.split(separator: ":", omittingEmptySubsequences: false).map { Double($0.trimmingCharacters(in: .whitespaces)) }
            guard parts.count == 2, let lo = parts[0], let hi = parts[1], lo.isFinite, hi.isFinite, lo <= hi else { return nil }
            return lo...hi
        }

        /// The extra negatives the flags ask for (`--stream-negatives` gives the recommended mix).
        var streamNegativeSettings: StreamNegatives {
            var n = streamNegatives ? StreamNegatives.recommended : StreamNegatives()
            if let backgroundWindows { n.backgroundPercentage = backgroundWindows }
            if let unknownWindows { n.unknownPercentage = unknownWindows }
            if let shiftedKeywords { n.shiftedKeywordPercentage = shiftedKeywords }
            // Absolute, as the checkpoint records it: a resumed run may start in another directory.
            n.hardNegatives = hardNegatives.map { URL(fileURLWithPath: $0).standardizedFileURL.path }
            return n
        }

        func hyperparameters() -> KeywordHyperparameters {
            var s = KeywordHyperparameters.preset(preset)
            if let features { s.features = features }
            if let hidden { s.hidden = hidden }
            if let batch { s.batch = batch }
            if let epochs { s.epochs = epochs }
            if let lr { s.lr = lr }
            if !decayAt.isEmpty { s.decayAt = decayAt }
            if let lrDecay { s.lrDecay = lrDecay }
            if let clip { s.clip = clip > 0 ? clip : nil }
            if let dropout { s.dropout = dropout }
            if let weightDecay { s.weightDecay = weightDecay }
            if let dt { s.dt = dt }
            return s
        }

        /// `--wake-word`: the recipe's settings where the flags leave them open (a LEM on the speech embedding, every
        /// unknown word, the stream negatives, noise from 0:0.8 at −5…20 dB, fresh augmentation
        /// every 2 epochs, 30 epochs), then `WakeWordRecipe`.
        func trainWakeWord(_ word: String) throws {
            guard keywords == nil, data.count <= 1, initial == nil else {
                throw ValidationError("--wake-word makes its own data and keyword: give at most one --data (other speech and noise), no --keywords or --init")
            }
            let speech = try data.first ?? DefaultCorpus.speech.directory()
            var synthesis = WordSynthesis(word: word, out: checkpoint.checkpoint + ".synth")
            (synthesis.positives, synthesis.seed) = (synthCount, runOptions.seed)
            var h = hyperparameters()
            if features == nil { h.features = .speechEmbedding }   // docs/WAKEWORDS.md: what carries synthetic voices to real ones
            if epochs == nil { h.epochs = 30 }
            var augmentation = AugmentationSettings.tensorFlow
            augmentation.backgroundSNRdB = noiseSNRRange ?? -5...20
            var negatives = streamNegatives || (backgroundWindows == nil && unknownWindows == nil && shiftedKeywords == nil) ? StreamNegatives.recommended : streamNegativeSettings
            if let backgroundWindows { negatives.backgroundPercentage = backgroundWindows }
            if let unknownWindows { negatives.unknownPercentage = unknownWindows }
            if let shiftedKeywords { negatives.shiftedKeywordPercentage = shiftedKeywords }
            negatives.hardNegatives = hardNegatives.map { URL(fileURLWithPath: $0).standardizedFileURL.path }
            let training = KeywordSpotterTraining(
                data: nil, preset: preset, hyperparameters: h,
                featureOverrides: FeatureOverrides(perClipNormalization: perClipNorm, fmax: fmax, fmin: fmin, nFFT: nFFT, hop: hop, featureCount: featureCount),
                architecture: architecture.architecture,
                dataset: SpeechCommandsOptions(silencePercentage: silencePercentage, unknownPercentage: nil, seed: runOptions.seed,
                                               validationPercentage: validationPercentage, testingPercentage: testingPercentage, streamNegatives: negatives,
                                               noiseRange: try noiseRange.map { try NoiseRange(parsing: $0) } ?? NoiseRange(parsing: "0:0.8"),
                                               keywords: [synthesis.folderName]),
                augmentation: augmentation, reaugmentEvery: reaugmentEvery == 0 ? 2 : reaugmentEvery, initial: nil,
                checkpoint: checkpoint.checkpoint, resume: runOptions.resume, seed: runOptions.seed, limits: runOptions.limits)
            var recipe = WakeWordRecipe(synthesis: synthesis, training: training, speech: speech)
            (recipe.targetFAPerHour, recipe.validationHours) = (targetFAPerHour, validationHours)
            try recipe.run(progress: TerminalProgress()) { print($0) }
        }

        var keywordList: [String]? {
            keywords.map { $0.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty } }
        }

        func run() throws {
            try reportingErrors {
                if let wakeWord { return try trainWakeWord(wakeWord) }
                var augmentation: AugmentationSettings?
                if augment {
                    augmentation = .tensorFlow
                    augmentation?.backgroundSNRdB = noiseSNRRange
                }
                var training = KeywordSpotterTraining(
                    data: data.first, preset: preset, hyperparameters: hyperparameters(),
                    featureOverrides: FeatureOverrides(perClipNormalization: perClipNorm, fmax: fmax, fmin: fmin, nFFT: nFFT, hop: hop,
                                                       featureCount: featureCount),
                    architecture: architecture.architecture,
                    dataset: SpeechCommandsOptions(silencePercentage: silencePercentage, unknownPercentage: allUnknown ? nil : unknownPercentage,
                                                   seed: runOptions.seed, validationPercentage: validationPercentage,
                                                   testingPercentage: testingPercentage, streamNegatives: streamNegativeSettings,
                                                   noiseRange: try noiseRange.map { try NoiseRange(parsing: $0) } ?? .whole,
                                                   keywords: keywordList),
                    augmentation: augmentation, reaugmentEvery: reaugmentEvery, initial: initial,
                    checkpoint: checkpoint.checkpoint, resume: runOptions.resume, seed: runOptions.seed, limits: runOptions.limits)
                training.moreData = Array(data.dropFirst())
                try training.run(progress: TerminalProgress())
            }
        }
    }
}
