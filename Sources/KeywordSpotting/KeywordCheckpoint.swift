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

    package init(labels: [String], features: FeatureSettings, normalizer: FeatureNormalizer, dataset: SpeechCommandsOptions, data: String,
                 augmentation: AugmentationSettings? = nil) {
        (self.labels, self.features, self.normalizer, self.dataset, self.data, self.augmentation) = (labels, features, normalizer, dataset, data, augmentation)
    }
}
