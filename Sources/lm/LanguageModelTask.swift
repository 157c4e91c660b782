import Foundation
import LEMModel
import Text

/// What `lm` stores in a checkpoint besides the model: everything eval and sample need.
struct LMToolData: Codable {
    var level: TextLevel
    var vocabulary: Vocabulary
    /// Training settings, for the record (shown by eval; used by --resume).
    var batch: Int
    var bptt: Int
    var evalStreams: Int
    /// Where the training text came from.
    var corpus: [String]
}

/// The token that precedes the first token of a split, so that every token is predicted:
/// `<eos>` at the PTB levels (each line follows a line end); a line break for plain text.
func contextToken(_ vocabulary: Vocabulary, level: TextLevel) -> Int32 {
    switch level {
    case .word, .char: return vocabulary.id(endOfSentence) ?? 0
    case .text: return vocabulary.id("\n") ?? 0
    }
}

/// Summed cross-entropy (nats) over every token of `tokens`, with `streams` parallel streams
/// (1 = the exact sequential evaluation the literature reports). No dropout.
func evaluate(_ model: LanguageModel, tokens: [Int32], context: Int32, streams: Int, window: Int = 200) -> (loss: Double, tokens: Int) {
    let data = EvaluationStreams(tokens: tokens, context: context, streams: streams)
    var state = model.initialState(batch: data.streams)
    var rng = RandomGenerator(seed: 0)   // unused without dropout
    var total = 0.0
    var start = 0
    while start < data.length {
        let steps = min(window, data.length - start)
        let range = start * data.streams ..< (start + steps) * data.streams
        total += data.inputs[range].withUnsafeBufferPointer { inputs in
            data.targets[range].withUnsafeBufferPointer { targets in
                model.run(tokens: inputs.baseAddress!, targets: targets.baseAddress!, steps: steps, batch: data.streams,
                          state: &state, training: false, rng: &rng)
            }
        }
        start += steps
    }
    return (total, data.predictionCount)
}

/// Perplexity = exp(mean NLL) for words; bits per character = mean NLL / ln 2 otherwise.
func headline(_ meanLoss: Double, level: TextLevel) -> Double {
    level == .word ? exp(meanLoss) : meanLoss / log(2)
}

func formatHeadline(_ meanLoss: Double, level: TextLevel) -> String {
    level == .word ? String(format: "ppl %.2f", exp(meanLoss)) : String(format: "bpc %.4f", meanLoss / log(2))
}

/// The language-modelling task for the shared training loop, data-parallel on all cores
/// (`ParallelLanguageModel`).
final class LanguageModelTask: TrainingTask {
    let kind = "lm"
    let unitName = "tokens"
    let model: LanguageModel
    let parallel: ParallelLanguageModel
    let tool: LMToolData
    let batches: StreamBatches
    let valid: [Int32]
    let context: Int32
    /// The recurrent state carried from window to window (reset at each epoch start).
    var state: RecurrentState

    init(model: LanguageModel, corpus: LanguageCorpus, tool: LMToolData) {
        self.model = model
        self.tool = tool
        batches = StreamBatches(tokens: corpus.train, batch: tool.batch, bptt: tool.bptt)
        valid = corpus.valid
        context = contextToken(corpus.vocabulary, level: corpus.level)
        state = model.initialState(batch: tool.batch)
        parallel = ParallelLanguageModel(model)
    }

    var parameters: ParameterBlock { model.parameters }
    var batchesPerEpoch: Int { batches.windowCount }

    func beginEpoch(_ epoch: Int, seed: UInt64) {
        state = model.initialState(batch: tool.batch)
    }

    func trainBatch(_ index: Int, rng: inout RandomGenerator) -> BatchStats {
        let (inputs, targets, steps) = batches.window(index)
        let B = batches.batch
        let loss = parallel.trainStep(tokens: Array(inputs), targets: Array(targets), steps: steps, batch: B, state: &state, rng: &rng)
        return BatchStats(lossSum: loss, lossCount: steps * B, units: steps * B)
    }

    func validate() -> Evaluation {
        let (loss, count) = evaluate(model, tokens: valid, context: context, streams: tool.evalStreams)
        let mean = loss / Double(count)
        return Evaluation(loss: mean, metric: headline(mean, level: tool.level), metricName: tool.level.metricName,
                          higherIsBetter: false, summary: "valid \(formatHeadline(mean, level: tool.level)) (\(formatCount(Double(count))) tokens)")
    }

    func describeLoss(_ meanLoss: Double) -> String { formatHeadline(meanLoss, level: tool.level) }

    func makeCheckpoint(optimizer: Optimizer?, training: TrainingProgress?) -> Checkpoint {
        // The carried state: hidden ("state.y", the LEM's name) and cell ("state.z") states, [L·B, d].
        let shape = [model.config.layers * tool.batch, model.config.hiddenSize]
        var extra: [String: (shape: [Int], values: [Float])] = [:]
        if training != nil {
            extra["state.y"] = (shape, state.hidden)
            if !state.cell.isEmpty { extra["state.z"] = (shape, state.cell) }
        }
        return Checkpoint(kind: kind, model: model.config, tool: tool, parameters: model.parameters,
                          optimizer: optimizer, training: training, extra: extra)
    }

    func restore(from checkpoint: Checkpoint) throws {
        let z = try checkpoint.extra("state.z") ?? []
        guard let y = try checkpoint.extra("state.y"), y.count == state.hidden.count, z.count == state.cell.count else {
            throw CheckpointError(path: checkpoint.path, problem: "cannot resume: the carried recurrent state is missing or has another batch size")
        }
        state = RecurrentState(layers: model.config.layers, hidden: y, cell: z)
    }
}

/// Loads an `lm` checkpoint: the model with its parameters, and the tool data.
func loadLanguageModel(_ path: String) throws -> (LanguageModel, LMToolData, Checkpoint) {
    let checkpoint = try Checkpoint.read(path: path, expectedKind: "lm")
    let tool = try checkpoint.tool(LMToolData.self)
    let model = try checkpoint.languageModel()
    guard tool.vocabulary.count == model.config.vocabularySize else {
        throw CheckpointError(path: path, problem: "the vocabulary (\(tool.vocabulary.count) tokens) does not match the model (\(model.config.vocabularySize))")
    }
    return (model, tool, checkpoint)
}
