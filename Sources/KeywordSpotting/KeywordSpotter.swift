import Audio
import Foundation
import LEMModel
import TaskSupport

/// A trained keyword spotter: model, labels and the feature pipeline.
package struct KeywordSpotter {
    package let model: SequenceClassifier
    package let tool: KWSToolData
    package let extractor: FeatureExtractor
    /// The model's replicas, one per core: a batch of clips is split between them.
    private let parallel: ParallelSequenceClassifier
    private let workspace = ClipWorkspace()

    /// With `int8` (or a checkpoint written by `kws quantize`) every replica's products run in int8.
    package init(checkpoint path: String, int8: Bool = false) throws {
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

    /// Milliseconds between a stream's windows when the user gives none: openWakeWord's 80 ms
    /// for the speech embedding (one embedding every 80 ms: windows that far apart share all
    /// but one, computed once), else 100 ms.
    package var defaultStrideMs: Int { tool.features.kind == .speechEmbedding ? 80 : 100 }

    /// Call before scanning another stream with `streamOffsets` (its frames are not the last one's).
    package func beginStream() { workspace.forgetStreams() }

    /// Class probabilities of clips (each already at the model's rate and length), one batch.
    /// The clips are split between the cores; each core computes the features of its clips,
    /// normalises them and runs its replica of the model on them.
    ///
    /// `streamOffsets`: the clips are windows of one stream starting at these samples (in
    /// ascending order from call to call, `beginStream()` before each stream): each core then keeps the mel frames its windows
    /// share (`MelFrameCache`), with the same features as without.
    package func probabilities(ofClips clips: [[Float]], streamOffsets: [Int]? = nil) -> [[Float]] {
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
            copyTimeMajor(f, indices: 0..<n, steps: T, features: F, into: x)
        }
        return (0..<B).map { b in
            softmaxInPlace(logits + b * C, count: C)
            return Array(UnsafeBufferPointer(start: logits + b * C, count: C))
        }
    }
}

/// Buffers `KeywordSpotter` reuses from batch to batch (a stream is scanned in thousands of them).
package final class ClipWorkspace: @unchecked Sendable {
    private var logitBuffer: FloatBuffer?
    private var featureBuffers: [FloatBuffer?] = []
    private var frameCaches: [MelFrameCache] = []

    package func forgetStreams() { for cache in frameCaches { cache.removeAll() } }

    /// Worker `worker`'s mel frames of the stream being scanned.
    package func frameCache(worker: Int) -> MelFrameCache {
        while frameCaches.count <= worker { frameCaches.append(MelFrameCache()) }
        return frameCaches[worker]
    }

    package func logits(_ count: Int) -> UnsafeMutablePointer<Float> { ensureBuffer(&logitBuffer, count).pointer }

    /// Worker `worker`'s feature scratch of at least `count` floats.
    package func features(worker: Int, count: Int) -> FloatBuffer {
        while featureBuffers.count <= worker { featureBuffers.append(nil) }
        return ensureBuffer(&featureBuffers[worker], count)
    }
}
