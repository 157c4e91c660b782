// What the feature front end computes, as data: stored in checkpoints so that classification
// reproduces training exactly.

/// Every parameter of the feature pipeline. The reference implementation is **librosa**
/// (fixtures made with `tools/reference/make_mfcc_fixtures.py`, librosa 0.11.0); every field maps
/// to a librosa argument. docs/FEATURES.md states the same table.
///
/// The convention row by row (docs/FEATURES.md), for the default MFCC (`FeatureSettings.mfcc`)
/// and the LEM paper's log-mel (`FeatureSettings.logmel`):
///
/// | Step | `.mfcc` (librosa `feature.mfcc`) | `.logmel` (LEM's librosa 0.8.1 loader) |
/// |---|---|---|
/// | Input scale | float in [−1, 1) (libsndfile: int16 / 32768), mono, 16 kHz | same |
/// | Dither / DC removal | none / none | none / none |
/// | Pre-emphasis | none | none |
/// | Frame / hop | window 480 (30 ms) in an FFT of 512 / hop 160 (10 ms) | 1024 / 128 |
/// | Edges | `center=True`: 256 zeros each side (`pad_mode='constant'`) | 512 each side, `reflect` |
/// | Frames for 1 s | 1 + 16000/160 = **101** | 1 + 16000/128 = **126** (then pad/cut to 126) |
/// | Window | periodic Hann 0.5−0.5cos(2πn/480), centred in 512 (16 zeros each side) | periodic Hann 1024 |
/// | FFT | 512-point real FFT (FFTW r2c, unnormalised), 257 bins | 1024, 513 bins |
/// | Spectrum into filterbank | power \|X\|² (`power=2`) | magnitude \|X\| (`power=1`) |
/// | Mel scale | Slaney (linear below 1 kHz: f/(200/3); log above: 15 + ln(f/1000)/(ln 6.4/27)) | Slaney |
/// | Filterbank | 40 triangles, 20–4000 Hz, edges equally spaced in mel, triangles linear in Hz, Slaney area norm 2/(f[i+2]−f[i]) | 80, 40–8000 Hz, same shape and norm |
/// | Log | 10·log10(max(S, 1e-10)) − 10·log10(max(ref, 1e-10)), ref = 1; then clip to max − 80 dB (`top_db`, max over the clip) | same with ref = max of the clip's mel spectrogram (`ref=np.max`) |
/// | DCT | DCT-II `norm='ortho'` (row 0 √(1/40), others √(2/40)) over the 40 log-mels | none |
/// | Coefficients | 40 (all; c0 kept) | 80 log-mels |
/// | Lifter | none | none |
/// | Energy / c0 | c0 kept as the DCT gives it | — |
/// | Pad / cut to frames | to 101 (a no-op for 1 s clips), pad value 0 | to 126, pad value 0 (the loader pads the dB matrix with zeros) |
/// | Post-processing | none per clip; per-feature train-set normalisation (`FeatureNormalizer`) | per-clip z-score over the whole 126×80 matrix, unbiased std (torch `.std()`), skipped when std = 0 |
/// | Layout | `[frames, features]` row-major (time-major) | same |
///
/// Deviation from librosa's own `mfcc` defaults (n_fft 2048, hop 512, 128 mels 0–sr/2, 20
/// coefficients) is deliberate: the framing and filterbank range are those of TF speech_commands
/// (30 ms / 10 ms windows, 40 bands, 20–4000 Hz, 40 coefficients), the KWS-native choice, but
/// every step is computed the librosa way (Slaney mel, power, dB, ortho DCT) so that librosa can
/// serve as an exact reference.
public struct FeatureSettings: Codable, Sendable, Equatable, CustomStringConvertible {
    /// MFCC (log-mel followed by a DCT) or log-mel alone.
    public enum Kind: String, Codable, Sendable, CaseIterable {
        case mfcc, logmel
        /// openWakeWord's front end: its mel spectrogram, then Google's speech_embedding, 96 values
        /// every 80 ms (`OpenWakeWordMel`, `SpeechEmbedding`).
        case speechEmbedding = "speech-embedding"
    }
    /// How `center` padding fills the n_fft/2 samples before and after the clip (numpy `np.pad` modes).
    public enum PadMode: String, Codable, Sendable { case constant, reflect }
    /// Mel scale: Slaney's (librosa `htk=False`, the default) or HTK's 2595·log10(1 + f/700).
    public enum MelScale: String, Codable, Sendable { case slaney, htk }
    /// Filter normalisation: Slaney's area normalisation 2/(f[i+2] − f[i]) or none (peak 1).
    public enum MelNorm: String, Codable, Sendable { case slaney, none }
    /// The `ref` of librosa's `power_to_db`: the constant 1 or the maximum of the clip's mel spectrogram.
    public enum DecibelReference: String, Codable, Sendable { case one, clipMaximum }
    /// The analysis window (periodic, as `scipy.signal.get_window(..., fftbins=True)`).
    public enum Window: String, Codable, Sendable { case hann }

    /// Which features.
    public var kind: Kind
    /// Sample rate the clips are converted to, Hz.
    public var sampleRate: Int
    /// Clip length in samples the dataset pads or cuts to (1 s).
    public var clipSamples: Int
    /// FFT length (`n_fft`); must be even.
    public var nFFT: Int
    /// Hop between frames in samples (`hop_length`).
    public var hopLength: Int
    /// Window length (`win_length`) ≤ nFFT; the window is centred in the FFT frame.
    public var winLength: Int
    /// Window function.
    public var window: Window
    /// librosa's `center`: pad nFFT/2 samples at both ends so frame t is centred at t·hop.
    public var center: Bool
    /// How the centre padding is filled.
    public var padMode: PadMode
    /// Exponent of the magnitude spectrum fed to the filterbank (1 = magnitude, 2 = power).
    public var power: Double
    /// Number of mel bands.
    public var nMels: Int
    /// Lowest filter edge, Hz.
    public var fmin: Double
    /// Highest filter edge, Hz (≤ sampleRate/2).
    public var fmax: Double
    /// Mel scale.
    public var melScale: MelScale
    /// Filter normalisation.
    public var melNorm: MelNorm
    /// `power_to_db` reference.
    public var dbReference: DecibelReference
    /// `power_to_db` floor (`amin`).
    public var amin: Double
    /// `power_to_db` dynamic range clip (`top_db`), nil for none.
    public var topDB: Double?
    /// Number of DCT coefficients kept (MFCC only; 0 for log-mel).
    public var nMFCC: Int
    /// Frames per clip after padding (with 0) or cutting.
    public var frames: Int
    /// Per-clip z-score over the whole `[frames, features]` matrix (LEM's loader).
    public var perClipNormalization: Bool

    public init(kind: Kind, sampleRate: Int, clipSamples: Int, nFFT: Int, hopLength: Int, winLength: Int,
                window: Window = .hann, center: Bool = true, padMode: PadMode, power: Double, nMels: Int,
                fmin: Double, fmax: Double, melScale: MelScale = .slaney, melNorm: MelNorm = .slaney,
                dbReference: DecibelReference, amin: Double = 1e-10, topDB: Double? = 80, nMFCC: Int,
                frames: Int, perClipNormalization: Bool) {
        self.kind = kind
        self.sampleRate = sampleRate
        self.clipSamples = clipSamples
        self.nFFT = nFFT
        self.hopLength = hopLength
        self.winLength = winLength
        self.window = window
        self.center = center
        self.padMode = padMode
        self.power = power
        self.nMels = nMels
        self.fmin = fmin
        self.fmax = fmax
        self.melScale = melScale
        self.melNorm = melNorm
        self.dbReference = dbReference
        self.amin = amin
        self.topDB = topDB
        self.nMFCC = nMFCC
        self.frames = frames
        self.perClipNormalization = perClipNormalization
    }

    /// Default MFCC: librosa `feature.mfcc(y, sr=16000, n_mfcc=40, n_fft=512, hop_length=160,
    /// win_length=480, window='hann', center=True, pad_mode='constant', power=2.0, n_mels=40,
    /// fmin=20, fmax=4000, htk=False, norm='slaney')` (power_to_db ref=1, amin=1e-10, top_db=80;
    /// DCT-II ortho) → 101 frames × 40 for a 1 s clip.
    public static let mfcc = FeatureSettings(
        kind: .mfcc, sampleRate: 16000, clipSamples: 16000, nFFT: 512, hopLength: 160, winLength: 480,
        padMode: .constant, power: 2, nMels: 40, fmin: 20, fmax: 4000, dbReference: .one, nMFCC: 40,
        frames: 101, perClipNormalization: false)

    /// The LEM paper's log-mel (tk-rusch/LEM `src/Google12/google12_data_loader.py`, librosa 0.8.1):
    /// `melspectrogram(n_fft=1024, hop_length=128, power=1.0, n_mels=80, fmin=40, fmax=8000,
    /// center=True, pad_mode='reflect')` → `power_to_db(S, ref=np.max)` (top_db 80) → pad/cut to
    /// 126 frames → per-clip z-score → 126 frames × 80.
    public static let logmel = FeatureSettings(
        kind: .logmel, sampleRate: 16000, clipSamples: 16000, nFFT: 1024, hopLength: 128, winLength: 1024,
        padMode: .reflect, power: 1, nMels: 80, fmin: 40, fmax: 8000, dbReference: .clipMaximum, nMFCC: 0,
        frames: 126, perClipNormalization: true)

    /// openWakeWord's front end (tools/reference/openwakeword/FRONTEND-SPEC.md): 25 ms frames
    /// (400-sample periodic Hann in a 512-point DFT) every 10 ms without centring, power, 32 Slaney
    /// mels 60–3,800 Hz, dB clamped 80 below the clip's maximum, `x/10 + 2`; then one 96-value
    /// embedding per 76 frames every 8 frames: 3 for a 1 s clip. The fields below describe the
    /// mel part; the embedding network is fixed.
    public static let speechEmbedding = FeatureSettings(
        kind: .speechEmbedding, sampleRate: 16000, clipSamples: 16000, nFFT: 512, hopLength: 160, winLength: 400, center: false,
        padMode: .constant, power: 2, nMels: 32, fmin: 60, fmax: 3800, dbReference: .clipMaximum, nMFCC: 0,
        frames: 3, perClipNormalization: false)

    /// The preset for a kind.
    public static func preset(_ kind: Kind) -> FeatureSettings {
        switch kind {
        case .mfcc: return .mfcc
        case .logmel: return .logmel
        case .speechEmbedding: return .speechEmbedding
        }
    }

    /// Embeddings of a clip of `sampleCount` samples: one per 8 mel frames once 76 are in.
    public static func embeddingCount(sampleCount: Int) -> Int {
        let melFrames = sampleCount >= 512 ? (sampleCount - 512) / 160 + 1 : 0
        return melFrames >= 76 ? (melFrames - 76) / 8 + 1 : 0
    }

    /// Values per frame: `nMFCC` for MFCC, `nMels` for log-mel, 96 for the speech embedding.
    public var featureCount: Int { kind == .mfcc ? nMFCC : kind == .speechEmbedding ? 96 : nMels }

    /// Values per clip: `frames × featureCount`.
    public var valuesPerClip: Int { frames * featureCount }

    /// FFT bins: nFFT/2 + 1.
    public var binCount: Int { nFFT / 2 + 1 }

    /// STFT frames librosa produces for `sampleCount` samples (before padding/cutting to `frames`).
    public func stftFrameCount(sampleCount: Int) -> Int {
        if center { return 1 + sampleCount / hopLength }
        return sampleCount >= nFFT ? 1 + (sampleCount - nFFT) / hopLength : 0
    }

    /// Throws a `FeatureSettingsError` naming the first inconsistent field (settings read from a
    /// checkpoint or built by hand).
    public func validate() throws {
        func fail(_ message: String) -> FeatureSettingsError { FeatureSettingsError(message: message) }
        guard sampleRate > 0 else { throw fail("sampleRate must be positive, got \(sampleRate)") }
        guard clipSamples > 0 else { throw fail("clipSamples must be positive, got \(clipSamples)") }
        guard nFFT >= 2, nFFT % 2 == 0, nFFT <= 1 << 16 else { throw fail("nFFT must be even, in 2…65536, got \(nFFT)") }
        guard hopLength > 0 else { throw fail("hopLength must be positive, got \(hopLength)") }
        guard winLength > 0, winLength <= nFFT else { throw fail("winLength must be in 1…nFFT (\(nFFT)), got \(winLength)") }
        guard power > 0, power.isFinite else { throw fail("power must be positive, got \(power)") }
        guard nMels > 0, nMels <= 1024 else { throw fail("nMels must be in 1…1024, got \(nMels)") }
        guard fmin >= 0, fmin < fmax, fmax <= Double(sampleRate) / 2 else {
            throw fail("need 0 ≤ fmin < fmax ≤ sampleRate/2, got fmin \(fmin), fmax \(fmax), sampleRate \(sampleRate)")
        }
        guard amin > 0 else { throw fail("amin must be positive, got \(amin)") }
        if let topDB { guard topDB >= 0 else { throw fail("topDB must be ≥ 0, got \(topDB)") } }
        switch kind {
        case .mfcc: guard nMFCC > 0, nMFCC <= nMels else { throw fail("nMFCC must be in 1…nMels (\(nMels)), got \(nMFCC)") }
        case .logmel: guard nMFCC == 0 else { throw fail("nMFCC must be 0 for log-mel features, got \(nMFCC)") }
        case .speechEmbedding:
            // The network was trained on this front end: nothing of it can change but the clip's length.
            var fixed = FeatureSettings.speechEmbedding
            (fixed.clipSamples, fixed.frames) = (clipSamples, frames)
            guard self == fixed else { throw fail("the speech embedding's front end is fixed (16 kHz, openWakeWord's mel): only the clip length may differ") }
            guard frames == Self.embeddingCount(sampleCount: clipSamples) else {
                throw fail("a \(clipSamples)-sample clip has \(Self.embeddingCount(sampleCount: clipSamples)) speech embeddings, not \(frames)")
            }
        }
        guard frames > 0, frames <= 100_000 else { throw fail("frames must be in 1…100000, got \(frames)") }
    }

    /// One line naming every parameter, for logs and `kws` output.
    public var description: String {
        var s = "\(kind.rawValue): sr \(sampleRate), clip \(clipSamples), n_fft \(nFFT), hop \(hopLength), win \(winLength) "
        s += "\(window.rawValue), center \(center) (\(padMode.rawValue)), power \(power), \(nMels) mels "
        s += "\(fmin)–\(fmax) Hz (\(melScale.rawValue), norm \(melNorm.rawValue)), dB ref \(dbReference.rawValue), "
        s += "amin \(amin), top_db \(topDB.map { "\($0)" } ?? "none")"
        if kind == .mfcc { s += ", \(nMFCC) DCT-II ortho coefficients" }
        if kind == .speechEmbedding { s += " (openWakeWord's mel ×0.1 + 2), Google's speech_embedding: 96 values per 76 frames, every 8" }
        s += ", \(frames) frames" + (perClipNormalization ? ", per-clip z-score" : "")
        return s
    }
}

/// Inconsistent `FeatureSettings`.
public struct FeatureSettingsError: Error, CustomStringConvertible, Equatable {
    public let message: String
    public var description: String { "feature settings: \(message)" }
}
