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
/// (FRONTEND-SPEC.md §5).
///
/// Activations are channel-major `[C, T, M]`. A 3×1 convolution over time is three matrix
/// products on shifted views of its input, y += W_dt · x[:, dt…, :] (a time shift of the whole
/// `[T, M]` plane is a plain offset, so nothing is copied); the 1×3 (and the first 3×3)
/// convolutions build their im2col rows by whole blocks, one copy per (channel, tap) and zeros at
/// the band edges. (Rows copied one time step at a time, and a fresh array per layer, cost as
/// much as the products: `kws listen` spent 42 % of its time outside them.)
public struct SpeechEmbedding: @unchecked Sendable {
    public static let frames = 76, bands = 32, width = 96
    struct Layer {
        /// `[out, input·kt·km]` as stored (im2col order), or for a 3×1 layer `[kt][out, input]`.
        var weight: [Float]
        var bias: [Float]?
        var out: Int, input: Int, kt: Int, km: Int, padM: Int, poolAfter: (Int, Int)?
        /// The input's time and band sizes, and the output's before any pool.
        var t = 0, m = 0, tOut = 0, mOut = 0
        /// A convolution over time only: three shifted products, no im2col.
        var overTimeOnly: Bool { km == 1 && padM == 0 }
    }
    let layers: [Layer]
    /// Floats of the largest activation (any layer's output before pooling, or the input) and of
    /// the largest im2col matrix: the workspace of one call.
    let activationCapacity: Int, columnCapacity: Int

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
        var (t, m, total) = (Self.frames, Self.bands, 0)
        var (activations, columns) = (t * m, 0)
        for i in 0..<20 {
            let shape = weights.tensors["conv\(i).weight"]?.shape ?? []
            guard shape.count == 4 else { throw AudioError(source: file, problem: "no conv\(i).weight of 4 dimensions") }
            var w: [Float], b: [Float]?
            do {
                w = try weights.floats("conv\(i).weight")
                b = i < 19 ? try weights.floats("conv\(i).bias") : nil
            } catch { throw AudioError(source: file, problem: "\(error)") }
            var layer = Layer(weight: w, bias: b, out: shape[0], input: shape[1], kt: shape[2], km: shape[3], padM: shape[3] == 3 ? 1 : 0,
                              poolAfter: pools[i])
            guard i == 0 ? layer.input == 1 : layer.input == layers[i - 1].out else { throw AudioError(source: file, problem: "conv\(i)'s input is not conv\(i - 1)'s output") }
            (layer.t, layer.m) = (t, m)
            (layer.tOut, layer.mOut) = (t - layer.kt + 1, m + 2 * layer.padM - layer.km + 1)
            guard layer.tOut > 0, layer.mOut == m else { throw AudioError(source: file, problem: "conv\(i) does not fit the embedding's shapes") }
            if layer.overTimeOnly {
                // [out, input, kt] → [kt][out, input]: each tap's matrix contiguous.
                let (o, c, k) = (layer.out, layer.input, layer.kt)
                var taps = [Float](repeating: 0, count: w.count)
                for r in 0..<o { for ci in 0..<c { for dt in 0..<k { taps[(dt * o + r) * c + ci] = w[(r * c + ci) * k + dt] } } }
                layer.weight = taps
            } else {
                columns = max(columns, layer.input * layer.kt * layer.km * layer.tOut * layer.mOut)
            }
            total += layer.out * layer.input * layer.kt * layer.km * layer.tOut * layer.mOut
            activations = max(activations, layer.out * layer.tOut * layer.mOut)
            (t, m) = (layer.tOut, layer.mOut)
            if let (pt, pm) = layer.poolAfter { (t, m) = (t / pt, m / pm) }
            layers.append(layer)
        }
        guard layers.last?.out == Self.width, t == 1, m == 1 else { throw AudioError(source: file, problem: "not the speech embedding's layers") }
        self.layers = layers
        multiplyAdds = total
        (activationCapacity, columnCapacity) = (activations, columns)
    }

    /// Multiply-adds of one embedding (its convolutions).
    public let multiplyAdds: Int

    /// The embedding of one window: `mel` holds 76 × 32 values (frame-major, openWakeWord's units).
    public func callAsFunction(_ mel: UnsafeBufferPointer<Float>) -> [Float] {
        precondition(mel.count == Self.frames * Self.bands)
        // One workspace per call (the struct is shared between threads): two activation buffers
        // used in turn, and the im2col matrix.
        let work = UnsafeMutablePointer<Float>.allocate(capacity: 2 * activationCapacity + columnCapacity)
        defer { work.deallocate() }
        var (x, y) = (work, work + activationCapacity)
        let columns = work + 2 * activationCapacity
        x.update(from: mel.baseAddress!, count: mel.count)
        for layer in layers {
            let (c, t, m, o) = (layer.input, layer.t, layer.m, layer.out)
            let (tOut, mOut) = (layer.tOut, layer.mOut)
            let n = tOut * mOut
            if layer.overTimeOnly {
                // y[o, to, mo] = Σ_dt Σ_ci W_dt[o, ci] · x[ci, to + dt, mo]: x shifted by dt·m
                // floats is the tap's [c, tOut·m] matrix, with rows t·m apart.
                layer.weight.withUnsafeBufferPointer { w in
                    for dt in 0..<layer.kt {
                        gemm(m: o, n: n, k: c, w.baseAddress! + dt * o * c, lda: c, x + dt * m, ldb: t * m, beta: dt == 0 ? 0 : 1, y, ldc: n)
                    }
                }
            } else {
                // im2col: row (ci, dt, dm), column (to, mo) = x[ci, to + dt, mo + dm − pad], 0 outside
                // the bands. A row is the plane x[ci, dt…, :] shifted by (dm − pad) floats, copied
                // whole; the positions whose band falls outside are then zeroed (one per time step).
                for ci in 0..<c {
                    for dt in 0..<layer.kt {
                        for dm in 0..<layer.km {
                            let row = columns + ((ci * layer.kt + dt) * layer.km + dm) * n
                            let source = x + (ci * t + dt) * m
                            let shift = dm - layer.padM
                            let lo = max(0, -shift), hi = min(mOut, m - shift)   // mo with 0 ≤ mo + shift < m
                            (row + lo).update(from: source + lo + shift, count: n - lo - (mOut - hi))
                            for to in 0..<tOut {
                                for mo in 0..<lo { row[to * mOut + mo] = 0 }
                                for mo in hi..<mOut { row[to * mOut + mo] = 0 }
                            }
                        }
                    }
                }
                layer.weight.withUnsafeBufferPointer { w in
                    gemm(m: o, n: n, k: c * layer.kt * layer.km, w.baseAddress!, lda: c * layer.kt * layer.km, columns, ldb: n, beta: 0, y, ldc: n)
                }
            }
            // Bias and activation in one pass (the last layer has neither).
            if let bias = layer.bias {
                for r in 0..<o {
                    let (b, out) = (bias[r], y + r * n)
                    for j in 0..<n { let v = out[j] + b; out[j] = v < 0 ? max(0.2 * v, -0.4) : v }
                }
            }
            swap(&x, &y)
            if let (pt, pm) = layer.poolAfter {
                // Max-pool [o, tOut, mOut] → [o, tOut/pt, mOut/pm] from x into y, then swap back.
                let (tp, mp) = (tOut / pt, mOut / pm)
                for ci in 0..<o {
                    for a in 0..<tp {
                        let out = y + (ci * tp + a) * mp
                        for b in 0..<mp {
                            var v = -Float.infinity
                            for u in 0..<pt { for w in 0..<pm { v = max(v, x[(ci * tOut + a * pt + u) * mOut + b * pm + w]) } }
                            out[b] = v
                        }
                    }
                }
                swap(&x, &y)
            }
        }
        return Array(UnsafeBufferPointer(start: x, count: Self.width))   // [96, 1, 1]
    }
}
