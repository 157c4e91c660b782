import Foundation
import LEMModel
import Text

/// The language-modelling task for the shared training loop, data-parallel on all cores
/// (`ParallelLanguageModel`) and, under MPI, over the ranks: rank r owns the contiguous share
/// `group.share(of: batch)` of the parallel streams (a rank count that does not divide the batch
/// is refused), with its own carried state; the resumable checkpoint holds every rank's state.
package final class LanguageModelTask: TrainingTask {
    package let kind = "lm"
    package let unitName = "tokens"
    package let model: LanguageModel
    package let parallel: ParallelLanguageModel
    package let tool: LMToolData
    package let batches: StreamBatches
    package let valid: [Int32]
    package let context: Int32
    package let group: ProcessGroup
    /// This rank's streams of the batch (all of them without MPI).
    package let streams: Range<Int>
    package let fingerprint: UInt64
    /// The recurrent state of this rank's streams, carried from window to window (reset at each epoch start).
    package var state: RecurrentState

    package init(model: LanguageModel, corpus: LanguageCorpus, tool: LMToolData, group: ProcessGroup = .single) throws {
        guard tool.batch % group.size == 0 else {
            throw TrainingError(description: "--batch \(tool.batch) does not split evenly over \(group.size) MPI ranks: use a multiple of \(group.size)")
        }
        self.model = model
        self.tool = tool
        self.group = group
        batches = StreamBatches(tokens: corpus.train, batch: tool.batch, bptt: tool.bptt)
        valid = corpus.valid
        context = contextToken(corpus.vocabulary, level: corpus.level)
        streams = group.share(of: tool.batch)
        state = model.initialState(batch: streams.count)
        parallel = ParallelLanguageModel(model)
        var f = Fingerprint()
        f.combine(corpus.train)
        f.combine(corpus.valid)
        f.combine([tool.batch, tool.bptt, tool.evalStreams, corpus.vocabulary.count])
        fingerprint = f.value
    }

    package var parameters: ParameterBlock { model.parameters }
    package var batchesPerEpoch: Int { batches.windowCount }

    package func beginEpoch(_ epoch: Int, seed: UInt64) throws {
        state = model.initialState(batch: streams.count)
    }

    package func trainBatch(_ index: Int, rng: inout RandomGenerator) -> BatchStats {
        let (inputs, targets, steps) = batches.window(index)
        let (B, b) = (batches.batch, streams.count)
        var mineIn = [Int32](repeating: 0, count: steps * b), mineOut = mineIn
        gatherColumns(inputs, stride: B, rows: 0..<steps, columns: streams, into: &mineIn)
        gatherColumns(targets, stride: B, rows: 0..<steps, columns: streams, into: &mineOut)
        let loss = parallel.trainStep(tokens: mineIn, targets: mineOut, steps: steps, batch: b, state: &state, rng: &rng,
                                      firstStream: streams.lowerBound)
        return BatchStats(lossSum: loss, lossCount: steps * b, units: steps * b)
    }

    package func validate() -> Evaluation {
        if tool.temperatureSearch == true {
            let (loss, count, temperature) = evaluateWithTemperatureSearch(model, tokens: valid, context: context, streams: tool.evalStreams,
                                                                           group: group)
            let mean = loss / Double(count)
            var result = Evaluation(loss: mean, metric: headline(mean, level: tool.level), metricName: tool.level.metricName, higherIsBetter: false,
                                    summary: String(format: "valid %@ (%@ tokens, softmax temperature %.2f)", formatHeadline(mean, level: tool.level),
                                                    formatCount(Double(count)), Double(temperature)))
            result.figures["temperature"] = Double(temperature)
            return result
        }
        let (loss, count) = evaluate(model, tokens: valid, context: context, streams: tool.evalStreams, group: group)
        let mean = loss / Double(count)
        return Evaluation(loss: mean, metric: headline(mean, level: tool.level), metricName: tool.level.metricName,
                          higherIsBetter: false, summary: "valid \(formatHeadline(mean, level: tool.level)) (\(formatCount(Double(count))) tokens)")
    }

    package func describeLoss(_ meanLoss: Double) -> String { formatHeadline(meanLoss, level: tool.level) }

    package func makeCheckpoint(optimizer: Optimizer?, training: TrainingProgress?) -> Checkpoint {
        // The carried state: hidden ("state.y", the LEM's name) and cell ("state.z") states, [L·B, d],
        // every rank's streams in place (a collective under MPI: every rank builds the checkpoint).
        let shape = [model.config.layers * tool.batch, model.config.hiddenSize]
        var extra: [String: (shape: [Int], values: [Float])] = [:]
        if training != nil {
            let whole = wholeBatchState()
            extra["state.y"] = (shape, whole.hidden)
            if !whole.cell.isEmpty { extra["state.z"] = (shape, whole.cell) }
        }
        return Checkpoint(kind: kind, model: model.config, tool: tool, parameters: model.parameters,
                          optimizer: optimizer, training: training, extra: extra)
    }

    package func restore(from checkpoint: Checkpoint) throws {
        let z = try checkpoint.extra("state.z") ?? []
        let whole = model.config.layers * tool.batch * model.config.hiddenSize
        guard let y = try checkpoint.extra("state.y"), y.count == whole, z.count == (state.cell.isEmpty ? 0 : whole) else {
            throw CheckpointError(path: checkpoint.path, problem: "cannot resume: the carried recurrent state is missing or has another batch size")
        }
        // Any rank count resumes the same file: each rank takes its own streams.
        state = RecurrentState(layers: model.config.layers, hidden: y, cell: z).streams(streams, of: tool.batch)
    }

    /// The carried state of the whole batch `[L, B, d]`: this rank's streams and, under MPI, the others'.
    private func wholeBatchState() -> RecurrentState {
        guard group.isDistributed else { return state }
        let hidden = group.gather(state.hidden), cell = group.gather(state.cell)
        var whole = model.initialState(batch: tool.batch)
        let part = state.hidden.count
        for r in 0..<group.size {
            let range = contiguousShare(r, of: group.size, count: tool.batch)
            let piece = RecurrentState(layers: model.config.layers, hidden: Array(hidden[r * part ..< (r + 1) * part]),
                                       cell: cell.isEmpty ? [] : Array(cell[r * part ..< (r + 1) * part]))
            whole.setStreams(range, of: tool.batch, from: piece)
        }
        return whole
    }
}
