import Audio
import Foundation
import LEMModel
import TaskSupport

/// A keyword the stream detector reported: when (the end of the window that fired, in seconds
/// from the start of the stream), what and how sure (the averaged posterior).
package struct Detection: Equatable {
    package var time: Double
    package var label: String
    package var score: Float
}

/// TensorFlow's `RecognizeCommands` (speech_commands/recognize_commands.py): the posteriors of
/// the windows of the last `averageMs` are averaged; the top class fires when its average
/// exceeds its threshold, it is not the class that fired last, and more than `suppressMs` have
/// passed since that one fired (a word spoken once fires once). Only keywords fire: the
/// background classes (`_silence_`, `_unknown_`) end a detection but never raise one.
/// With `cooldownMs` > 0 the wake-word rule replaces the last two conditions: a keyword fires
/// whenever its average passes its threshold and `cooldownMs` have passed since any firing
/// (a wake-word engine's refractory time; TensorFlow's rule never lets a keyword fire twice
/// in a row unless silence wins in between, which a wake word spoken twice needs).
package struct CommandRecognizer {
    package let labels: [String]
    package var averageMs: Double = 1000
    package var suppressMs: Double = 500
    package var cooldownMs: Double = 0
    /// Windows in a row whose averaged top class is the keyword above its threshold before it
    /// fires (1: the first such window fires).
    package var consecutive = 1
    private var run = (label: -1, count: 0)
    /// Per class; the keywords' default is `threshold`.
    package var thresholds: [Float]
    /// Windows needed in the averaging span before anything fires (TF's minimum_count).
    package var minimumCount = 3
    private var recent: [(time: Double, scores: [Float])] = []
    private var previousLabel: Int?
    private var previousTime = -Double.infinity
    private var lastFiring = -Double.infinity

    package init(labels: [String], threshold: Float, perClass: [String: Float] = [:], averageMs: Double = 1000, suppressMs: Double = 500) {
        self.labels = labels
        self.averageMs = averageMs
        self.suppressMs = suppressMs
        thresholds = labels.map { perClass[$0] ?? threshold }
    }

    package static let background: Set<String> = ["_silence_", "_unknown_"]

    /// Feeds the posteriors of the window ending at `time` (ms); returns a detection if one fires.
    package mutating func process(time: Double, scores: [Float]) -> Detection? {
        recent.append((time, scores))
        while let first = recent.first, first.time <= time - averageMs { recent.removeFirst() }
        guard recent.count >= minimumCount else { return nil }
        var average = [Float](repeating: 0, count: scores.count)
        for r in recent { for c in average.indices { average[c] += r.scores[c] } }
        for c in average.indices { average[c] /= Float(recent.count) }
        let top = average.indices.max { average[$0] < average[$1] }!
        let isKeyword = !Self.background.contains(labels[top])
        run = isKeyword && average[top] > thresholds[top] ? (top, run.label == top ? run.count + 1 : 1) : (-1, 0)
        guard isKeyword else {
            if labels[top] == "_silence_" { (previousLabel, previousTime) = (nil, -.infinity) }   // silence ends a word (TF)
            return nil
        }
        let allowed = cooldownMs > 0 ? time - lastFiring >= cooldownMs : top != previousLabel && time - previousTime > suppressMs
        if average[top] > thresholds[top], run.count >= consecutive, allowed {
            previousLabel = top
            previousTime = time
            lastFiring = time
            return Detection(time: time / 1000, label: labels[top], score: average[top])
        }
        return nil
    }
}

/// 1 s windows over a stream every `stride` samples, on the 16-bit grid the model's training
/// clips live on (`roundToPCM16Grid`): first the stream's first second (zero-padded if shorter),
/// then each window shifted by what the stream delivers next (up to `stride` samples), keeping
/// the last second; a stride longer than the window skips audio.
package struct SlidingWindows {
    package let clip: Int, stride: Int
    private let read: (Int) throws -> [Float]
    private var window: [Float]?
    /// Where the current window starts, in samples from the start of the stream.
    package private(set) var start = 0
    /// Samples read from the stream so far (the current window ends there once it is full).
    package private(set) var samplesRead = 0

    package init(clip: Int, stride: Int, read: @escaping (Int) throws -> [Float]) {
        (self.clip, self.stride, self.read) = (clip, max(1, stride), read)
    }

    private mutating func readOnGrid(_ count: Int) throws -> [Float] {
        var samples = try read(count)
        roundToPCM16Grid(&samples)
        samplesRead += samples.count
        return samples
    }

    /// The next window, or nil once the stream is done.
    package mutating func next() throws -> [Float]? {
        guard let current = window else {
            var first = try readOnGrid(clip)
            first += [Float](repeating: 0, count: clip - first.count)
            window = first
            return first
        }
        let more = try readOnGrid(stride)
        guard !more.isEmpty else { return nil }
        let shifted = Array((current + more).suffix(clip))
        window = shifted
        start += more.count
        return shifted
    }
}

/// One window of a scanned stream and the model's posteriors for it.
package struct ScannedWindow {
    /// The window's first sample, and the samples read when it was complete: its end in the audio
    /// (the first window of a stream shorter than a clip ends early, zero-padded).
    package var start: Int, end: Int
    package var scores: [Float]
    /// Seconds of the model pass that computed it (shared by the windows of one batch).
    package var passSeconds: Double
    /// The window's level: 20·log10 of its RMS (dBFS; −∞ for digital silence).
    package var levelDB: Double = 0
    /// Its samples (for saving a detection's audio).
    package var samples: [Float] = []
}

/// 20·log10(RMS) of `x` in dBFS (−∞ when silent).
package func levelDB(_ x: [Float]) -> Double {
    let meanSquare = x.reduce(0.0) { $0 + Double($1) * Double($1) } / Double(max(x.count, 1))
    return 10 * log10(meanSquare)
}

/// A silence posterior: what an energy gate hands the recognizer for a window too quiet to hold a word.
package func silenceScores(labels: [String]) -> [Float] { labels.map { $0 == "_silence_" ? 1 : 0 } }

/// The one scan of audio by a keyword spotter, for `classify`, `eval-stream` and `listen`: 1 s
/// windows every `strideMs` (`SlidingWindows`, on the 16-bit grid), their posteriors computed
/// `batch` windows per model pass (each core's windows share their mel frames), handed to `body`
/// in order, in bounded memory. Recordings use `streamBatch`; live audio uses 1, so that each
/// window is answered as soon as it is complete. `shouldStop` is asked before each window.
/// Returns the windows scanned, the seconds it took and the samples read.
package func scanWindows(read: @escaping (Int) throws -> [Float], spotter: KeywordSpotter, strideMs: Int, batch: Int = streamBatch,
                         shouldStop: () -> Bool = { false }, _ body: (ScannedWindow) throws -> Void) throws -> (windows: Int, seconds: Double, samples: Int) {
    let rate = spotter.tool.dataset.sampleRate, clip = spotter.tool.dataset.clipSamples
    var sliding = SlidingWindows(clip: clip, stride: strideMs * rate / 1000, read: read)
    var windows = 0
    var pending: [(start: Int, end: Int, samples: [Float])] = []
    spotter.beginStream()
    let started = monotonicSeconds()
    func flush() throws {
        guard !pending.isEmpty else { return }
        let t0 = monotonicSeconds()
        let results = spotter.probabilities(ofClips: pending.map(\.samples), streamOffsets: pending.map(\.start))
        let pass = monotonicSeconds() - t0
        for (w, p) in zip(pending, results) {
            try body(ScannedWindow(start: w.start, end: w.end, scores: p, passSeconds: pass, levelDB: levelDB(w.samples), samples: w.samples))
        }
        windows += pending.count
        pending.removeAll(keepingCapacity: true)
    }
    while !shouldStop(), let window = try sliding.next(), sliding.samplesRead > 0 {
        pending.append((sliding.start, sliding.samplesRead, window))
        if pending.count >= batch { try flush() }
    }
    try flush()
    return (windows, monotonicSeconds() - started, sliding.samplesRead)
}

/// Windows per model pass when a recorded stream is scanned: each core gets 64, enough for its
/// per-step products to run near the BLAS kernels' speed (a live stream goes one window at a time).
package let streamBatch = 64 * workerCount
