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
package struct CommandRecognizer {
    package let labels: [String]
    package var averageMs: Double = 1000
    package var suppressMs: Double = 500
    /// Per class; the keywords' default is `threshold`.
    package var thresholds: [Float]
    /// Windows needed in the averaging span before anything fires (TF's minimum_count).
    package var minimumCount = 3
    private var recent: [(time: Double, scores: [Float])] = []
    private var previousLabel: Int?
    private var previousTime = -Double.infinity

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
        guard isKeyword else {
            if labels[top] == "_silence_" { (previousLabel, previousTime) = (nil, -.infinity) }   // silence ends a word (TF)
            return nil
        }
        if average[top] > thresholds[top], top != previousLabel, time - previousTime > suppressMs {
            previousLabel = top
            previousTime = time
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

/// Runs `spotter` over a stream in 1 s windows every `strideMs` (posteriors computed in batches
/// of `streamBatch` windows, the mel frames that overlapping windows share computed once) and passes each window's posteriors to every recognizer, in bounded memory;
/// `onDetection(k, d)` sees each detection of recognizer k as it happens.
package func scanStream(_ stream: AudioStream, spotter: KeywordSpotter, strideMs: Int, recognizers: inout [CommandRecognizer],
                onDetection: (Int, Detection) -> Void) throws -> (windows: Int, seconds: Double) {
    let rate = spotter.tool.dataset.sampleRate, clip = spotter.tool.dataset.clipSamples
    var sliding = SlidingWindows(clip: clip, stride: strideMs * rate / 1000) { try stream.read(maximum: $0) }
    var windows = 0
    var pending: [(end: Int, samples: [Float])] = []
    spotter.beginStream()
    let start = Date()
    func flush() {
        guard !pending.isEmpty else { return }
        let results = spotter.probabilities(ofClips: pending.map(\.samples), streamOffsets: pending.map { $0.end - clip })
        for (w, p) in zip(pending, results) {
            let ms = Double(w.end) * 1000 / Double(rate)
            for k in recognizers.indices {
                if let d = recognizers[k].process(time: ms, scores: p) { onDetection(k, d) }
            }
        }
        windows += pending.count
        pending.removeAll(keepingCapacity: true)
    }
    while let window = try sliding.next() {
        pending.append((sliding.start + clip, window))
        if pending.count == streamBatch { flush() }
    }
    flush()
    return (windows, Date().timeIntervalSince(start))
}

/// Windows per model pass when a recorded stream is scanned: each core gets 64, enough for its
/// per-step products to run near the BLAS kernels' speed (a live stream goes one window at a time).
package let streamBatch = 64 * workerCount
