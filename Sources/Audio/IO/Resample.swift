// Sample-rate conversion (libsamplerate) and fitting clips to the model's length.

import CSampleRate

/// libsamplerate's converter for one mono signal, with its state: the one place the library is
/// called, for whole clips (`resample`) and for recordings read block by block (`AudioStream`).
///
/// Converter: `SRC_SINC_BEST_QUALITY` (band-limited sinc, ~145 dB SNR, 97 % of the output
/// Nyquist band kept). `SRC_SINC_MEDIUM_QUALITY` keeps only ~90 % of the band, i.e. it would
/// attenuate 7.2–8 kHz at 16 kHz output, where the 80-band log-mel features (fmax 8000 Hz) still
/// have filters. Resampling only happens for files that are not already at 16 kHz (users' own
/// recordings; Speech Commands is 16 kHz), and best quality converts one second of 44.1 kHz audio
/// in a few milliseconds, so the quality is worth its cost.
public final class Resampler {
    public let from: Int, to: Int
    public var ratio: Double { Double(to) / Double(from) }
    /// Named in errors (the file being read, or "resample").
    public let source: String
    private let state: OpaquePointer

    /// Throws for non-positive rates or ratios libsamplerate cannot do (outside 1/256…256).
    public init(from: Int, to: Int, source: String) throws {
        guard from > 0, to > 0 else {
            throw AudioError(source: source, problem: "sample rates must be positive (from \(from) Hz to \(to) Hz)")
        }
        var error: Int32 = 0
        let ratio = Double(to) / Double(from)
        guard src_is_valid_ratio(ratio) != 0, let state = src_new(Int32(SRC_SINC_BEST_QUALITY), 1, &error) else {
            throw AudioError(source: source, problem: "libsamplerate cannot convert \(from) Hz to \(to) Hz (ratio \(ratio))")
        }
        (self.from, self.to, self.source, self.state) = (from, to, source, state)
    }

    deinit { src_delete(state) }

    /// Converts what it can of `input` into up to `capacity` samples at `output`; `endOfInput`:
    /// no more input follows (the converter then flushes its tail). Returns the input samples
    /// used and the output samples generated.
    public func process(_ input: UnsafeBufferPointer<Float>, into output: UnsafeMutablePointer<Float>, capacity: Int,
                        endOfInput: Bool) throws -> (used: Int, generated: Int) {
        var data = SRC_DATA(data_in: input.baseAddress, data_out: output, input_frames: input.count, output_frames: capacity,
                            input_frames_used: 0, output_frames_gen: 0, end_of_input: endOfInput ? 1 : 0, src_ratio: ratio)
        let status = src_process(state, &data)
        guard status == 0 else { throw AudioError(source: source, problem: "libsamplerate: \(String(cString: src_strerror(status)))") }
        return (data.input_frames_used, data.output_frames_gen)
    }
}

/// Resamples mono `samples` from `from` Hz to `to` Hz in one pass (`Resampler`, all input at
/// once: what libsamplerate's `src_simple` does).
///
/// The output has about `samples.count · to / from` samples (libsamplerate's own rounding);
/// callers that need an exact length use `fitToLength`. Throws for non-positive rates, ratios
/// libsamplerate cannot do (outside 1/256…256), or a library error.
public func resample(_ samples: [Float], from: Int, to: Int) throws -> [Float] {
    let converter = try Resampler(from: from, to: to, source: "resample")
    if from == to || samples.isEmpty { return samples }
    let capacity = Int((Double(samples.count) * converter.ratio).rounded(.up)) + 16
    var output = [Float](repeating: 0, count: capacity)
    let generated = try samples.withUnsafeBufferPointer { input in
        try output.withUnsafeMutableBufferPointer { try converter.process(input, into: $0.baseAddress!, capacity: capacity, endOfInput: true).generated }
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
