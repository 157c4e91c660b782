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
    /// Evaluate at the softmax temperature lamb's search picks on the validation split (the
    /// authors' `eval_softmax_temperature` −0.8); nil or false: at temperature 1.
    var temperatureSearch: Bool?
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
///
/// Under MPI each rank runs its share of the streams and the sums are added over the ranks: the
/// same figure as one process (up to summation order). One stream cannot be split: with
/// `streams` 1, rank 0 evaluates and the others wait.
func evaluate(_ model: LanguageModel, tokens: [Int32], context: Int32, streams: Int, window: Int = 200,
              group: ProcessGroup = .single) -> (loss: Double, tokens: Int) {
    let data = EvaluationStreams(tokens: tokens, context: context, streams: streams)
    var total = 0.0
    forEachEvaluationWindow(model, data, window: window, group: group) { inputs, targets, steps, batch, state, rng in
        total += model.run(tokens: inputs, targets: targets, steps: steps, batch: batch, state: &state, training: false, rng: &rng)
    }
    var sums = [total]
    group.sum(&sums)
    return (sums[0], data.predictionCount)
}

/// Runs `body` on this rank's streams of `data`, window by window from a zero state that is
/// carried across windows: `body(inputs, targets, steps, batch, state, rng)` with `[steps, batch]`
/// token columns (targets −1 past the end); column j is stream `group.share(of: data.streams)[j]`.
private func forEachEvaluationWindow(_ model: LanguageModel, _ data: EvaluationStreams, window: Int, group: ProcessGroup,
                                     _ body: (_ inputs: [Int32], _ targets: [Int32], _ steps: Int, _ batch: Int,
                                              _ state: inout RecurrentState, _ rng: inout RandomGenerator) -> Void) {
    let mine = group.share(of: data.streams), S = data.streams, B = mine.count
    guard B > 0 else { return }
    var state = model.initialState(batch: B)
    var rng = RandomGenerator(seed: 0)   // unused without dropout
    var inputs = [Int32](repeating: 0, count: window * B), targets = inputs
    var start = 0
    while start < data.length {
        let steps = min(window, data.length - start)
        for t in 0..<steps {
            for (j, s) in mine.enumerated() {
                inputs[t * B + j] = data.inputs[(start + t) * S + s]
                targets[t * B + j] = data.targets[(start + t) * S + s]
            }
        }
        body(inputs, targets, steps, B, &state, &rng)
        start += steps
    }
}

/// lamb's evaluation softmax temperatures: multipliers of the logits from 1.06 down to 0.80 in
/// steps of 0.02 (`eval_softmax_temperature` −0.8 in the authors' configurations).
let temperatureGrid: [Float] = (0...13).map { Float(106 - 2 * $0) / 100 }   // exact hundredths: 1.00 is 1

/// Tokens at the start of the validation split on which the temperature is chosen (lamb's
/// `eval_softmax_temperature_estimation_num_tokens`).
let temperatureSearchTokens = 50_000

/// lamb's search over `temperatureGrid`: walk the grid in order, keep the lowest loss, stop
/// once the best point is two or more steps behind (two evaluations in a row without a gain).
func lambTemperatureChoice(_ losses: [Double]) -> Int {
    var best = 0
    for i in 1..<losses.count {
        if losses[i] < losses[best] { best = i } else if best + 1 < i { break }
    }
    return best
}

/// The split's summed cross-entropy at each logit multiplier of `scales`, over the whole split
/// and over its first `searchTokens` tokens, in one forward pass (the logits do not depend on
/// the temperature, so every multiplier is evaluated on the same logits). Under MPI as `evaluate`.
func evaluateTempered(_ model: LanguageModel, tokens: [Int32], context: Int32, streams: Int, scales: [Float], searchTokens: Int = 0,
                      window: Int = 200, group: ProcessGroup = .single) -> (full: [Double], search: [Double], tokens: Int) {
    let data = EvaluationStreams(tokens: tokens, context: context, streams: streams)
    let mine = group.share(of: data.streams), G = scales.count
    let V = model.config.vocabularySize
    var sums = [Double](repeating: 0, count: 2 * G)   // [whole split | search prefix] per multiplier
    var start = 0
    forEachEvaluationWindow(model, data, window: window, group: group) { inputs, targets, steps, B, state, rng in
        _ = model.run(tokens: inputs, targets: targets, steps: steps, batch: B, state: &state, training: false, rng: &rng)
        let rows = targets.withUnsafeBufferPointer {
            temperedCrossEntropyRows(logits: model.lastLogits, rows: steps * B, classes: V, targets: $0.baseAddress!, scales: scales)
        }
        for t in 0..<steps {
            for (j, s) in mine.enumerated() where targets[t * B + j] >= 0 {
                let inSearch = s * data.length + start + t < searchTokens   // the token's place in the split
                for g in 0..<G {
                    let nll = Double(rows[(t * B + j) * G + g])
                    sums[g] += nll
                    if inSearch { sums[G + g] += nll }
                }
            }
        }
        start += steps
    }
    group.sum(&sums)
    return (Array(sums[..<G]), Array(sums[G...]), data.predictionCount)
}

/// The split's summed cross-entropy at the temperature lamb's search picks on its first
/// `temperatureSearchTokens` tokens, and that temperature (a multiplier of the logits).
func evaluateWithTemperatureSearch(_ model: LanguageModel, tokens: [Int32], context: Int32, streams: Int,
                                   group: ProcessGroup = .single) -> (loss: Double, tokens: Int, temperature: Float) {
    let r = evaluateTempered(model, tokens: tokens, context: context, streams: streams, scales: temperatureGrid,
                             searchTokens: temperatureSearchTokens, group: group)
    let choice = lambTemperatureChoice(r.search)
    return (r.full[choice], r.tokens, temperatureGrid[choice])
}

/// Perplexity = exp(mean NLL) for words; bits per character = mean NLL / ln 2 otherwise.
func headline(_ meanLoss: Double, level: TextLevel) -> Double {
    level == .word ? exp(meanLoss) : meanLoss / log(2)
}

func formatHeadline(_ meanLoss: Double, level: TextLevel) -> String {
    level == .word ? String(format: "ppl %.2f", exp(meanLoss)) : String(format: "bpc %.4f", meanLoss / log(2))
}

/// The language-modelling task for the shared training loop, data-parallel on all cores
/// (`ParallelLanguageModel`) and, under MPI, over the ranks: rank r owns the contiguous share
/// `group.share(of: batch)` of the parallel streams (a rank count that does not divide the batch
/// is refused), with its own carried state; the resumable checkpoint holds every rank's state.
final class LanguageModelTask: TrainingTask {
    let kind = "lm"
    let unitName = "tokens"
    let model: LanguageModel
    let parallel: ParallelLanguageModel
    let tool: LMToolData
    let batches: StreamBatches
    let valid: [Int32]
    let context: Int32
    let group: ProcessGroup
    /// This rank's streams of the batch (all of them without MPI).
    let streams: Range<Int>
    let fingerprint: UInt64
    /// The recurrent state of this rank's streams, carried from window to window (reset at each epoch start).
    var state: RecurrentState

    init(model: LanguageModel, corpus: LanguageCorpus, tool: LMToolData, group: ProcessGroup = .single) throws {
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

    var parameters: ParameterBlock { model.parameters }
    var batchesPerEpoch: Int { batches.windowCount }

    func beginEpoch(_ epoch: Int, seed: UInt64) throws {
        state = model.initialState(batch: streams.count)
    }

    func trainBatch(_ index: Int, rng: inout RandomGenerator) -> BatchStats {
        let (inputs, targets, steps) = batches.window(index)
        let (B, b) = (batches.batch, streams.count)
        var mineIn = [Int32](repeating: 0, count: steps * b), mineOut = mineIn
        inputs.withUnsafeBufferPointer { x in
            targets.withUnsafeBufferPointer { y in
                for t in 0..<steps {
                    for (j, s) in streams.enumerated() {
                        mineIn[t * b + j] = x[t * B + s]
                        mineOut[t * b + j] = y[t * B + s]
                    }
                }
            }
        }
        let loss = parallel.trainStep(tokens: mineIn, targets: mineOut, steps: steps, batch: b, state: &state, rng: &rng,
                                      firstStream: streams.lowerBound)
        return BatchStats(lossSum: loss, lossCount: steps * b, units: steps * b)
    }

    func validate() -> Evaluation {
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

    func describeLoss(_ meanLoss: Double) -> String { formatHeadline(meanLoss, level: tool.level) }

    func makeCheckpoint(optimizer: Optimizer?, training: TrainingProgress?) -> Checkpoint {
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

    func restore(from checkpoint: Checkpoint) throws {
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
            let range = tool.batch * r / group.size ..< tool.batch * (r + 1) / group.size
            let piece = RecurrentState(layers: model.config.layers, hidden: Array(hidden[r * part ..< (r + 1) * part]),
                                       cell: cell.isEmpty ? [] : Array(cell[r * part ..< (r + 1) * part]))
            whole.setStreams(range, of: tool.batch, from: piece)
        }
        return whole
    }
}

/// Loads an `lm` checkpoint: the model with its parameters, and the tool data.
/// The model of an `lm` checkpoint; with `int8` (or a checkpoint written by `lm quantize`) its
/// products run in int8 (`LanguageModel.quantizeForInference`).
func loadLanguageModel(_ path: String, int8: Bool = false) throws -> (LanguageModel, LMToolData, Checkpoint) {
    let checkpoint = try Checkpoint.read(path: path, expectedKind: "lm")
    let tool = try checkpoint.tool(LMToolData.self)
    let model = try checkpoint.languageModel()
    guard tool.vocabulary.count == model.config.vocabularySize else {
        throw CheckpointError(path: path, problem: "the vocabulary (\(tool.vocabulary.count) tokens) does not match the model (\(model.config.vocabularySize))")
    }
    if int8 || checkpoint.isQuantized { model.quantizeForInference() }
    return (model, tool, checkpoint)
}
