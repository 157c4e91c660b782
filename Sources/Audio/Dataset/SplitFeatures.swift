// The features of a whole split, computed at once on all cores.

import Foundation
import Runtime
import Synchronization

/// The features of a whole split, computed at once.
public struct SplitFeatures: Sendable {
    /// Which split.
    public let split: DatasetSplit
    /// Number of clips.
    public let count: Int
    /// Frames per clip.
    public let frames: Int
    /// Values per frame.
    public let featureCount: Int
    /// `[count, frames, featureCount]` row-major (each clip time-major).
    public var values: [Float]
    /// Label per clip (index into `SpeechCommands.google12Labels`).
    public let labels: [Int]

    public init(split: DatasetSplit, count: Int, frames: Int, featureCount: Int, values: [Float], labels: [Int]) {
        precondition(values.count == count * frames * featureCount && labels.count == count, "features do not match their shape")
        (self.split, self.count, self.frames, self.featureCount, self.values, self.labels) = (split, count, frames, featureCount, values, labels)
    }
}

extension SpeechCommands {
    /// Features of every clip of a split, computed at once on all cores.
    ///
    /// - Parameters:
    ///   - audio: the split's clips from `loadAudio` (recommended when features are computed more
    ///     than once); when nil, files are decoded on the fly (one pass, nothing kept).
    ///   - augmentation: nil for the clean clips (validation, testing, or training without
    ///     augmentation); otherwise each clip is augmented with `augmentationGenerator(index:epoch:)`.
    ///   - epoch: selects a fresh, reproducible augmentation draw. The kws trainer computes
    ///     training features once per run with epoch 0 by default; calling this again each epoch
    ///     with the cached `audio` re-augments (0.2 s MFCC / 0.6 s log-mel per 2,400 clips on 2 cores).
    ///   - clips: only these clips of the split (an MPI rank's share; `audio` then holds just
    ///     them); each is augmented exactly as in the whole split, so the shares put together in
    ///     order are the whole split's features.
    public func features(_ split: DatasetSplit, extractor: FeatureExtractor, audio: [[Float]]? = nil,
                         augmentation: AugmentationSettings? = nil, epoch: Int = 0, clips: Range<Int>? = nil) throws -> SplitFeatures {
        let s = extractor.settings
        guard s.sampleRate == options.sampleRate, s.clipSamples == options.clipSamples else {
            throw SpeechCommandsError("feature settings (\(s.sampleRate) Hz, \(s.clipSamples) samples) do not match the dataset's "
                                      + "(\(options.sampleRate) Hz, \(options.clipSamples) samples)")
        }
        try augmentation?.validate()
        let all = examples(split)
        let range = clips ?? all.indices
        precondition(range.lowerBound >= 0 && range.upperBound <= all.count, "clips outside the split")
        let examples = Array(all[range])
        if let audio, audio.count != examples.count {
            throw SpeechCommandsError("\(split.rawValue): \(audio.count) clips given for \(examples.count) examples")
        }
        let per = extractor.valuesPerClip
        let failures = Mutex<[(Int, String)]>([])
        let values = [Float](unsafeUninitializedCapacity: examples.count * per) { buffer, initialized in
            buffer.initialize(repeating: 0)
            initialized = examples.count * per
            guard !examples.isEmpty else { return }
            let out = SendablePointer(buffer.baseAddress!)
            Self.forEachBlock(examples.count) { j in
                let i = range.lowerBound + j   // the clip's index in the split: its augmentation draws
                do {
                    var samples: [Float]
                    if let augmentation {
                        var rng = self.augmentationGenerator(index: i, epoch: epoch)
                        samples = try self.augmentedSamples(split, index: i, rng: &rng, audio: audio?[j], settings: augmentation)
                    } else {
                        samples = try audio?[j] ?? self.cleanSamples(split, index: i)
                    }
                    samples.withUnsafeBufferPointer { extractor.compute($0, into: out.pointer + j * per) }
                } catch {
                    let text = "\(error)"
                    failures.withLock { $0.append((i, text)) }
                }
            }
        }
        try Self.throwFailures(failures.withLock { $0 })
        return SplitFeatures(split: split, count: examples.count, frames: s.frames, featureCount: s.featureCount,
                             values: values, labels: examples.map(\.label))
    }
}
