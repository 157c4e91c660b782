import XCTest
@testable import Audio
@testable import Runtime

/// Every format the tests write gives the features of the WAV it came from: exactly for the
/// lossless ones, within codec tolerance for Ogg Vorbis; and an Ogg file gives exactly the
/// features of its own decode written as 16-bit PCM (what `sox clip.ogg clip.wav` makes), which
/// it did not before `loadClip` put every input on the 16-bit grid (issue 14, item 9).
final class FormatFeatureParityTests: XCTestCase {
    let dir = NSTemporaryDirectory() + "lem-formats-\(getpid())"

    override func setUp() { try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) }
    override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

    /// A speech-like 1 s clip: two tones with a rising pitch, noise, quiet edges; on the grid of `bits`.
    func clip(bits: Int) -> [Float] {
        var rng = RandomGenerator(seed: 21)
        let step = Float(1 << (bits - 1))
        return (0..<16000).map { i in
            let t = Float(i) / 16000
            let envelope = max(0, sin(Float.pi * t)) * (t > 0.1 && t < 0.9 ? 1 : 0.01)
            let v = envelope * (0.3 * sin(2 * Float.pi * (300 + 200 * t) * t) + 0.1 * sin(2 * Float.pi * 2500 * t)) + 0.002 * rng.normal()
            return (v * step).rounded() / step
        }
    }

    func features(_ path: String, _ extractor: FeatureExtractor) throws -> [Float] {
        extractor.compute(try loadClip(path: path))
    }

    func testLosslessFormatsGiveTheSameFeaturesAsTheirWAV() throws {
        for kind in [FeatureSettings.Kind.logmel, .mfcc] {
            var settings = FeatureSettings.preset(kind)
            settings.perClipNormalization = kind == .logmel
            let extractor = try FeatureExtractor(settings: settings)
            for (bits, formats) in [(16, [(AudioContainer.wav, AudioSampleFormat.pcm24), (.wav, .pcm32), (.wav, .float32), (.wav, .float64),
                                          (.flac, .pcm16), (.flac, .pcm24), (.aiff, .pcm16), (.aiff, .pcm24)]),
                                    (8, [(AudioContainer.wav, AudioSampleFormat.pcmU8), (.flac, .pcmS8), (.aiff, .pcmS8)])] {
                let samples = clip(bits: bits)
                let source = dir + "/source\(bits).wav"
                try writeAudio(path: source, interleaved: samples, channels: 1, sampleRate: 16000, format: .pcm16)
                let expected = try features(source, extractor)
                for (container, format) in formats {
                    let path = dir + "/copy\(bits)-\(format.rawValue).\(container.rawValue)"
                    try writeAudio(path: path, interleaved: samples, channels: 1, sampleRate: 16000, format: format, container: container)
                    let got = try features(path, extractor)
                    let worst = zip(got, expected).map { abs($0 - $1) }.max() ?? .infinity
                    print("\(kind) features, \(bits)-bit source as \(container.rawValue) \(format.rawValue): max |difference| \(worst) (tolerance 0)")
                    XCTAssertTrue(got == expected, "\(container) \(format): max |difference| \(worst)")
                }
            }
        }
    }

    func testOggVorbisGivesTheFeaturesOfItsOwn16BitDecodeAndStaysCloseToTheSource() throws {
        var settings = FeatureSettings.logmel
        settings.perClipNormalization = true
        let extractor = try FeatureExtractor(settings: settings)
        let samples = clip(bits: 16)
        let wav = dir + "/source.wav", ogg = dir + "/copy.ogg"
        try writeAudio(path: wav, interleaved: samples, channels: 1, sampleRate: 16000)
        try writeAudio(path: ogg, interleaved: samples, channels: 1, sampleRate: 16000, container: .oggVorbis)

        // The Ogg decode as `sox clip.ogg clip.wav` and `sox clip.ogg -e floating-point -b 32
        // clip.wav` write it: sox's Vorbis reader rounds to 16 bits (checked on a real clip:
        // rounding libsndfile's float decode reproduces sox's files sample for sample).
        var decoded = try readAudio(path: ogg).samples
        roundToPCM16Grid(&decoded)
        try writeAudio(path: dir + "/decoded16.wav", interleaved: decoded, channels: 1, sampleRate: 16000, format: .pcm16)
        try writeAudio(path: dir + "/decoded-f32.wav", interleaved: decoded, channels: 1, sampleRate: 16000, format: .float32)
        let fromOgg = try features(ogg, extractor)
        for other in ["decoded16.wav", "decoded-f32.wav"] {
            let got = try features(dir + "/" + other, extractor)
            let worst = zip(got, fromOgg).map { abs($0 - $1) }.max() ?? .infinity
            print("logmel features, an Ogg file against \(other): max |difference| \(worst) (tolerance 0)")
            XCTAssertTrue(got == fromOgg, "an Ogg file and \(other)")
        }

        // Against the source: lossy, so within codec tolerance (z-scored log-mel units).
        let source = try features(wav, extractor)
        let mean = zip(fromOgg, source).map { Double(abs($0 - $1)) }.reduce(0, +) / Double(source.count)
        print("logmel features, Ogg Vorbis against its source WAV: mean |difference| \(mean) (tolerance 1, z-scored units)")
        XCTAssertLessThan(mean, 1)
    }
}
