import Foundation
import LEMModel
import TaskSupport
import Text

/// Where a language-modelling run reads its text.
package enum CorpusSource: Sendable {
    /// Mikolov's layout in a folder (nil: the built-in default corpus, built on first use).
    case directory(String?)
    /// Separate files: training, validation and optionally test text.
    case files(train: String, valid: String, test: String?)

    package func load(level: TextLevel) throws -> LanguageCorpus {
        switch self {
        case let .files(train, valid, test): return try LanguageCorpus.load(train: train, valid: valid, test: test, level: level)
        case let .directory(directory): return try LanguageCorpus.load(directory: directory ?? DefaultCorpus.text.directory(), level: level)
        }
    }
}

/// `lm train` as one call: the corpus, a new or resumed model, the task on the shared training
/// run, and the test of the best checkpoint at the end.
package struct LanguageModelTraining {
    package var corpus: CorpusSource
    package var level: TextLevel
    /// Every hyperparameter, already resolved from level defaults, a preset and the flags.
    package var hyperparameters: Hyperparameters
    package var architecture: Architecture
    package var checkpoint: String
    package var resume = false
    package var seed: UInt64 = 1
    package var limits = RunLimits()

    package init(corpus: CorpusSource, level: TextLevel, hyperparameters: Hyperparameters, architecture: Architecture, checkpoint: String,
                 resume: Bool = false, seed: UInt64 = 1, limits: RunLimits = RunLimits()) {
        (self.corpus, self.level, self.hyperparameters, self.architecture) = (corpus, level, hyperparameters, architecture)
        (self.checkpoint, self.resume, self.seed, self.limits) = (checkpoint, resume, seed, limits)
    }

    package func run(progress: ProgressSink) throws {
        let corpus = try self.corpus.load(level: level)
        let run = try TrainingRun(checkpoint: checkpoint, resume: resume, kind: "lm")
        var h = hyperparameters
        let model: LanguageModel
        let tool: LMToolData
        if let saved = run.resumed {
            let config = try saved.model(LanguageModelConfig.self)
            try architecture.checkResume(cell: config.cell, layers: config.layers, path: saved.path)
            let savedTool = try saved.tool(LMToolData.self)
            guard savedTool.vocabulary == corpus.vocabulary, savedTool.level == corpus.level else {
                throw CheckpointError(path: saved.path, problem: "vocabulary mismatch: it was trained on other data (or another --level) than \(corpus.files[0])")
            }
            model = LanguageModel(config: config)
            tool = savedTool
            h.batch = tool.batch; h.bptt = tool.bptt; h.evalStreams = tool.evalStreams
        } else {
            var config = LanguageModelConfig(vocabularySize: corpus.vocabulary.count, embeddingSize: h.embedding,
                                             hiddenSize: h.hidden, tied: h.tied, dt: h.dt)
            config.inputDropout = h.inputDropout
            config.outputDropout = h.outputDropout
            config.stateDropout = h.stateDropout
            config.cell = architecture.cell ?? .lem
            config.layers = architecture.layers ?? 1
            config.layerDropout = architecture.dropoutLayer ?? 0
            config.inputOutputMasks = h.masks
            if let problem = config.problem { throw SettingsError(problem) }
            model = LanguageModel(config: config)
            var rng = RandomGenerator(seed: seed)
            model.initialize(&rng)
            tool = LMToolData(level: corpus.level, vocabulary: corpus.vocabulary, batch: h.batch, bptt: h.bptt,
                              evalStreams: h.evalStreams, corpus: corpus.files, temperatureSearch: h.temperatureSearch)
        }
        let batches = corpus.train.count / h.batch
        guard batches >= 2 else {
            throw SettingsError("--batch \(h.batch) is too large for \(corpus.files[0]) (\(corpus.train.count) tokens): each stream needs at least 2 tokens")
        }
        if h.bptt > batches - 1 {
            throw SettingsError("--bptt \(h.bptt) is longer than the data: each of the \(h.batch) streams of \(corpus.files[0]) has only \(batches) tokens")
        }
        let task = try LanguageModelTask(model: model, corpus: corpus, tool: tool, group: run.group)
        var settings = TrainerSettings(
            epochs: h.epochs, learningRate: h.learningRate, schedule: h.schedule,
            optimizer: OptimizerSettings(kind: h.optimizer, weightDecay: h.weightDecay, l2InLoss: h.l2InLoss), clip: h.clip, seed: seed,
            checkpointPath: checkpoint)
        settings.averaging = h.averaging
        limits.apply(to: &settings)
        let header = header(corpus: corpus, model: model, h: h, batchesPerEpoch: task.batchesPerEpoch, run: run)
        let outcome = try run.train(task, settings: settings, header: header, progress: progress)
        // The other ranks are done: rank 0 alone reports and tests the best checkpoint.
        let level = tool.level
        try run.finish(outcome, unitName: "tokens", describeMetric: { String(format: "%@ %.4g", level.metricName, $0) },
                       curveTitle: "lm \(level.rawValue): \(checkpoint)", metricName: level.metricName) {
            try corpus.test.map { try testBestCheckpoint(test: $0, valid: corpus.valid, level: level) }
        }
    }

    /// The test metric of the best checkpoint; with lamb's temperature search, the temperature
    /// is chosen again on validation.
    private func testBestCheckpoint(test: [Int32], valid: [Int32], level: TextLevel) throws -> TrainingRun.TestReport {
        let (best, tool, _) = try loadLanguageModel(checkpoint)
        let context = contextToken(tool.vocabulary, level: level)
        let scale = tool.temperatureSearch == true
            ? evaluateWithTemperatureSearch(best, tokens: valid, context: context, streams: tool.evalStreams).temperature : 1
        let r = scale == 1
            ? { let (loss, count) = evaluate(best, tokens: test, context: context, streams: tool.evalStreams); return (full: [loss], tokens: count) }()
            : { let t = evaluateTempered(best, tokens: test, context: context, streams: tool.evalStreams, scales: [scale]); return (full: t.full, tokens: t.tokens) }()
        let mean = r.full[0] / Double(r.tokens)
        let line = "test \(level.metricName) \(String(format: "%.4g", headline(mean, level: level))) over \(formatCount(Double(r.tokens))) tokens"
            + (scale == 1 ? "" : String(format: " at softmax temperature %.2f", Double(scale))) + " (best checkpoint \(checkpoint))"
        return TrainingRun.TestReport(lines: [line], figures: ["loss": mean, "metric": headline(mean, level: level),
                                                               "tokens": Double(r.tokens), "temperature": Double(scale)])
    }

    private func header(corpus: LanguageCorpus, model: LanguageModel, h: Hyperparameters, batchesPerEpoch: Int, run: TrainingRun) -> [String] {
        let c = model.config
        let group = run.group
        var lines = [
            "lm train: \(corpus.level.rawValue) level, vocabulary \(formatCount(Double(corpus.vocabulary.count))), train \(formatCount(Double(corpus.train.count))) / valid \(formatCount(Double(corpus.valid.count))) / test \(corpus.test.map { formatCount(Double($0.count)) } ?? "-") tokens (\(corpus.files[0]))",
            "model: embedding \(c.embeddingSize)\(c.tied ? " (tied)" : ""), \(c.layers) × \(c.cell.displayName) hidden \(c.hiddenSize)"
                + (c.cell == .lem ? ", dt \(c.dt)" : "") + (c.layers > 1 ? String(format: ", dropout between layers %.2f", Double(c.layerDropout)) : "")
                + "; \(formatCount(Double(model.parameters.scalarCount))) parameters",
            String(format: "training: %@ lr %g, clip %@, dropout in/out/state %.2f/%.2f/%.2f (%@ masks), %@ %g, batch %d × bptt %d = %d batches/epoch, %d epochs",
                   h.optimizer.rawValue, Double(h.learningRate), h.clip.map { String(format: "%g", Double($0)) } ?? "none",
                   Double(c.inputDropout), Double(c.outputDropout), Double(c.stateDropout), c.inputOutputMasks.rawValue,
                   h.l2InLoss ? "L2 in the loss" : "weight decay", Double(h.weightDecay), h.batch, h.bptt, batchesPerEpoch, h.epochs)
                + (h.averaging.map { a in "; weight averaging after \(a.epochsWithoutImprovement) epochs without improvement" + (a.latestEpoch.map { " or at epoch \($0)" } ?? "") } ?? "")
                + (h.temperatureSearch ? "; softmax temperature searched on validation" : ""),
            "BLAS: OpenBLAS \(blasCoreName()) kernels, \(blasThreadCount()) threads"
                + (group.isDistributed ? " per rank × \(group.size) MPI ranks (\(h.batch / group.size) streams each)" : "")
                + "; checkpoint \(checkpoint)",
        ]
        if run.isResumed { lines[1] += " (resumed)" }
        return lines
    }
}
