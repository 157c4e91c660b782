// openWakeWord's front end run natively (tools/reference/openwakeword/FRONTEND-SPEC.md): its mel
// spectrogram (melspectrogram.onnx, computed here from its parameters) and Google's
// speech_embedding network (embedding_model.onnx's weights, Sources/Audio/Resources/), as
// matrix products on our BLAS. Parity with onnxruntime: SpeechEmbeddingTests.

import Foundation
import LEMModel
import Runtime

/// The mel spectrogram openWakeWord feeds Google's speech embedding: 25 ms periodic-Hann frames
/// (400 samples, centred in a 512-point DFT) every 10 ms, no centre padding; power spectrum;
/// 32 Slaney mel bands from 60 to 3,800 Hz (librosa's filterbank); 10·log10(max(mel, 1e-10)) dB
/// clamped at the call's maximum − 80 dB; then openWakeWord's `x/10 + 2`.
///
/// Input: samples as int16 values (not scaled to ±1), at 16 kHz. A call of S ≥ 512 samples gives
/// ⌊(S − 512)/160⌋ + 1 frames. The clamp is over the frames of the one call (as the ONNX model
/// does it), so a stream must be fed in the same calls as openWakeWord's (`SpeechEmbeddingStream`).
public struct OpenWakeWordMel: Sendable {
    public static let nFFT = 512, hop = 160, bands = 32, bins = 257
    /// [512, 514]: the windowed DFT basis, the 257 cosine columns then the 257 sine columns.
    let basis: [Float]
    /// [257, 32]: librosa.filters.mel(sr=16000, n_fft=512, n_mels=32, fmin=60, fmax=3800, norm="slaney").T
    let filterbank: [Float]

    public init() {
        let n = Self.nFFT, bins = Self.bins
        var basis = [Float](repeating: 0, count: n * 2 * bins)
        for i in 0..<400 {   // the window's support: samples 56 … 455 of the 512
            let w = 0.5 - 0.5 * cos(2 * Double.pi * Double(i) / 400)
            let t = 56 + i
            for k in 0..<bins {
                let angle = 2 * Double.pi * Double(k * t % n) / Double(n)
                basis[t * 2 * bins + k] = Float(w * cos(angle))
                basis[t * 2 * bins + bins + k] = Float(-w * sin(angle))
            }
        }
        self.basis = basis
        let edges = linspace(hzToMel(60, scale: .slaney), hzToMel(3800, scale: .slaney), Self.bands + 2).map { melToHz($0, scale: .slaney) }
        var fb = [Float](repeating: 0, count: bins * Self.bands)
        for j in 0..<Self.bands {
            let norm = 2 / (edges[j + 2] - edges[j])
            for k in 0..<bins {
                let hz = Double(k) * 16000 / Double(n)
                let rise = (hz - edges[j]) / (edges[j + 1] - edges[j]), fall = (edges[j + 2] - hz) / (edges[j + 2] - edges[j + 1])
                fb[k * Self.bands + j] = Float(max(0, min(rise, fall)) * norm)
            }
        }
        filterbank = fb
    }

    /// Frames of one call: [frames, 32] in openWakeWord's units (`dB/10 + 2`).
    public func callAsFunction(_ samples: [Float]) -> (frames: Int, values: [Float]) {
        guard samples.count >= Self.nFFT else { return (0, []) }
        let frames = (samples.count - Self.nFFT) / Self.hop + 1
        var mel = samples.withUnsafeBufferPointer { decibels($0, frameStarts: (0..<frames).map { $0 * Self.hop }) }
        let floor = (mel.max() ?? 0) - 80
        for i in mel.indices { mel[i] = max(mel[i], floor) / 10 + 2 }
        return (frames, mel)
    }

    /// The mel power in dB, 10·log10(max(mel, 1e-10)), before the call's clamp and scaling:
    /// [frameStarts.count, 32], frame j being samples[frameStarts[j] ..< frameStarts[j] + 512].
    /// A frame's values depend on its own samples only (a stream's windows share them:
    /// `FeatureExtractor`'s cache); the clamp at the call's maximum − 80 dB is the caller's.
    public func decibels(_ samples: UnsafeBufferPointer<Float>, frameStarts: [Int]) -> [Float] {
        let n = Self.nFFT, bins = Self.bins, bands = Self.bands, frames = frameStarts.count
        guard frames > 0 else { return [] }
        var spectrum = [Float](repeating: 0, count: frames * 2 * bins)
        // Each frame copied into a row (BLAS needs a row stride of at least the row's length),
        // then one product gives every frame's DFT.
        var framed = [Float](repeating: 0, count: frames * n)
        for (t, start) in frameStarts.enumerated() {
            precondition(start >= 0 && start + n <= samples.count)
            for i in 0..<n { framed[t * n + i] = samples[start + i] }
        }
        gemm(m: frames, n: 2 * bins, k: n, framed, lda: n, basis, ldb: 2 * bins, beta: 0, &spectrum, ldc: 2 * bins)
        var power = [Float](repeating: 0, count: frames * bins)
        for t in 0..<frames {
            for k in 0..<bins {
                let re = spectrum[t * 2 * bins + k], im = spectrum[t * 2 * bins + bins + k]
                power[t * bins + k] = re * re + im * im
            }
        }
        var mel = [Float](repeating: 0, count: frames * bands)
        gemm(m: frames, n: bands, k: bins, power, lda: bins, filterbank, ldb: bands, beta: 0, &mel, ldc: bands)
        for i in mel.indices { mel[i] = 10 * log10(max(mel[i], 1e-10)) }
        return mel
    }
}

/// Google's speech_embedding (arXiv 2002.01322) as openWakeWord re-implemented it: 76 mel frames
/// × 32 bands → 96 values, through 20 convolutions (kernels alternately 1×3 over the bands with
/// one zero on each side and 3×1 over time without padding; the first 3×3; batch norm folded),
/// each but the last followed by max(LeakyReLU₀.₂(v), −0.4), with 2×2 and 1×2 max-pools between
/// (FRONTEND-SPEC.md §5). Convolutions are im2col + one GEMM each.
public struct SpeechEmbedding: @unchecked Sendable {
    public static let frames = 76, bands = 32, width = 96
    struct Layer { var weight: [Float], bias: [Float]?, out: Int, input: Int, kt: Int, km: Int, padM: Int, poolAfter: (Int, Int)? }
    let layers: [Layer]

    /// The weights shipped with lem (`Resources/speech-embedding.safetensors`, Apache-2.0, from
    /// openWakeWord 0.5.1's embedding_model.onnx), or those of `path`.
    public init(path: String? = nil) throws {
        guard let file = path ?? Bundle.module.path(forResource: "speech-embedding", ofType: "safetensors") else {
            throw AudioError(source: "speech-embedding.safetensors", problem: "the speech embedding's weights are not installed beside the program (lem_Audio.resources)")
        }
        let weights: SafeTensorsFile
        do { weights = try SafeTensorsFile.read(path: file) } catch { throw AudioError(source: file, problem: "\(error)") }
        // Pools after layers 2, 6, 10, 14, 18 (0-based): 2×2, 1×2, 2×2, 1×2, 2×2 (time × mel).
        let pools: [Int: (Int, Int)] = [2: (2, 2), 6: (1, 2), 10: (2, 2), 14: (1, 2), 18: (2, 2)]
        var layers: [Layer] = []
        for i in 0..<20 {
            let shape = weights.tensors["conv\(i).weight"]?.shape ?? []
            guard shape.count == 4 else { throw AudioError(source: file, problem: "no conv\(i).weight of 4 dimensions") }
            let w: [Float], b: [Float]?
            do {
                w = try weights.floats("conv\(i).weight")
                b = i < 19 ? try weights.floats("conv\(i).bias") : nil
            } catch { throw AudioError(source: file, problem: "\(error)") }
            layers.append(Layer(weight: w, bias: b, out: shape[0], input: shape[1], kt: shape[2], km: shape[3], padM: shape[3] == 3 ? 1 : 0,
                                poolAfter: pools[i]))
        }
        guard layers.first?.input == 1, layers.last?.out == Self.width else { throw AudioError(source: file, problem: "not the speech embedding's layers") }
        self.layers = layers
        var (t, m, total) = (Self.frames, Self.bands, 0)
        for layer in layers {
            (t, m) = (t - layer.kt + 1, m + 2 * layer.padM - layer.km + 1)
            total += layer.out * layer.input * layer.kt * layer.km * t * m
            if let (pt, pm) = layer.poolAfter { (t, m) = (t / pt, m / pm) }
        }
        multiplyAdds = total
    }

    /// Multiply-adds of one embedding (its convolutions).
    public let multiplyAdds: Int

    /// The embedding of one window: `mel` holds 76 × 32 values (frame-major, openWakeWord's units).
    public func callAsFunction(_ mel: UnsafeBufferPointer<Float>) -> [Float] {
        precondition(mel.count == Self.frames * Self.bands)
        var x = Array(mel), (c, t, m) = (1, Self.frames, Self.bands)
        var columns: [Float] = []
        for (i, layer) in layers.enumerated() {
            let (tOut, mOut) = (t - layer.kt + 1, m + 2 * layer.padM - layer.km + 1)
            let k = c * layer.kt * layer.km, n = tOut * mOut
            if columns.count < k * n { columns = [Float](repeating: 0, count: k * n) }
            // im2col: row (ci, dt, dm), column (to, mo) = x[ci, to + dt, mo + dm − pad] (0 outside):
            // each (row, to) is one shifted run of a mel row, copied whole.
            x.withUnsafeBufferPointer { src in
                columns.withUnsafeMutableBufferPointer { col in
                    for ci in 0..<c {
                        for dt in 0..<layer.kt {
                            for dm in 0..<layer.km {
                                let row = ((ci * layer.kt + dt) * layer.km + dm) * n
                                let shift = dm - layer.padM
                                let lo = max(0, -shift), hi = min(mOut, m - shift)   // mo with 0 ≤ mo + shift < m
                                for to in 0..<tOut {
                                    let out = col.baseAddress! + row + to * mOut
                                    let input = src.baseAddress! + (ci * t + to + dt) * m + shift
                                    if lo > 0 { out.initialize(repeating: 0, count: lo) }
                                    if hi > lo { (out + lo).update(from: input + lo, count: hi - lo) }
                                    if hi < mOut { (out + max(hi, lo)).initialize(repeating: 0, count: mOut - max(hi, lo)) }
                                }
                            }
                        }
                    }
                }
            }
            var y = [Float](repeating: 0, count: layer.out * n)
            if let bias = layer.bias { for o in 0..<layer.out { for j in 0..<n { y[o * n + j] = bias[o] } } }
            gemm(m: layer.out, n: n, k: k, layer.weight, lda: k, columns, ldb: n, beta: layer.bias == nil ? 0 : 1, &y, ldc: n)
            if i < 19 { for j in y.indices { let v = y[j]; y[j] = v < 0 ? max(0.2 * v, -0.4) : v } }
            (x, c, t, m) = (y, layer.out, tOut, mOut)
            if let (pt, pm) = layer.poolAfter {
                let (tp, mp) = (t / pt, m / pm)
                var pooled = [Float](repeating: -.infinity, count: c * tp * mp)
                for ci in 0..<c { for a in 0..<tp { for b in 0..<mp {
                    var v = -Float.infinity
                    for u in 0..<pt { for w in 0..<pm { v = max(v, x[(ci * t + a * pt + u) * m + b * pm + w]) } }
                    pooled[(ci * tp + a) * mp + b] = v
                } } }
                (x, t, m) = (pooled, tp, mp)
            }
        }
        return x   // [96, 1, 1]
    }
}
