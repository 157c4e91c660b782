import Audio
import Foundation
import LEMModel
import ToolSupport

/// What `kws` stores in a checkpoint besides the model: everything `classify` needs to go from a
/// WAV file to a label.
struct KWSToolData: Codable {
    var labels: [String]
    var features: FeatureSettings
    var normalizer: FeatureNormalizer
    var dataset: SpeechCommandsOptions
    /// Where the training data came from (for the record).
    var data: String
    /// How the training clips were augmented (nil: not recorded, or no augmentation); a resumed
    /// run draws with the same settings.
    var augmentation: AugmentationSettings? = nil
}

/// A trained keyword spotter: model, labels and the feature pipeline.
struct KeywordSpotter {
    let model: SequenceClassifier
    let tool: KWSToolData
    let extractor: FeatureExtractor
    /// The model's replicas, one per core: a batch of clips is split between them.
    private let parallel: ParallelSequenceClassifier
    private let workspace = ClipWorkspace()

    /// With `int8` (or a checkpoint written by `kws quantize`) every replica's products run in int8.
    init(checkpoint path: String, int8: Bool = false) throws {
        let checkpoint = try Checkpoint.read(path: path, expectedKind: "kws")
        let tool = try checkpoint.tool(KWSToolData.self)
        let model = try checkpoint.sequenceClassifier()
        let config = model.config
        guard tool.labels.count == config.classCount, tool.features.featureCount == config.inputSize,
              tool.normalizer.featureCount == config.inputSize else {
            throw CheckpointError(path: path, problem: "labels, feature settings and model do not agree (corrupt or hand-edited checkpoint)")
        }
        do { extractor = try FeatureExtractor(settings: tool.features) } catch {
            throw CheckpointError(path: path, problem: "invalid feature settings: \(error)")
        }
        self.model = model
        self.tool = tool
        parallel = ParallelSequenceClassifier(model, workers: workerCount)
        if int8 || checkpoint.isQuantized { parallel.quantizeForInference() }
    }

    /// Call before scanning another stream with `streamOffsets` (its frames are not the last one's).
    func beginStream() { workspace.forgetStreams() }

    /// Class probabilities of clips (each already at the model's rate and length), one batch.
    /// The clips are split between the cores; each core computes the features of its clips,
    /// normalises them and runs its replica of the model on them.
    ///
    /// `streamOffsets`: the clips are windows of one stream starting at these samples (in
    /// ascending order from call to call, `beginStream()` before each stream): each core then keeps the mel frames its windows
    /// share (`MelFrameCache`), with the same features as without.
    func probabilities(ofClips clips: [[Float]], streamOffsets: [Int]? = nil) -> [[Float]] {
        let (T, F, B, C) = (extractor.frameCount, extractor.featureCount, clips.count, tool.labels.count)
        guard B > 0 else { return [] }
        let logits = workspace.logits(B * C)
        let scratch = (0..<workerCount).map { workspace.features(worker: $0, count: (B / workerCount + 1) * T * F) }
        let (extractor, normalizer) = (self.extractor, tool.normalizer)
        let caches = (0..<workerCount).map { workspace.frameCache(worker: $0) }
        parallel.logits(batch: B, steps: T, into: logits) { w, range, x in
            // This worker's clips `range`: features [clip, T, F], normalised, then time-major [T, clip, F].
            let f = scratch[w].pointer
            let n = range.count
            let cache = streamOffsets == nil ? nil : caches[w]
            for (j, b) in range.enumerated() {
                clips[b].withUnsafeBufferPointer {
                    extractor.compute($0, into: f + j * T * F, streamOffset: streamOffsets?[b] ?? 0, cache: cache)
                }
            }
            normalizer.apply(UnsafeMutableBufferPointer(start: f, count: n * T * F))
            for j in 0..<n { for t in 0..<T { (x + (t * n + j) * F).update(from: f + (j * T + t) * F, count: F) } }
        }
        return (0..<B).map { b in
            softmaxInPlace(logits + b * C, count: C)
            return Array(UnsafeBufferPointer(start: logits + b * C, count: C))
        }
    }
}

/// Buffers `KeywordSpotter` reuses from batch to batch (a stream is scanned in thousands of them).
final class ClipWorkspace: @unchecked Sendable {
    private var logitBuffer: FloatBuffer?
    private var featureBuffers: [FloatBuffer?] = []
    private var frameCaches: [MelFrameCache] = []

    func forgetStreams() { for cache in frameCaches { cache.removeAll() } }

    /// Worker `worker`'s mel frames of the stream being scanned.
    func frameCache(worker: Int) -> MelFrameCache {
        while frameCaches.count <= worker { frameCaches.append(MelFrameCache()) }
        return frameCaches[worker]
    }

    func logits(_ count: Int) -> UnsafeMutablePointer<Float> { ensureBuffer(&logitBuffer, count).pointer }

    /// Worker `worker`'s feature scratch of at least `count` floats.
    func features(worker: Int, count: Int) -> FloatBuffer {
        while featureBuffers.count <= worker { featureBuffers.append(nil) }
        return ensureBuffer(&featureBuffers[worker], count)
    }
}

/// With LEM_REPORT_PEAK_RSS=1 in the environment, prints the process's peak resident memory to
/// stderr (used by the tests that check long recordings are processed in bounded memory).
func reportPeakMemoryIfAsked() {
    if ProcessInfo.processInfo.environment["LEM_REPORT_PEAK_RSS"] == "1" {
        writeStandardError(String(format: "peak RSS %.1f MB\n", Benchmarking.peakRSSMegabytes()))
    }
}

/// Accuracy, per-class accuracy and the confusion matrix (rows = true class, columns = prediction).
struct ClassificationReport {
    var labels: [String]
    var confusion: [[Int]]
    var loss: Double

    var count: Int { confusion.reduce(0) { $0 + $1.reduce(0, +) } }

    /// The report over every MPI rank's clips (each rank evaluated its own share): confusion
    /// counts and the loss are summed over the ranks.
    func summed(over group: ProcessGroup) -> ClassificationReport {
        guard group.isDistributed else { return self }
        let C = confusion.count
        var values = confusion.flatMap { $0.map(Double.init) } + [loss * Double(count)]
        group.sum(&values)
        let total = values[0..<C * C].reduce(0, +)
        return ClassificationReport(labels: labels, confusion: (0..<C).map { r in (0..<C).map { Int(values[r * C + $0]) } },
                                    loss: values[C * C] / max(total, 1))
    }
    var correct: Int { confusion.indices.reduce(0) { $0 + confusion[$1][$1] } }
    var accuracy: Double { count == 0 ? 0 : Double(correct) / Double(count) }
    func classAccuracy(_ c: Int) -> Double? {
        let n = confusion[c].reduce(0, +)
        return n == 0 ? nil : Double(confusion[c][c]) / Double(n)
    }

    /// The matrix as aligned text, TF speech_commands style, with per-class accuracy.
    var table: String {
        let names = labels.map { String($0.prefix(9)) }
        var out = "true \\ predicted " + names.map { $0.padding(toLength: 9, withPad: " ", startingAt: 0) }.joined(separator: " ") + "  accuracy\n"
        for (i, row) in confusion.enumerated() {
            out += names[i].padding(toLength: 16, withPad: " ", startingAt: 0) + " "
            out += row.map { String($0).leftPadded(9) }.joined(separator: " ")
            out += classAccuracy(i).map { String(format: "  %6.2f%%", 100 * $0) } ?? "       -"
            out += "\n"
        }
        return out
    }
}

extension String {
    func leftPadded(_ width: Int) -> String { count >= width ? self : String(repeating: " ", count: width - count) + self }
}

/// Evaluates `model` on a split's (normalised) features, in chunks, without dropout.
func evaluate(_ model: SequenceClassifier, _ split: SplitFeatures, labels: [String], chunk: Int = 256) -> ClassificationReport {
    let C = model.config.classCount
    var confusion = [[Int]](repeating: [Int](repeating: 0, count: C), count: C)
    var loss = 0.0
    let T = split.frames
    var start = 0
    var rng = RandomGenerator(seed: 0)
    while start < split.count {
        let n = min(chunk, split.count - start)
        let x = timeMajorBatch(split, indices: Array(start..<(start + n)))
        let y = (start..<(start + n)).map { Int32(split.labels[$0]) }
        loss += model.run(features: x, labels: y, steps: T, batch: n, training: false, rng: &rng)
        let logits = model.lastLogits
        for b in 0..<n {
            let row = logits + b * C
            var best = 0
            for c in 1..<C where row[c] > row[best] { best = c }
            confusion[split.labels[start + b]][best] += 1
        }
        start += n
    }
    return ClassificationReport(labels: labels, confusion: confusion, loss: loss / Double(max(split.count, 1)))
}

/// Clips `indices` of a split as one time-major batch `[T, B, F]` (the LEM's input layout).
func timeMajorBatch(_ split: SplitFeatures, indices: [Int]) -> [Float] {
    let (T, F, B) = (split.frames, split.featureCount, indices.count)
    var x = [Float](repeating: 0, count: T * B * F)
    split.values.withUnsafeBufferPointer { src in
        x.withUnsafeMutableBufferPointer { dst in
            for (b, clip) in indices.enumerated() {
                for t in 0..<T {
                    (dst.baseAddress! + (t * B + b) * F).update(from: src.baseAddress! + (clip * T + t) * F, count: F)
                }
            }
        }
    }
    return x
}
