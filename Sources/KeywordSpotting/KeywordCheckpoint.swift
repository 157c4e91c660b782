import Audio
import Foundation
import LEMModel
import TaskSupport

/// What `kws` stores in a checkpoint besides the model: everything `classify` needs to go from a
/// WAV file to a label.
package struct KWSToolData: Codable {
    package var labels: [String]
    package var features: FeatureSettings
    package var normalizer: FeatureNormalizer
    package var dataset: SpeechCommandsOptions
    /// Where the training data came from (for the record).
    package var data: String
    /// How the training clips were augmented (nil: not recorded, or no augmentation); a resumed
    /// run draws with the same settings.
    package var augmentation: AugmentationSettings? = nil
    /// How `kws listen` decides, chosen on a validation stream (`kws eval-stream --sweep
    /// --save-decision`); nil: the command-line defaults.
    package var detection: DetectionSettings? = nil

    package init(labels: [String], features: FeatureSettings, normalizer: FeatureNormalizer, dataset: SpeechCommandsOptions, data: String,
                 augmentation: AugmentationSettings? = nil) {
        (self.labels, self.features, self.normalizer, self.dataset, self.data, self.augmentation) = (labels, features, normalizer, dataset, data, augmentation)
    }
}

/// The decision layer saved in the `kws` checkpoint at `path` (nil when none was saved).
package func savedDetectionSettings(checkpoint path: String) throws -> DetectionSettings? {
    try Checkpoint.read(path: path, expectedKind: "kws").tool(KWSToolData.self).detection
}

/// The decision layer a checkpoint carries for `kws listen` (flags override each setting): per
/// keyword thresholds chosen on a validation stream for a false-alarm rate, and the rules they
/// were chosen with.
package struct DetectionSettings: Codable, Equatable {
    package var thresholds: [String: Float]
    package var averageMs: Double
    package var cooldownMs: Double
    /// Windows in a row whose averaged score must pass the threshold before the keyword fires.
    package var consecutive: Int
    /// Windows quieter than this (dBFS RMS) count as silence; nil: no gate.
    package var energyGateDB: Double?
    /// The budget the thresholds were chosen for, the stream and the scoring they were chosen on.
    package var targetFAPerHour: Double
    package var chosenOn: String
    package var scoring: String

    /// One line for the user: "thresholds down 0.99, go 0.993, … (for 1 false alarms per hour on valid.wav)".
    package var summary: String {
        "thresholds " + thresholds.sorted { $0.key < $1.key }.map { "\($0.key) \(formatThreshold($0.value))" }.joined(separator: ", ")
            + String(format: " (for %g false alarms per hour on %@)", targetFAPerHour, chosenOn)
    }

    package init(thresholds: [String: Float], averageMs: Double, cooldownMs: Double, consecutive: Int, energyGateDB: Double?,
                 targetFAPerHour: Double, chosenOn: String, scoring: String) {
        (self.thresholds, self.averageMs, self.cooldownMs, self.consecutive, self.energyGateDB) = (thresholds, averageMs, cooldownMs, consecutive, energyGateDB)
        (self.targetFAPerHour, self.chosenOn, self.scoring) = (targetFAPerHour, chosenOn, scoring)
    }
}
