// Sample-rate conversion (libsamplerate) and fitting clips to the model's length.

import CSampleRate

/// Resamples mono `samples` from `from` Hz to `to` Hz with libsamplerate's `src_simple`.
///
/// Converter: `SRC_SINC_BEST_QUALITY` (band-limited sinc, ~145 dB SNR, 97 % of the output
/// Nyquist band kept). `SRC_SINC_MEDIUM_QUALITY` keeps only ~90 % of the band, i.e. it would
/// attenuate 7.2–8 kHz at 16 kHz output, where the 80-band log-mel features (fmax 8000 Hz) still
/// have filters. Resampling only happens for files that are not already at 16 kHz (users' own
/// recordings; Speech Commands is 16 kHz), and best quality converts one second of 44.1 kHz audio
/// in a few milliseconds, so the quality is worth its cost.
///
/// The output has about `samples.count · to / from` samples (libsamplerate's own rounding);
/// callers that need an exact length use `fitToLength`. Throws for non-positive rates, ratios
/// libsamplerate cannot do (outside 1/256…256), or a library error.
public func resample(_ samples: [Float], from: Int, to: Int) throws -> [Float] {
    guard from > 0, to > 0 else {
        throw AudioError(source: "resample", problem: "sample rates must be positive (from \(from) Hz to \(to) Hz)")
    }
    if from == to || samples.isEmpty { return samples }
    let ratio = Double(to) / Double(from)
    guard src_is_valid_ratio(ratio) != 0 else {
        throw AudioError(source: "resample", problem: "libsamplerate cannot convert \(from) Hz to \(to) Hz (ratio \(ratio))")
    }
    let capacity = Int((Double(samples.count) * ratio).rounded(.up)) + 16
    var output = [Float](repeating: 0, count: capacity)
    var generated = 0
    let status: Int32 = samples.withUnsafeBufferPointer { input in
        output.withUnsafeMutableBufferPointer { out in
            var data = SRC_DATA(
                data_in: input.baseAddress, data_out: out.baseAddress,
                input_frames: samples.count, output_frames: capacity,
                input_frames_used: 0, output_frames_gen: 0, end_of_input: 1, src_ratio: ratio)
            let status = src_simple(&data, Int32(SRC_SINC_BEST_QUALITY), 1)
            generated = data.output_frames_gen
            return status
        }
    }
    guard status == 0 else {
        throw AudioError(source: "resample", problem: "libsamplerate: \(String(cString: src_strerror(status)))")
    }
    output.removeSubrange(generated...)
    return output
}

/// Pads `samples` with zeros at the end, or cuts the end off, to exactly `length` samples
/// (the model's fixed 1 s input, as TF's `decode_wav(desired_samples:)` does).
public func fitToLength(_ samples: [Float], length: Int) -> [Float] {
    let length = max(0, length)
    if samples.count == length { return samples }
    if samples.count > length { return Array(samples[..<length]) }
    return samples + [Float](repeating: 0, count: length - samples.count)
}

/// Reads `path`, mixes it to mono, resamples it to `sampleRate` if needed and pads or cuts it to
/// `length` samples, on the 16-bit grid (`roundToPCM16Grid`): the one call a classifier needs
/// per file. Errors name the file.
public func loadClip(path: String, sampleRate: Int = 16000, length: Int = 16000) throws -> [Float] {
    let clip = try readAudio(path: path)
    var samples = clip.samples
    if clip.sampleRate != sampleRate {
        do {
            samples = try resample(samples, from: clip.sampleRate, to: sampleRate)
        } catch let error as AudioError {
            throw AudioError(source: path, problem: error.problem)
        }
    }
    roundToPCM16Grid(&samples)
    return fitToLength(samples, length: length)
}
