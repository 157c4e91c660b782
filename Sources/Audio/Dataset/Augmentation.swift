// TensorFlow's speech_commands augmentation (time shift, background noise) and its settings.

import Foundation
import Runtime
import Synchronization

/// TF speech_commands-style data augmentation (`input_data.py` `get_data`, training mode).
public struct AugmentationSettings: Codable, Sendable, Equatable {
    /// Maximum time shift in samples (TF `--time_shift_ms 100` at 16 kHz); the shift is uniform
    /// in [−max, max) and the gap is filled with zeros.
    public var timeShiftSamples: Int
    /// Probability of mixing background noise into a non-silence clip (TF `--background_frequency 0.8`).
    public var backgroundFrequency: Double
    /// Background volume is uniform in [0, this) for non-silence clips (TF `--background_volume 0.1`).
    public var backgroundVolume: Double
    /// Generated silence: volume uniform in [0, this) (TF: U(0, 1)).
    public var silenceVolume: Double
    /// When set, noise is mixed at a speech-to-noise ratio drawn uniformly from this range (dB,
    /// the unshifted clip's RMS over the excerpt's, as `kws make-stream` measures a stream) instead of at
    /// volume U(0, `backgroundVolume`): training noise then spans the SNRs a stream has.
    public var backgroundSNRdB: ClosedRange<Double>? = nil

    public init(timeShiftSamples: Int = 1600, backgroundFrequency: Double = 0.8, backgroundVolume: Double = 0.1,
                silenceVolume: Double = 1) {
        self.timeShiftSamples = timeShiftSamples
        self.backgroundFrequency = backgroundFrequency
        self.backgroundVolume = backgroundVolume
        self.silenceVolume = silenceVolume
    }

    /// TF's defaults: ±100 ms shift, noise with probability 0.8 at U(0, 0.1), silence at U(0, 1).
    public static let tensorFlow = AugmentationSettings()

    /// Throws for a negative shift or a probability/volume that is negative, NaN or infinite.
    public func validate() throws {
        guard timeShiftSamples >= 0, timeShiftSamples <= 100_000_000 else {
            throw SpeechCommandsError("augmentation: timeShiftSamples must be ≥ 0, got \(timeShiftSamples)")
        }
        guard backgroundFrequency.isFinite, (0...1).contains(backgroundFrequency) else {
            throw SpeechCommandsError("augmentation: backgroundFrequency must be in 0…1, got \(backgroundFrequency)")
        }
        for (name, value) in [("backgroundVolume", backgroundVolume), ("silenceVolume", silenceVolume)] {
            guard value.isFinite, value >= 0 else { throw SpeechCommandsError("augmentation: \(name) must be ≥ 0, got \(value)") }
        }
        if let r = backgroundSNRdB, !(r.lowerBound.isFinite && r.upperBound.isFinite) {
            throw SpeechCommandsError("augmentation: the SNR range must be finite, got \(r)")
        }
    }
}

extension SpeechCommands {
    /// Adds `volume ×` a random `clipSamples`-long excerpt of a random noise recording (shorter
    /// recordings are used whole, from the start). Does nothing without noise.
    func addNoise(into samples: inout [Float], volume: Float, rng: inout RandomGenerator) {
        addNoise(into: &samples, rng: &rng) { _ in volume }
    }

    /// As above, with the volume chosen from the excerpt's RMS (over `clipSamples`).
    func addNoise(into samples: inout [Float], rng: inout RandomGenerator, volume: (_ excerptRMS: Double) -> Float) {
        guard !noise.isEmpty else { return }
        let source = noise[rng.below(noise.count)]
        let length = options.clipSamples
        let offset = source.count > length ? rng.below(source.count - length) : 0
        let n = min(length, source.count - offset)
        var energy = 0.0
        for i in 0..<n { energy += Double(source[offset + i] * source[offset + i]) }
        let v = volume((energy / Double(length)).squareRoot())
        for i in 0..<n { samples[i] += v * source[offset + i] }
    }

    /// One augmented version of example `index` of `split`, as TF speech_commands' `get_data` makes it
    /// in training mode:
    /// - generated silence: the foreground is muted; noise at volume U(0, `silenceVolume`);
    /// - other clips (including `_silence_` files, which are real recordings and kept as such):
    ///   time shift by U[−shift, shift) samples with zero fill, then with probability
    ///   `backgroundFrequency` noise at volume U(0, `backgroundVolume`);
    /// - the sum is clamped to [−1, 1].
    /// Noise comes from `noiseSource` (the `_background_noise_` recordings, else the training
    /// `_silence_` clips); without noise only the time shift applies.
    ///
    /// - Parameter audio: the example's clean samples if already loaded (`loadAudio`); read from
    ///   the file otherwise.
    public func augmentedSamples(_ split: DatasetSplit, index: Int, rng: inout RandomGenerator,
                                 audio: [Float]? = nil, settings: AugmentationSettings = .tensorFlow) throws -> [Float] {
        try settings.validate()
        let example = examples(split)[index]
        let length = options.clipSamples
        var out = [Float](repeating: 0, count: length)
        if example.isGeneratedSilence {
            addNoise(into: &out, volume: rng.uniform(0, Float(settings.silenceVolume)), rng: &rng)
        } else {
            let clean = try audio ?? cleanSamples(split, index: index)
            let shift: Int
            switch example.placement {
            case .asRecorded:
                shift = settings.timeShiftSamples > 0 ? rng.below(2 * settings.timeShiftSamples) - settings.timeShiftSamples : 0
            case .anyOffset:
                shift = rng.below(length) - length / 2
            case .mostlyOutside:
                shift = mostlyOutsideShift(clean, length: length, rng: &rng)
            }
            // shift > 0 delays the clip (zeros in front); shift < 0 advances it (zeros at the end).
            let first = max(0, shift), end = min(length, clean.count + shift)
            if first < end { for i in first..<end { out[i] = clean[i - shift] } }
            if !noise.isEmpty && Double(rng.uniformFloat()) < settings.backgroundFrequency {
                if let snr = settings.backgroundSNRdB {
                    // The clip's level before any shift: a word mostly outside the window gets the
                    // noise a stream has around that word.
                    var energy = 0.0
                    for v in clean.prefix(length) { energy += Double(v * v) }
                    let speechRMS = (energy / Double(length)).squareRoot()
                    let db = Double(rng.uniform(Float(snr.lowerBound), Float(snr.upperBound)))
                    addNoise(into: &out, rng: &rng) { noiseRMS in noiseRMS > 0 ? Float(speechRMS / noiseRMS / exp(db / 20 * log(10))) : 0 }
                } else {
                    addNoise(into: &out, volume: rng.uniform(0, Float(settings.backgroundVolume)), rng: &rng)
                }
            }
        }
        for i in 0..<length { out[i] = min(1, max(-1, out[i])) }
        return out
    }

    /// The generator `features` uses for example `index` in `epoch`: independent of thread
    /// scheduling, so features are identical however the work is split.
    public func augmentationGenerator(index: Int, epoch: Int) -> RandomGenerator {
        RandomGenerator(seed: options.seed &+ 0x9E37_79B9_7F4A_7C15 &* UInt64(epoch + 1), stream: UInt64(index))
    }
}
