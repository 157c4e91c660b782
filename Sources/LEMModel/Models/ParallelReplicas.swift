/// Data-parallel training of a `LanguageModel` on all cores.
///
/// The B streams of a batch are split between replicas (one per worker, sharing the parameter
/// values); each runs its streams through the whole window with single-threaded BLAS and no
/// synchronisation inside the recurrence; the gradients are then averaged with weights
/// proportional to each replica's streams, which gives the full-batch gradient up to summation
/// order. Dropout masks are drawn per stream (`StreamGenerators`, seeded by one value of the
/// caller's generator), so the masks, and the result up to summation order, are the same for
/// any worker count; `firstStream` places these B streams in a larger batch split over MPI ranks.
public final class ParallelLanguageModel: @unchecked Sendable {
    public let model: LanguageModel
    let replicas: [LanguageModel]

    public init(_ model: LanguageModel, workers: Int? = nil) {
        self.model = model
        let workers = workers ?? dataParallelWorkers(hiddenSize: model.config.hiddenSize)
        replicas = [model] + (1..<max(1, workers)).map { _ in LanguageModel(config: model.config, sharing: model) }
    }

    /// Forward and backward of one window `[T, B]` (as `LanguageModel.run` with training), leaving
    /// the gradient of the mean loss in `model.parameters.grads` (overwritten) and the final
    /// state in `state`. Returns the summed loss.
    public func trainStep(tokens: [Int32], targets: [Int32], steps T: Int, batch B: Int,
                          state: inout RecurrentState, rng: inout RandomGenerator, firstStream: Int = 0) -> Double {
        let W = min(replicas.count, B)
        if W == 1 {
            model.parameters.zeroGrads()
            let loss = model.forward(tokens: tokens, targets: targets, steps: T, batch: B, state: &state, training: true, rng: &rng,
                                     firstStream: firstStream)
            model.backward()
            return loss
        }
        let ranges = contiguousShares(W, count: B)
        // Every replica takes the same dropout seed from a copy of the caller's generator, which
        // then advances as one `run` would have advanced it.
        let shared = rng
        _ = rng.next()
        var losses = [Double](repeating: 0, count: W)
        var states = ranges.map { state.streams($0, of: B) }
        losses.withUnsafeMutableBufferPointer { lossBuffer in
            states.withUnsafeMutableBufferPointer { stateBuffer in
                let lossesP = SendablePointer(lossBuffer.baseAddress!), statesP = SendablePointer(stateBuffer.baseAddress!)
                dataParallel(workers: W) { w in
                    let r = ranges[w], bw = r.count
                    var columnsIn = [Int32](repeating: 0, count: T * bw), columnsOut = columnsIn
                    gatherColumns(tokens, stride: B, rows: 0..<T, columns: r, into: &columnsIn)
                    gatherColumns(targets, stride: B, rows: 0..<T, columns: r, into: &columnsOut)
                    let replica = self.replicas[w]
                    replica.parameters.zeroGrads()
                    var workerRNG = shared
                    lossesP.pointer[w] = replica.forward(tokens: columnsIn, targets: columnsOut, steps: T, batch: bw,
                                                         state: &statesP.pointer[w], training: true, rng: &workerRNG,
                                                         firstStream: firstStream + r.lowerBound)
                    replica.backward()
                }
            }
        }
        for (w, r) in ranges.enumerated() {
            state.setStreams(r, of: B, from: states[w])
        }
        model.parameters.combineGradients(replicas.prefix(W).map(\.parameters), weights: ranges.map { Float($0.count) / Float(B) })
        return losses.reduce(0, +)
    }
}

/// Replicas for a LEM of hidden size d: one per core while the per-step recurrent weights (4d²
/// floats) are small; beyond 2²⁰ floats (4 MB, d > 512), one model with multi-threaded BLAS, because
/// each per-step product is then big enough to split well and every replica would otherwise
/// re-pack all the recurrent weights at every step (the measured crossover is in
/// docs/BENCHMARKS.md).
public func dataParallelWorkers(hiddenSize d: Int) -> Int {
    4 * d * d > 1 << 20 ? 1 : workerCount
}

/// Data-parallel training of a `SequenceClassifier`: the batch's sequences are split between
/// replicas as in `ParallelLanguageModel`.
public final class ParallelSequenceClassifier: @unchecked Sendable {
    public let model: SequenceClassifier
    let replicas: [SequenceClassifier]
    /// Each replica's slice of the batch `[T, B/W, m]`, kept from step to step.
    var replicaFeatures: [FloatBuffer?]

    public init(_ model: SequenceClassifier, workers: Int? = nil) {
        self.model = model
        let workers = workers ?? dataParallelWorkers(hiddenSize: model.config.hiddenSize)
        replicas = [model] + (1..<max(1, workers)).map { _ in SequenceClassifier(config: model.config, sharing: model) }
        replicaFeatures = Array(repeating: nil, count: replicas.count)
    }

    /// One batch `features [T, B, m]`, `labels [B]`: the gradient of the mean loss goes to
    /// `model.parameters.grads` (overwritten); returns the summed loss.
    public func trainStep(features: UnsafePointer<Float>, labels: UnsafePointer<Int32>, steps T: Int, batch B: Int,
                          rng: inout RandomGenerator, firstStream: Int = 0) -> Double {
        let W = min(replicas.count, B)
        let m = model.config.inputSize
        if W == 1 {
            model.parameters.zeroGrads()
            let loss = model.forward(features: features, labels: labels, steps: T, batch: B, training: true, rng: &rng, firstStream: firstStream)
            model.backward()
            return loss
        }
        let ranges = contiguousShares(W, count: B)
        let shared = rng
        _ = rng.next()
        var losses = [Double](repeating: 0, count: W)
        let featuresP = SendablePointer(UnsafeMutablePointer(mutating: features))
        let labelsP = SendablePointer(UnsafeMutablePointer(mutating: labels))
        let slices = (0..<W).map { w in SendablePointer(ensure(&replicaFeatures[w], T * ranges[w].count * m)) }
        losses.withUnsafeMutableBufferPointer { lossBuffer in
            let lossesP = SendablePointer(lossBuffer.baseAddress!)
            dataParallel(workers: W) { w in
                let r = ranges[w], bw = r.count
                let x = slices[w].pointer
                for t in 0..<T {
                    (x + t * bw * m).update(from: featuresP.pointer + (t * B + r.lowerBound) * m, count: bw * m)
                }
                let y = Array(UnsafeBufferPointer(start: labelsP.pointer + r.lowerBound, count: bw))
                let replica = self.replicas[w]
                replica.parameters.zeroGrads()
                var workerRNG = shared
                lossesP.pointer[w] = replica.forward(features: x, labels: y, steps: T, batch: bw, training: true, rng: &workerRNG,
                                                     firstStream: firstStream + r.lowerBound)
                replica.backward()
            }
        }
        model.parameters.combineGradients(replicas.prefix(W).map(\.parameters), weights: ranges.map { Float($0.count) / Float(B) })
        return losses.reduce(0, +)
    }

    /// Every replica's products on int8 copies of the weights (inference only; see
    /// `SequenceClassifier.quantizeForInference`).
    public func quantizeForInference() { for replica in replicas { replica.quantizeForInference() } }

    /// Inference: the logits `[B, C]` of a batch of B sequences of T steps, written to `logits`.
    /// The sequences are split between the replicas as in training, each replica on its own core
    /// with one BLAS thread (per-step products of a few dozen sequences are too small to share
    /// between BLAS threads, and their spinning costs more than it saves); `prepare(w, range, x)`
    /// fills worker w's time-major input `[T, range.count, m]` for sequences `range`, on the
    /// worker's core (so feature extraction runs there too).
    public func logits(batch B: Int, steps T: Int, into logits: UnsafeMutablePointer<Float>,
                       prepare: @Sendable (_ worker: Int, _ range: Range<Int>, _ x: UnsafeMutablePointer<Float>) -> Void) {
        let W = max(1, min(replicas.count, B))
        let m = model.config.inputSize, C = model.config.classCount
        let ranges = contiguousShares(W, count: B)
        let slices = (0..<W).map { w in SendablePointer(ensure(&replicaFeatures[w], T * ranges[w].count * m)) }
        let out = SendablePointer(logits)
        dataParallel(workers: W) { w in
            let r = ranges[w]
            guard !r.isEmpty else { return }
            prepare(w, r, slices[w].pointer)
            let result = self.replicas[w].logits(features: slices[w].pointer, steps: T, batch: r.count)
            (out.pointer + r.lowerBound * C).update(from: result, count: r.count * C)
        }
    }
}
