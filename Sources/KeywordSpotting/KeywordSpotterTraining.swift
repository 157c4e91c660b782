import Audio
import Foundation
import LEMModel
import TaskSupport

/// `kws train` as one call: the Speech Commands folder, features (augmented, normalised), a new,
/// initialised (`initial`) or resumed model, the task on the shared training run, and the test
/// accuracy and confusion matrix of the best checkpoint at the end.
package struct KeywordSpotterTraining {
    /// A Speech Commands folder (nil: the built-in synthetic corpus, built on first use).
    package var data: String?
    /// Further Speech Commands folders read with `data` as one dataset (`SpeechCommands(roots:)`).
    package var moreData: [String] = []
    package var preset: KeywordSpotterPreset?
    package var hyperparameters: KeywordHyperparameters
    package var featureOverrides = FeatureOverrides()
    package var architecture = Architecture()
    /// How the folder is split and what the training split adds (a resumed run keeps its own).
    package var dataset: SpeechCommandsOptions
    /// Augment the training clips as TensorFlow does (nil: no augmentation).
    package var augmentation: AugmentationSettings? = .tensorFlow
    /// Draw a fresh augmentation every this many epochs (0: one draw for the run).
    package var reaugmentEvery = 0
    /// A trained checkpoint whose weights, features and normalisation start the run.
    package var initial: String?
    package var checkpoint: String
    package var resume = false
    package var seed: UInt64 = 1
    package var limits = RunLimits()

    package init(data: String?, preset: KeywordSpotterPreset?, hyperparameters: KeywordHyperparameters, featureOverrides: FeatureOverrides,
                 architecture: Architecture, dataset: SpeechCommandsOptions, augmentation: AugmentationSettings?, reaugmentEvery: Int,
                 initial: String?, checkpoint: String, resume: Bool, seed: UInt64, limits: RunLimits) {
        (self.data, self.preset, self.hyperparameters, self.featureOverrides) = (data, preset, hyperparameters, featureOverrides)
        (self.architecture, self.dataset, self.augmentation, self.reaugmentEvery) = (architecture, dataset, augmentation, reaugmentEvery)
        (self.initial, self.checkpoint, self.resume, self.seed, self.limits) = (initial, checkpoint, resume, seed, limits)
    }

    package func run(progress: ProgressSink) throws {
        let s = hyperparameters
        let root = try data ?? DefaultCorpus.speech.directory()
        let start = try initial.map { try Checkpoint.read(path: $0, expectedKind: "kws") }
        if let start, start.isQuantized {
            throw CheckpointError(path: start.path, problem: "is int8-quantised (written by `kws quantize`): --init needs the float checkpoint")
        }
        let startTool = try start?.tool(KWSToolData.self)
        let startConfig = try start?.model(SequenceClassifierConfig.self)
        let run = try TrainingRun(checkpoint: checkpoint, resume: resume, kind: "kws")
        let savedTool = try run.resumed?.tool(KWSToolData.self)
        let savedConfig = try run.resumed?.model(SequenceClassifierConfig.self)
        if let saved = run.resumed, let savedConfig { try architecture.checkResume(cell: savedConfig.cell, layers: savedConfig.layers, path: saved.path) }
        let options = savedTool?.dataset ?? dataset
        let dataset = try SpeechCommands(roots: [root] + moreData, options: options)
        let featureSettings = try savedTool?.features ?? startTool?.features ?? featureOverrides.settings(kind: s.features, preset: preset)
        let extractor = try FeatureExtractor(settings: featureSettings)
        let group = run.group
        let leader = group.isLeader
        if leader {
            writeStandardError("kws train: \(([root] + moreData).joined(separator: " + "))\n\(dataset.summary)\n")
            if !options.streamNegatives.isEmpty { writeStandardError("  stream negatives in training: \(options.streamNegatives.summary)\n") }
            if let initial { writeStandardError("  starting from the weights of \(initial)\n") }
        }
        for split in [DatasetSplit.training, .validation] where dataset.examples(split).isEmpty {
            throw SpeechCommandsError("\(root): the \(split.rawValue) split is empty (check validation_list.txt / testing_list.txt)")
        }

        // Under MPI each rank decodes and computes the features of its own share of the clips;
        // the training shares are gathered (every rank draws batches from all of them), the
        // validation shares stay where they are (each rank validates its own), and rank 0 alone
        // computes the test split, which only it evaluates.
        let t0 = monotonicSeconds()
        let trainShare = group.share(of: dataset.examples(.training).count)
        // The decoded clips are kept only when they are augmented afresh during the run (64 KB per
        // 1 s clip: 5.9 GB for the full dataset); one draw reads the files once. A resumed run
        // augments as it was started (a checkpoint that recorded it), whatever was asked now.
        let augmentation = savedTool?.augmentation ?? self.augmentation
        let trainAudio = augmentation != nil && reaugmentEvery > 0 ? try dataset.loadAudio(.training, clips: trainShare) : nil
        func trainingFeatures(draw: Int) throws -> SplitFeatures {
            let mine = try dataset.features(.training, extractor: extractor, audio: trainAudio, augmentation: augmentation,
                                            epoch: draw, clips: trainShare)
            guard group.isDistributed else { return mine }
            let labels = dataset.examples(.training).map(\.label)
            return SplitFeatures(split: .training, count: labels.count, frames: mine.frames, featureCount: mine.featureCount,
                                 values: group.gatherVariable(mine.values), labels: labels)
        }
        var train = try trainingFeatures(draw: 0)
        var valid = try dataset.features(.validation, extractor: extractor, clips: group.share(of: dataset.examples(.validation).count))
        var test = dataset.examples(.testing).isEmpty || !leader ? nil : try dataset.features(.testing, extractor: extractor)
        // Normalisation statistics from the (augmented) training features; log-mel clips are
        // already z-scored per clip, as the paper's loader does.
        let normalizer = savedTool?.normalizer ?? startTool?.normalizer ?? (featureSettings.perClipNormalization
            ? FeatureNormalizer.identity(featureCount: extractor.featureCount)
            : FeatureNormalizer(fitting: train.values, featureCount: extractor.featureCount))
        normalizer.apply(&train.values)
        normalizer.apply(&valid.values)
        if test != nil { normalizer.apply(&test!.values) }
        if leader {
            writeStandardError(String(format: "features: %@, %d clips in %.1fs on %d cores%@\n", featureSettings.description,
                                      train.count + dataset.examples(.validation).count + (test?.count ?? 0), monotonicSeconds() - t0,
                                      workerCount, group.isDistributed ? " × \(group.size) MPI ranks" : ""))
        }

        let tool = savedTool ?? KWSToolData(labels: options.labels, features: featureSettings,
                                            normalizer: normalizer, dataset: options, data: root, augmentation: augmentation)
        var config = savedConfig ?? startConfig ?? SequenceClassifierConfig(inputSize: extractor.featureCount, hiddenSize: s.hidden,
                                                                            classCount: tool.labels.count, dt: s.dt)
        if savedConfig == nil && startConfig == nil {
            config.inputDropout = s.dropout
            config.cell = architecture.cell ?? .lem
            config.layers = architecture.layers ?? 1
            config.layerDropout = architecture.dropoutLayer ?? 0
        }
        if let problem = config.problem { throw SettingsError(problem) }
        let model = SequenceClassifier(config: config)
        var rng = RandomGenerator(seed: seed)
        model.initialize(&rng)
        if let start { try start.loadParameters(into: model.parameters) }

        let reaugment: ((Int) throws -> SplitFeatures)? = augmentation != nil ? { draw in
            var f = try trainingFeatures(draw: draw)
            normalizer.apply(&f.values)
            return f
        } : nil
        let task = try KeywordTask(model: model, tool: tool, train: train, valid: valid, batchSize: s.batch,
                                   reaugmentEvery: reaugmentEvery, reaugment: reaugment, group: group)
        train.values = []   // the task holds the features now (and replaces them when it re-augments)
        let header = [
            "model: \(config.layers) × \(config.cell.displayName) hidden \(config.hiddenSize)\(config.cell == .lem ? ", dt \(config.dt)" : ""), \(config.inputSize) features × \(train.frames) frames → \(config.classCount) classes; \(formatCount(Double(model.parameters.scalarCount))) parameters",
            "training: adam lr \(s.lr)\(s.decayAt.isEmpty ? "" : " ×\(s.lrDecay) after epochs \(s.decayAt)"), batch \(s.batch) = \(task.batchesPerEpoch) batches/epoch, \(s.epochs) epochs, input dropout \(config.inputDropout), clip \(s.clip.map { "\($0)" } ?? "none")",
            "BLAS: OpenBLAS \(blasCoreName()) kernels; \(workerCount) workers\(group.isDistributed ? " per rank × \(group.size) MPI ranks (\(s.batch / group.size) clips each)" : ""); checkpoint \(checkpoint)",
        ]
        var settings = TrainerSettings(epochs: s.epochs, learningRate: s.lr, schedule: s.schedule,
                                       optimizer: OptimizerSettings(kind: .adam, weightDecay: s.weightDecay), clip: s.clip,
                                       seed: seed, checkpointPath: checkpoint)
        limits.apply(to: &settings)
        let outcome = try run.train(task, settings: settings, header: header, progress: progress)
        try run.finish(outcome, unitName: "frames", describeMetric: { String(format: "accuracy %.2f%%", 100 * $0) },
                       curveTitle: "kws: \(checkpoint)", metricName: "accuracy") {
            try test.map { test in
                let best = try KeywordSpotter(checkpoint: checkpoint)
                let report = evaluate(best.model, test, labels: best.tool.labels)
                return TrainingRun.TestReport(
                    lines: [String(format: "test accuracy %.2f%% (N=%d, best checkpoint %@)", 100 * report.accuracy, report.count, checkpoint), report.table],
                    figures: ["accuracy": report.accuracy, "count": Double(report.count), "loss": report.loss])
            }
        }
    }
}
