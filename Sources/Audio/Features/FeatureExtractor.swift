// MFCC and log-mel features with FFTW, following librosa (see FeatureSettings for the table).

@preconcurrency import Glibc
import CFFTW
import Dispatch
import Runtime
import Synchronization

/// FFTW's planner is not thread-safe (docs/SWIFT_NOTES.md §3: concurrent planning crashed 5 runs of 5).
/// Every plan is created and destroyed under this lock, and `fftwf_make_planner_thread_safe()` is
/// called once, before the first plan, as a second line of defence (e.g. if another library in
/// the process plans too). Executing a plan (`fftwf_execute_dft_r2c` with new arrays) is
/// thread-safe and needs no lock.
private let fftwPlanner = Mutex<Bool>(false)

private func withFFTWPlanner<R: Sendable>(_ body: () -> R) -> R {
    fftwPlanner.withLock { madeThreadSafe in
        if !madeThreadSafe {
            fftwf_make_planner_thread_safe()
            madeThreadSafe = true
        }
        return body()
    }
}

/// Σ a[i]·b[i] with two 8-wide accumulators (fixed order, so the result is the same on every
/// run and thread; the filterbank dot products are 2–40 long).
@inline(always)
private func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> Float {
    var acc0 = SIMD8<Float>(), acc1 = SIMD8<Float>()
    var i = 0
    while i + 16 <= n {
        acc0 += UnsafeRawPointer(a + i).loadUnaligned(as: SIMD8<Float>.self) * UnsafeRawPointer(b + i).loadUnaligned(as: SIMD8<Float>.self)
        acc1 += UnsafeRawPointer(a + i + 8).loadUnaligned(as: SIMD8<Float>.self) * UnsafeRawPointer(b + i + 8).loadUnaligned(as: SIMD8<Float>.self)
        i += 16
    }
    if i + 8 <= n {
        acc0 += UnsafeRawPointer(a + i).loadUnaligned(as: SIMD8<Float>.self) * UnsafeRawPointer(b + i).loadUnaligned(as: SIMD8<Float>.self)
        i += 8
    }
    var sum = (acc0 + acc1).sum()
    while i < n {
        sum += a[i] * b[i]
        i += 1
    }
    return sum
}

/// An FFTW plan that may be shared between threads (only executed there, never re-planned).
private struct SharedPlan: @unchecked Sendable { let plan: fftwf_plan }

/// Computes `FeatureSettings` features for clips: window, mel filterbank, DCT matrix and one FFTW
/// r2c plan are built once in `init`; `compute` can then run on any number of threads at once.
///
/// Steps for a clip of n samples (librosa semantics, FeatureSettings table):
/// 1. frames: `1 + n / hop` (center) — frame t covers padded samples [t·hop, t·hop + nFFT), the
///    padding (nFFT/2 each side, zeros or reflection) is applied on the fly, not copied;
/// 2. window × frame → FFTW r2c (unnormalised) → |X|^power per bin;
/// 3. mel: the filterbank is stored sparsely (each triangle's non-zero bins only; a bin belongs
///    to at most two filters), so a frame costs ~2·bins multiply-adds instead of nMels·bins;
/// 4. dB: 10·log10(max(S, amin)) − 10·log10(max(ref, amin)), then clip at max − topDB;
/// 5. MFCC: DCT-II ortho of each frame's log-mels (y = Σ_m x[m]·Dᵀ[m, :], vectorised);
/// 6. pad with 0 / cut to `frames`; optional per-clip z-score (unbiased std, skipped when 0).
///
/// The mel and DCT products are Swift loops (SIMD8 dot products / vectorised row updates), not
/// BLAS: the sparse filterbank needs ~20× fewer multiply-adds than a dense frames × filterbank
/// GEMM, the DCT is tiny (101×40×40), `computeBatch` already uses both cores and calling
/// multi-threaded OpenBLAS from inside those workers would oversubscribe them (docs/SWIFT_NOTES.md §7),
/// and features come out bit-identical whatever `OPENBLAS_CORETYPE` selects.
///
/// Speed (release, 2 cores, 1 s clips, OPENBLAS_CORETYPE unset): MFCC ≈ 11,700 clips/s
/// (6,300 on one core); LEM log-mel ≈ 4,500 clips/s (2,400 on one core).
public final class FeatureExtractor: @unchecked Sendable {
    /// The settings this extractor computes.
    public let settings: FeatureSettings
    /// The speech embedding's network and mel front end (kind `.speechEmbedding` only).
    let speechEmbedding: SpeechEmbedding?
    let openWakeWordMel: OpenWakeWordMel?
    /// Values per frame (`settings.featureCount`).
    public var featureCount: Int { settings.featureCount }
    /// Frames per clip (`settings.frames`).
    public var frameCount: Int { settings.frames }
    /// Values per clip (`frames × featureCount`).
    public var valuesPerClip: Int { settings.valuesPerClip }

    /// The mel filterbank `[nMels, nFFT/2+1]` row-major, as Float (dense copy, for tests and inspection).
    public let melFilterbank: [Float]
    /// The DCT-II ortho matrix `[nMFCC, nMels]` row-major (empty for log-mel).
    public let dctMatrix: [Float]
    /// The analysis window, nFFT long.
    public let window: [Float]

    private let plan: SharedPlan
    private let bins: Int
    /// The tables `compute` reads, as raw memory owned by this object: Swift arrays read from two
    /// threads at once would bounce their reference counts between the cores.
    /// Sparse filterbank: filter m has weights `melWeights[melOffsets[m] ..< melOffsets[m+1]]`
    /// for bins `melFirstBin[m] …`.
    private let melFirstBin: UnsafeMutablePointer<Int>
    private let melOffsets: UnsafeMutablePointer<Int>
    private let melWeights: UnsafeMutablePointer<Float>
    /// The DCT matrix transposed, `[nMels, nMFCC]`, so that a frame's coefficients are a sum of
    /// scaled rows (vectorises without reordering any sum).
    private let dctTransposed: UnsafeMutablePointer<Float>
    private let windowTable: UnsafeMutablePointer<Float>
    private let windowStart: Int
    private let windowEnd: Int

    private static func table<T>(_ values: [T]) -> UnsafeMutablePointer<T> {
        let p = UnsafeMutablePointer<T>.allocate(capacity: max(1, values.count))
        values.withUnsafeBufferPointer { if let b = $0.baseAddress { p.initialize(from: b, count: values.count) } }
        return p
    }

    /// Builds the window, filterbank, DCT matrix and the FFTW plan (`FFTW_ESTIMATE`, so the plan —
    /// and therefore every feature value — is the same on every run). Throws
    /// `FeatureSettingsError` for inconsistent settings.
    public init(settings: FeatureSettings) throws {
        try settings.validate()
        self.settings = settings
        if settings.kind == .speechEmbedding {
            speechEmbedding = try SpeechEmbedding()
            openWakeWordMel = OpenWakeWordMel()
        } else {
            (speechEmbedding, openWakeWordMel) = (nil, nil)
        }
        bins = settings.binCount

        let windowD = analysisWindow(settings)
        window = windowD.map { Float($0) }
        windowStart = (settings.nFFT - settings.winLength) / 2
        windowEnd = windowStart + settings.winLength

        let bank = Audio.melFilterbank(settings)
        melFilterbank = bank.map { Float($0) }
        var first = [Int](), offsets = [0], weights = [Float]()
        for m in 0..<settings.nMels {
            let row = bank[(m * bins)..<((m + 1) * bins)]
            if let lo = row.firstIndex(where: { $0 != 0 }), let hi = row.lastIndex(where: { $0 != 0 }) {
                first.append(lo - m * bins)
                weights.append(contentsOf: row[lo...hi].map { Float($0) })
            } else {
                first.append(0)  // an empty filter (too many mels for the FFT size): always 0
            }
            offsets.append(weights.count)
        }
        melFirstBin = Self.table(first)
        melOffsets = Self.table(offsets)
        melWeights = Self.table(weights)
        windowTable = Self.table(window)

        let dct = settings.kind == .mfcc
            ? dctIIOrthoMatrix(count: settings.nMFCC, size: settings.nMels).map { Float($0) } : []
        dctMatrix = dct
        var transposed = [Float](repeating: 0, count: dct.count)
        for c in 0..<settings.nMFCC { for m in 0..<settings.nMels { transposed[m * settings.nMFCC + c] = dct[c * settings.nMels + m] } }
        dctTransposed = Self.table(transposed)

        // Plan on 64-byte-aligned arrays; `compute` executes it on its own 64-byte-aligned
        // buffers, so FFTW's alignment requirement for the new-array API holds (same alignment).
        let n = settings.nFFT, nBins = bins
        let madePlan: SharedPlan? = withFFTWPlanner {
            let input = UnsafeMutableRawPointer.allocate(byteCount: n * 4, alignment: 64).bindMemory(to: Float.self, capacity: n)
            let output = UnsafeMutableRawPointer.allocate(byteCount: nBins * 8, alignment: 64)
                .bindMemory(to: fftwf_complex.self, capacity: nBins)
            defer { input.deallocate(); output.deallocate() }
            return fftwf_plan_dft_r2c_1d(Int32(n), input, output, UInt32(FFTW_ESTIMATE)).map { SharedPlan(plan: $0) }
        }
        guard let madePlan else { throw FeatureSettingsError(message: "FFTW could not plan a \(n)-point real FFT") }
        plan = madePlan
    }

    deinit {
        let p = plan
        withFFTWPlanner { fftwf_destroy_plan(p.plan) }
        for table in [UnsafeMutableRawPointer(melFirstBin), UnsafeMutableRawPointer(melOffsets), UnsafeMutableRawPointer(melWeights),
                      UnsafeMutableRawPointer(dctTransposed), UnsafeMutableRawPointer(windowTable)] {
            table.deallocate()
        }
    }

    // MARK: - Speech embedding

    /// openWakeWord's features of one clip: an embedding of every 76 mel frames, 8 frames (80 ms)
    /// apart, from the clip's start. In a stream (`cache`, windows on the 10 ms grid) the mel
    /// frames are computed once (their dB values depend on their own samples only), and so is an
    /// embedding whose 76 frames the window's clamp (its maximum − 80 dB) leaves alone: windows
    /// 80 ms apart then compute one new embedding each instead of all of them. An embedding the
    /// clamp changes is recomputed for its window, so the features are those of the window alone
    /// (up to the rounding of a frame's DFT in a batch of another size).
    private func computeSpeechEmbeddings(_ samples: UnsafeBufferPointer<Float>, into output: UnsafeMutablePointer<Float>, streamOffset: Int,
                                         cache: MelFrameCache?, network: SpeechEmbedding, mel front: OpenWakeWordMel) {
        let (hop, bands, width, span) = (OpenWakeWordMel.hop, OpenWakeWordMel.bands, SpeechEmbedding.width, SpeechEmbedding.frames)
        // openWakeWord feeds its models int16 values: our samples are those / 32768.
        let pcm = samples.map { $0 * 32768 }
        let frames = pcm.count >= OpenWakeWordMel.nFFT ? (pcm.count - OpenWakeWordMel.nFFT) / hop + 1 : 0
        let cache = streamOffset % hop == 0 ? cache : nil
        var dB: [Float]
        if let cache {
            cache.drop(before: streamOffset, melCount: bands)
            dB = [Float](repeating: 0, count: frames * bands)
            var missing: [Int] = []
            for t in 0..<frames {
                if let row = cache.frame(startingAt: streamOffset + t * hop) {
                    dB.withUnsafeMutableBufferPointer { ($0.baseAddress! + t * bands).update(from: row, count: bands) }
                } else {
                    missing.append(t)
                }
            }
            let fresh = pcm.withUnsafeBufferPointer { front.decibels($0, frameStarts: missing.map { $0 * hop }) }
            fresh.withUnsafeBufferPointer { rows in
                for (j, t) in missing.enumerated() {
                    for b in 0..<bands { dB[t * bands + b] = rows[j * bands + b] }
                    cache.store(rows.baseAddress! + j * bands, startingAt: streamOffset + t * hop)
                }
            }
        } else {
            dB = pcm.withUnsafeBufferPointer { front.decibels($0, frameStarts: (0..<frames).map { $0 * hop }) }
        }
        let floor = (dB.max() ?? 0) - 80
        let embeddings = cache?.embeddings
        embeddings?.drop(before: streamOffset, melCount: width)
        var window = [Float](repeating: 0, count: span * bands)
        for i in 0..<settings.frames {
            let start = i * 8, row = output + i * width
            guard start + span <= frames else { row.initialize(repeating: 0, count: width); continue }   // a clip too short for this embedding
            let values = dB[(start * bands)..<((start + span) * bands)]
            let unclamped = values.min()! >= floor
            let key = streamOffset + start * hop
            if unclamped, let cached = embeddings?.frame(startingAt: key) { row.update(from: cached, count: width); continue }
            for (j, v) in values.enumerated() { window[j] = max(v, floor) / 10 + 2 }
            let e = window.withUnsafeBufferPointer { network($0) }
            row.update(from: e, count: width)
            if unclamped { embeddings?.store(e, startingAt: key) }
        }
    }

    // MARK: - One clip

    /// Computes the features of one clip into `output` (`frames × featureCount` values, row-major
    /// `[frame, feature]`). `samples` may have any length (the STFT covers all of it, then the
    /// frames are padded with 0 or cut). Thread-safe: scratch memory is allocated per call
    /// (one block; nothing per frame).
    public func compute(_ samples: UnsafeBufferPointer<Float>, into output: UnsafeMutablePointer<Float>) {
        compute(samples, into: output, streamOffset: 0, cache: nil)
    }

    /// As above, for a window that starts `streamOffset` samples into a longer stream: the mel
    /// powers of frames that lie wholly inside the window depend only on the stream's samples
    /// there, so they are looked up in `cache` (by their first sample in the stream) and computed
    /// only when missing. Overlapping windows then share their frames, and the features are
    /// bit-identical to computing each window alone (the same arithmetic fills the cache).
    /// Windows must come in non-decreasing `streamOffset` order per cache (earlier frames are
    /// dropped).
    public func compute(_ samples: UnsafeBufferPointer<Float>, into output: UnsafeMutablePointer<Float>, streamOffset: Int,
                        cache: MelFrameCache?) {
        if let speechEmbedding, let openWakeWordMel {
            computeSpeechEmbeddings(samples, into: output, streamOffset: streamOffset, cache: cache, network: speechEmbedding, mel: openWakeWordMel)
            return
        }
        let s = settings
        let n = samples.count, nFFT = s.nFFT, nMels = s.nMels, featureCount = s.featureCount
        let stftFrames = s.stftFrameCount(sampleCount: n)
        let pad = s.center ? nFFT / 2 : 0

        // Scratch: frame (nFFT) | spectrum (bins complex) | power (bins) | mel/dB (stftFrames × nMels)
        let frameBytes = (nFFT * 4 + 63) & ~63, spectrumBytes = (bins * 8 + 63) & ~63, powerBytes = (bins * 4 + 63) & ~63
        let scratch = UnsafeMutableRawPointer.allocate(
            byteCount: frameBytes + spectrumBytes + powerBytes + max(1, stftFrames * nMels) * 4, alignment: 64)
        defer { scratch.deallocate() }
        let frame = scratch.bindMemory(to: Float.self, capacity: nFFT)
        let spectrum = (scratch + frameBytes).bindMemory(to: fftwf_complex.self, capacity: bins)
        let powerSpectrum = (scratch + frameBytes + spectrumBytes).bindMemory(to: Float.self, capacity: bins)
        let mel = (scratch + frameBytes + spectrumBytes + powerBytes).bindMemory(to: Float.self, capacity: max(1, stftFrames * nMels))
        frame.initialize(repeating: 0, count: nFFT)  // outside the window it stays 0

        let reflect = s.padMode == .reflect
        let base = samples.baseAddress
        @inline(always) func paddedSample(_ index: Int) -> Float {
            if index >= 0 && index < n { return base![index] }
            guard reflect, n > 0 else { return 0 }
            if n == 1 { return base![0] }
            let period = 2 * (n - 1)  // numpy 'reflect' (edge not repeated), repeated as needed
            var i = index % period
            if i < 0 { i += period }
            return base![i < n ? i : period - i]
        }

        let power = Float(s.power)
        let window = windowTable, melWeights = melWeights, melOffsets = melOffsets, melFirstBin = melFirstBin
        cache?.drop(before: streamOffset, melCount: nMels)
        for t in 0..<stftFrames {
            let start = t * s.hopLength - pad  // sample index of frame position 0
            let interior = start + windowStart >= 0 && start + windowEnd <= n
            if interior, let cached = cache?.frame(startingAt: streamOffset + start) {
                (mel + t * nMels).update(from: cached, count: nMels)
                continue
            }
            if interior {
                let src = base! + start
                for j in windowStart..<windowEnd { frame[j] = src[j] * window[j] }
            } else {
                for j in windowStart..<windowEnd { frame[j] = paddedSample(start + j) * window[j] }
            }
            fftwf_execute_dft_r2c(plan.plan, frame, spectrum)
            if power == 2 {
                for k in 0..<bins { powerSpectrum[k] = spectrum[k].0 * spectrum[k].0 + spectrum[k].1 * spectrum[k].1 }
            } else if power == 1 {
                for k in 0..<bins { powerSpectrum[k] = (spectrum[k].0 * spectrum[k].0 + spectrum[k].1 * spectrum[k].1).squareRoot() }
            } else {
                let half = power / 2
                for k in 0..<bins { powerSpectrum[k] = powf(spectrum[k].0 * spectrum[k].0 + spectrum[k].1 * spectrum[k].1, half) }
            }
            let row = mel + t * nMels
            for m in 0..<nMels {
                let lo = melOffsets[m]
                row[m] = dot(melWeights + lo, powerSpectrum + melFirstBin[m], melOffsets[m + 1] - lo)
            }
            if interior { cache?.store(row, startingAt: streamOffset + start) }
        }

        // power_to_db over the whole STFT (librosa applies it before any cutting to `frames`).
        let melCount = stftFrames * nMels
        if melCount > 0 {
            let amin = Float(s.amin)
            var reference: Float = 0
            switch s.dbReference {
            case .one: reference = 0
            case .clipMaximum:
                var maximum = -Float.infinity
                for i in 0..<melCount { maximum = max(maximum, mel[i]) }
                reference = 10 * log10f(max(amin, maximum))
            }
            var maxDB = -Float.infinity
            for i in 0..<melCount {
                let db = 10 * log10f(max(amin, mel[i])) - reference
                mel[i] = db
                maxDB = max(maxDB, db)
            }
            if let topDB = s.topDB {
                let floor = maxDB - Float(topDB)
                for i in 0..<melCount { mel[i] = max(mel[i], floor) }
            }
        }

        // Final per-frame features, padded with 0 / cut to `frames`.
        let keptFrames = min(stftFrames, s.frames)
        switch s.kind {
        case .logmel, .speechEmbedding:   // (the speech embedding returned above)
            if keptFrames > 0 { output.update(from: mel, count: keptFrames * nMels) }
        case .mfcc:
            // y = Σ_m x[m] · Dᵀ[m, :]: the inner loop runs over independent outputs.
            let dT = dctTransposed
            for t in 0..<keptFrames {
                let x = mel + t * nMels, y = output + t * featureCount
                y.initialize(repeating: 0, count: featureCount)
                for m in 0..<nMels {
                    let xm = x[m], column = dT + m * featureCount
                    for c in 0..<featureCount { y[c] += xm * column[c] }
                }
            }
        }
        if keptFrames < s.frames {
            (output + keptFrames * featureCount).initialize(repeating: 0, count: (s.frames - keptFrames) * featureCount)
        }

        if s.perClipNormalization {
            let count = s.frames * featureCount
            var sum = 0.0
            for i in 0..<count { sum += Double(output[i]) }
            let mean = sum / Double(count)
            var squares = 0.0
            for i in 0..<count { let d = Double(output[i]) - mean; squares += d * d }
            let std = count > 1 ? (squares / Double(count - 1)).squareRoot() : 0  // torch .std(): unbiased
            if std != 0 {
                let m = Float(mean), inv = Float(1 / std)
                for i in 0..<count { output[i] = (output[i] - m) * inv }
            }
        }
    }

    /// The features of one clip as a new array (`frames × featureCount`, row-major).
    public func compute(_ samples: [Float]) -> [Float] {
        [Float](unsafeUninitializedCapacity: valuesPerClip) { buffer, initialized in
            samples.withUnsafeBufferPointer { compute($0, into: buffer.baseAddress!) }
            initialized = valuesPerClip
        }
    }

    // MARK: - Many clips, both cores

    /// Estimated elementary operations per clip, for `parallelChunks`' split decision.
    private func costPerClip(samples: Int) -> Int {
        max(1, settings.stftFrameCount(sampleCount: samples)) * settings.nFFT * 8
    }

    /// Computes every clip's features on all cores (one contiguous chunk of clips per worker).
    public func computeBatch(_ clips: [[Float]]) -> [[Float]] {
        var results = [[Float]](repeating: [], count: clips.count)
        guard !clips.isEmpty else { return results }
        results.withUnsafeMutableBufferPointer { buffer in
            let out = SendablePointer(buffer.baseAddress!)
            parallelChunks(clips.count, costPerItem: costPerClip(samples: clips[0].count)) { range, _ in
                for i in range { out.pointer[i] = self.compute(clips[i]) }
            }
        }
        return results
    }

    /// Computes every clip's features into one contiguous array `[clips, frames, featureCount]`
    /// (what the classifier's batches are cut from), on all cores.
    public func computeContiguous(_ clips: [[Float]]) -> [Float] {
        let per = valuesPerClip
        return [Float](unsafeUninitializedCapacity: clips.count * per) { buffer, initialized in
            if !clips.isEmpty {
                let out = SendablePointer(buffer.baseAddress!)
                parallelChunks(clips.count, costPerItem: costPerClip(samples: clips[0].count)) { range, _ in
                    for i in range {
                        clips[i].withUnsafeBufferPointer { self.compute($0, into: out.pointer + i * per) }
                    }
                }
            }
            initialized = clips.count * per
        }
    }
}
