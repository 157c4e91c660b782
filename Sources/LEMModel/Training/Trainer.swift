import Foundation

/// What a tool plugs into the shared training loop: its batches, loss and metric.
public protocol TrainingTask: AnyObject {
    /// "lm" or "kws": the checkpoint kind.
    var kind: String { get }
    var parameters: ParameterBlock { get }
    /// What the throughput counts ("tokens", "frames").
    var unitName: String { get }
    var batchesPerEpoch: Int { get }
    /// Called before the first batch of each epoch (1-based), also when a resumed run re-enters an
    /// epoch in the middle. Derive any shuffling from `RandomGenerator(seed:stream: epoch)` so the
    /// order does not depend on how the run was split. A throw ends the run with that error.
    func beginEpoch(_ epoch: Int, seed: UInt64) throws
    /// Forward and backward of batch `index` of the current epoch, accumulating the gradient of the
    /// batch's mean loss (gradients are zero on entry). Dropout draws from `rng`.
    func trainBatch(_ index: Int, rng: inout RandomGenerator) -> BatchStats
    /// The validation metric with the current parameters.
    func validate() -> Evaluation
    /// The training loss in the task's units for the progress line, e.g. "ppl 123.4" or "bpc 1.52".
    func describeLoss(_ meanLoss: Double) -> String
    /// A checkpoint of the current parameters; with `optimizer`/`training` it is resumable.
    func makeCheckpoint(optimizer: Optimizer?, training: TrainingProgress?) -> Checkpoint
    /// Restores the task's own resume state (e.g. the carried recurrent state) from a checkpoint;
    /// called after `beginEpoch` of the epoch being resumed, and only when the run resumes inside
    /// it: a state saved at an epoch's end carries the finished epoch's state, which the next
    /// epoch's `beginEpoch` replaces in an uninterrupted run.
    func restore(from checkpoint: Checkpoint) throws
    /// A hash of what must be the same on every MPI rank besides the parameters: the data and
    /// the task's settings (`ProcessGroup.checkSame` refuses ranks that differ).
    var fingerprint: UInt64 { get }
}

public struct BatchStats: Sendable {
    /// Summed loss over the batch's `lossCount` predictions (nats).
    public var lossSum: Double
    public var lossCount: Int
    /// Units for the throughput figure (tokens, frames).
    public var units: Int
    public init(lossSum: Double, lossCount: Int, units: Int) { (self.lossSum, self.lossCount, self.units) = (lossSum, lossCount, units) }
}

/// The task's validation result.
public struct Evaluation: Sendable {
    /// Mean cross-entropy (nats).
    public var loss: Double
    /// The headline figure (perplexity, bits per character, accuracy).
    public var metric: Double
    public var metricName: String
    public var higherIsBetter: Bool
    /// One line for the log, e.g. "valid ppl 123.45 (7,376 tokens)".
    public var summary: String
    /// Further figures for the metrics log's "valid" line (e.g. the chosen softmax temperature).
    public var figures: [String: Double] = [:]
    public init(loss: Double, metric: Double, metricName: String, higherIsBetter: Bool, summary: String) {
        (self.loss, self.metric, self.metricName, self.higherIsBetter, self.summary) = (loss, metric, metricName, higherIsBetter, summary)
    }
    func isBetter(than other: Double?) -> Bool {
        guard let other else { return true }
        return higherIsBetter ? metric > other : metric < other
    }
}

public struct TrainerSettings: Sendable {
    public var epochs: Int
    public var learningRate: Float
    public var schedule: LearningRateSchedule
    public var optimizer: OptimizerSettings
    /// Global gradient-norm clip, or nil for none.
    public var clip: Float?
    public var seed: UInt64
    /// Best checkpoint path; the resumable state goes to `resumePath`.
    public var checkpointPath: String
    /// Continue from `resumePath` instead of starting fresh.
    public var resume: Bool
    /// Stop (resumably) after this much training time in this run.
    public var maxMinutes: Double?
    /// Stop (resumably) after this many optimiser steps in total (smoke tests, `--dry-run`).
    public var maxSteps: Int?
    /// Also save the resumable state every this many minutes of training (so a SIGKILL or a power
    /// cut loses at most that much), and optionally every this many steps.
    public var saveEveryMinutes: Double = 10
    public var saveEverySteps: Int?
    /// lamb's weight averaging: when it starts (nil: never). See `WeightAverage`.
    public var averaging: WeightAveragingTrigger?

    public init(epochs: Int, learningRate: Float, schedule: LearningRateSchedule = .constant, optimizer: OptimizerSettings,
                clip: Float? = nil, seed: UInt64, checkpointPath: String, resume: Bool = false,
                maxMinutes: Double? = nil, maxSteps: Int? = nil) {
        self.epochs = epochs
        self.learningRate = learningRate
        self.schedule = schedule
        self.optimizer = optimizer
        self.clip = clip
        self.seed = seed
        self.checkpointPath = checkpointPath
        self.resume = resume
        self.maxMinutes = maxMinutes
        self.maxSteps = maxSteps
    }

    public var resumePath: String { RunFiles(checkpoint: checkpointPath).resume }
    public var metricsPath: String { RunFiles(checkpoint: checkpointPath).metrics }
}

public enum StopReason: String, Sendable {
    case finished = "finished all epochs"
    case timeLimit = "reached --max-minutes"
    case stepLimit = "reached the step limit"
    case interrupted = "interrupted"
}

public struct TrainingOutcome: Sendable {
    public var reason: StopReason
    public var completedEpochs: Int
    public var steps: Int
    public var bestMetric: Double?
    public var bestEpoch: Int?
    /// Training seconds in this process (without validation).
    public var trainingSeconds: Double
    /// Units per second over this run's training batches (all ranks together).
    public var throughput: Double
    /// MPI ranks of the job, and this rank's seconds in collective calls (0 without MPI).
    public var ranks: Int = 1
    public var communicationSeconds: Double = 0
}

public struct TrainingError: Error, CustomStringConvertible {
    public let description: String
    public init(description: String) { self.description = description }
}

/// The one training loop of `lm` and `kws`: epochs of batches with gradient clipping and an
/// optimiser step each, validation after every epoch, the best checkpoint kept, the learning-rate
/// schedule, a progress line with throughput and ETA, a JSON-lines metrics log, `--max-minutes`,
/// and a graceful stop on Ctrl-C/SIGTERM that leaves a resumable checkpoint.
///
/// Exact resume: the resumable checkpoint (`<checkpoint>.resume`, rewritten atomically at every
/// epoch end and at a stop) holds parameters, optimiser moments and step, scheduler state, the
/// dropout generator, the position in the epoch and the task's own state; shuffling is derived
/// from (seed, epoch). A resumed run therefore repeats the uninterrupted run's numbers bit for bit
/// (same seed and thread count).
///
/// Under MPI (`group` with several ranks) every rank runs this loop on its share of each batch:
/// the task returns the gradient of its share's mean loss, the trainer weights it by the share's
/// part of the batch and sums it over the ranks (`reduceAcrossRanks`), so every rank clips and
/// steps identically. Stops and periodic saves are agreed by all ranks at the top of each step;
/// only rank 0 writes files and shows progress. Dropout is drawn per stream or clip and the data
/// is split by position in the batch, so the arithmetic does not depend on the rank count.
public final class Trainer {
    public let task: TrainingTask
    public var settings: TrainerSettings
    let progress: ProgressSink
    public let group: ProcessGroup
    /// The resumable checkpoint to continue from, when the caller has read it already.
    private let resumeCheckpoint: Checkpoint?

    /// `progress` receives the status line and the epoch summaries (the tools pass a terminal line;
    /// ranks other than 0 show nothing). With `settings.resume`, the run continues from
    /// `resumeFrom` if given (a caller that read `<checkpoint>.resume` for its own settings passes
    /// it on, so the file is read once), else from the file `settings.resumePath`.
    public init(task: TrainingTask, settings: TrainerSettings, progress: ProgressSink, group: ProcessGroup = .single,
                resumeFrom: Checkpoint? = nil) {
        self.task = task
        self.settings = settings
        self.progress = group.isLeader ? progress : SilentProgress()
        self.group = group
        resumeCheckpoint = resumeFrom
    }

    /// Sums the batch's statistics over the ranks and replaces this rank's gradient (of its
    /// share's mean loss) by the gradient of the whole batch's mean loss: Σ_r (n_r / n) · g_r.
    private func reduceAcrossRanks(_ local: BatchStats) -> BatchStats {
        var totals = [local.lossSum, Double(local.lossCount), Double(local.units)]
        group.sum(&totals)
        group.averageGradients(task.parameters, localCount: Double(local.lossCount), totalCount: totals[1])
        return BatchStats(lossSum: totals[0], lossCount: Int(totals[1]), units: Int(totals[2]))
    }

    /// What every rank must agree on before training: flags, data and (initial or resumed) parameters.
    private func checkRanksAgree(batches: Int, steps: Int) throws {
        guard group.isDistributed else { return }
        let params = task.parameters
        var f = Fingerprint()
        f.combine(task.kind)
        f.combine([task.fingerprint, settings.seed, UInt64(settings.epochs), UInt64(batches), UInt64(steps)])
        f.combine([settings.learningRate, settings.clip ?? 0])
        f.combine(Array(UnsafeBufferPointer(start: params.values, count: params.count)))
        try group.checkSame(f.value, what: "flags, data or parameters")
    }

    public func run() throws -> TrainingOutcome {
        let params = task.parameters
        let leader = group.isLeader
        var optimizer = Optimizer(settings: settings.optimizer, parameterCount: params.count)
        var scheduler = LearningRateScheduler(schedule: settings.schedule, initialRate: settings.learningRate)
        var rng = RandomGenerator(seed: settings.seed, stream: 0x5EED_D80F)
        var startEpoch = 1, startBatch = 0, steps = 0
        var best: Double?, bestEpoch: Int?
        var earlierSeconds = 0.0
        var resumeFrom: Checkpoint?
        var average: WeightAverage?

        if settings.resume {
            let checkpoint = try resumeCheckpoint ?? Checkpoint.read(path: settings.resumePath, expectedKind: task.kind)
            guard let state = try checkpoint.trainingProgress(), let savedRNG = state.rng, checkpoint.hasOptimizerState else {
                throw CheckpointError(path: settings.resumePath, problem: "not a resumable checkpoint (no training state)")
            }
            try checkpoint.loadParameters(into: params)
            optimizer = Optimizer(settings: state.optimizer, parameterCount: params.count)
            try checkpoint.loadOptimizerState(into: optimizer, layout: params)
            optimizer.stepCount = state.optimizerSteps
            scheduler = state.scheduler
            rng = savedRNG
            resumeFrom = checkpoint
            (startEpoch, startBatch, steps) = (state.completedEpochs + 1, state.batchInEpoch, state.optimizerSteps)
            (best, bestEpoch, earlierSeconds) = (state.bestMetric, state.bestEpoch, state.elapsedSeconds)
            settings.seed = state.seed
            settings.clip = state.clip
            settings.optimizer = state.optimizer
            settings.averaging = state.averaging
            if let n = state.averagedSteps { average = try checkpoint.loadAverage(count: n, parameterCount: params.count) }
            progress.line("resuming \(settings.resumePath): epoch \(startEpoch), batch \(startBatch + 1) of \(task.batchesPerEpoch), step \(steps), lr \(scheduler.learningRate)")
        }

        let log = leader ? MetricsLog(path: settings.metricsPath, append: settings.resume) : MetricsLog(discardingTo: settings.metricsPath)
        InterruptHandler.install()
        defer { InterruptHandler.uninstall() }

        let batches = task.batchesPerEpoch
        var trainingSeconds = 0.0, unitsDone = 0.0, batchesDone = 0
        var validationSeconds = 0.0, validations = 0   // this process's, for the ETA
        var reason = StopReason.finished
        var lastSave = monotonicSeconds()
        var completedEpochs = startEpoch - 1

        func progressState(epoch: Int, batch: Int) -> TrainingProgress {
            var progress = TrainingProgress(completedEpochs: epoch - 1, batchInEpoch: batch, optimizerSteps: optimizer.stepCount,
                             optimizer: optimizer.settings, scheduler: scheduler, seed: settings.seed, rng: rng,
                             bestMetric: best, bestEpoch: bestEpoch, elapsedSeconds: earlierSeconds + trainingSeconds,
                             clip: settings.clip, epochs: settings.epochs)
            progress.averaging = settings.averaging
            progress.averagedSteps = average?.count
            return progress
        }
        // Every rank builds the checkpoint (the task may gather its state from all ranks); rank 0 writes it.
        func saveResumable(epoch: Int, batch: Int) throws {
            var checkpoint = task.makeCheckpoint(optimizer: optimizer, training: progressState(epoch: epoch, batch: batch))
            if let average { checkpoint.store(average: average) }
            if leader { try checkpoint.write(to: settings.resumePath) }
            lastSave = monotonicSeconds()
        }
        func saveModel() throws {
            let checkpoint = task.makeCheckpoint(optimizer: nil, training: nil)
            if leader { try checkpoint.write(to: settings.checkpointPath) }
        }
        // Whether to stop, and whether a periodic save is due, agreed by all ranks (any rank's
        // Ctrl-C or clock counts), so that they all leave the loop, or save, at the same step.
        func stopAndSave(firstOfRun: Bool) -> (stop: StopReason?, save: Bool) {
            var flags = [InterruptHandler.requested != nil ? 1.0 : 0,
                         settings.maxMinutes.map { trainingSeconds >= $0 * 60 } == true ? 1 : 0,
                         monotonicSeconds() - lastSave >= settings.saveEveryMinutes * 60 ? 1 : 0]
            group.maximum(&flags)
            if flags[0] > 0 { return (.interrupted, false) }
            if let limit = settings.maxSteps, steps >= limit { return (.stepLimit, false) }
            if flags[1] > 0 { return (.timeLimit, false) }
            let stepSave = settings.saveEverySteps.map { steps > 0 && steps % $0 == 0 } ?? false
            return (nil, !firstOfRun && (flags[2] > 0 || stepSave))
        }
        try checkRanksAgree(batches: batches, steps: steps)

        epochLoop: for epoch in startEpoch...max(startEpoch, settings.epochs) where epoch <= settings.epochs {
            try task.beginEpoch(epoch, seed: settings.seed)
            // Resuming at batch 0 (a state saved at the previous epoch's end, or a run extended with
            // more --epochs) starts the epoch as an uninterrupted run does, from `beginEpoch` alone:
            // the saved carried state is the finished epoch's, which `beginEpoch` resets.
            if let checkpoint = resumeFrom {
                if startBatch > 0 { try task.restore(from: checkpoint) }
                resumeFrom = nil
            }
            let first = epoch == startEpoch ? startBatch : 0
            var windowLoss = 0.0, windowCount = 0, windowUnits = 0.0, windowStart = monotonicSeconds()
            var epochLoss = 0.0, epochCount = 0
            let logEvery = max(1, batches / 10)
            for b in first..<batches {
                let (why, saveDue) = stopAndSave(firstOfRun: b == first)
                if let why {
                    reason = why
                    try saveResumable(epoch: epoch, batch: b)
                    break epochLoop
                }
                if saveDue { try saveResumable(epoch: epoch, batch: b) }
                let t0 = monotonicSeconds()
                params.zeroGrads()
                var stats = task.trainBatch(b, rng: &rng)
                if group.isDistributed { stats = reduceAcrossRanks(stats) }
                guard stats.lossSum.isFinite else {
                    throw TrainingError(description: "the training loss became \(stats.lossSum) at epoch \(epoch), batch \(b + 1): "
                        + "stopping; the last good state is in \(settings.resumePath) (try a lower --lr or a --clip)")
                }
                if settings.optimizer.l2InLoss { addL2Gradient(params, penalty: settings.optimizer.weightDecay) }
                if let clip = settings.clip { clipGradientNorm(params, maxNorm: clip) }
                optimizer.step(params, learningRate: scheduler.learningRate)
                average?.add(params)
                steps += 1
                let dt = monotonicSeconds() - t0
                trainingSeconds += dt
                unitsDone += Double(stats.units)
                batchesDone += 1
                windowLoss += stats.lossSum; windowCount += stats.lossCount; windowUnits += Double(stats.units)
                epochLoss += stats.lossSum; epochCount += stats.lossCount

                // The ETA of the whole run (all epochs, validations included, whatever chunk this
                // is) and, with --max-minutes, when this chunk ends.
                let rate = unitsDone / max(trainingSeconds, 1e-9)
                let secondsPerBatch = trainingSeconds / Double(batchesDone)
                let validationEach = validations > 0 ? validationSeconds / Double(validations) : secondsPerBatch * Double(batches) / 10
                let runRemaining = Double((settings.epochs - epoch) * batches + (batches - b - 1)) * secondsPerBatch
                    + Double(settings.epochs - epoch + 1) * validationEach
                let chunk = settings.maxMinutes.map { "  (chunk ends in \(formatDuration(max(0, $0 * 60 - trainingSeconds))))" } ?? ""
                let mean = epochLoss / Double(max(epochCount, 1))
                let described = task.describeLoss(mean)
                progress.update(String(format: "epoch %d/%d  batch %d/%d  loss %.4f%@  lr %.3g  %@ %@/s  elapsed %@  ETA %@%@%@",
                                       epoch, settings.epochs, b + 1, batches, mean, described.isEmpty ? "" : "  " + described,
                                       Double(scheduler.learningRate), formatCount(rate), task.unitName,
                                       formatDuration(earlierSeconds + trainingSeconds + validationSeconds), formatDuration(runRemaining), chunk,
                                       best.map { String(format: "  best %.4g", $0) } ?? ""))
                if (b + 1) % logEvery == 0 || b + 1 == batches {
                    let now = monotonicSeconds()
                    log.record("train", ["epoch": Double(epoch), "batch": Double(b + 1), "step": Double(steps),
                                         "loss": windowLoss / Double(max(windowCount, 1)), "lr": Double(scheduler.learningRate),
                                         "units_per_s": windowUnits / max(now - windowStart, 1e-9),
                                         "elapsed_s": earlierSeconds + trainingSeconds])
                    windowLoss = 0; windowCount = 0; windowUnits = 0; windowStart = now
                }
            }

            // After averaging has started, validation (and the best checkpoint) sees the average.
            var note = ""
            func validateAndKeepBest() throws -> Evaluation {
                let evaluation = task.validate()
                // A non-finite validation figure means the weights diverged (or the validation
                // data hold a NaN): stop before it becomes the "best" model or the scheduler's state.
                guard evaluation.metric.isFinite, evaluation.loss.isFinite else {
                    let kept = best == nil ? "" : "; the best model so far is in \(settings.checkpointPath)"
                    throw TrainingError(description: "validation gave \(evaluation.summary) at epoch \(epoch): stopping\(kept) (try a lower --lr or a --clip)")
                }
                if evaluation.isBetter(than: best) {
                    best = evaluation.metric
                    bestEpoch = epoch
                    try saveModel()
                    note = average == nil ? "  (best, saved)" : "  (best, averaged weights saved)"
                }
                return evaluation
            }
            let validationStart = monotonicSeconds()
            let evaluation = try average.map { try $0.withAveragedParameters(params, validateAndKeepBest) } ?? validateAndKeepBest()
            validationSeconds += monotonicSeconds() - validationStart
            validations += 1
            completedEpochs = epoch
            if average == nil, let trigger = settings.averaging, trigger.fires(epoch: epoch, bestEpoch: bestEpoch) {
                average = WeightAverage(parameterCount: params.count)
                note += "  weight averaging starts"
            }
            let changed = scheduler.epochEnded(epoch, validationMetric: evaluation.higherIsBetter ? -evaluation.metric : evaluation.metric)
            if changed { note += String(format: "  lr → %.3g", Double(scheduler.learningRate)) }
            log.record("valid", ["epoch": Double(epoch), "step": Double(steps), "loss": evaluation.loss,
                                 "metric": evaluation.metric, "lr": Double(scheduler.learningRate),
                                 "train_loss": epochLoss / Double(max(epochCount, 1)),
                                 "elapsed_s": earlierSeconds + trainingSeconds].merging(evaluation.figures) { a, _ in a })
            let trainLoss = epochLoss / Double(max(epochCount, 1))
            let described = task.describeLoss(trainLoss)
            progress.line(String(format: "epoch %d/%d done: train loss %.4f%@, %@, %@ %@/s%@",
                                 epoch, settings.epochs, trainLoss, described.isEmpty ? "" : " (\(described))", evaluation.summary,
                                 formatCount(unitsDone / max(trainingSeconds, 1e-9)), task.unitName, note))
            try saveResumable(epoch: epoch + 1, batch: 0)
        }

        if reason != .finished {
            if best == nil {
                // No validation yet: keep the current parameters as the model so eval/sample work.
                try saveModel()
            }
            progress.line("stopped: \(reason.rawValue) at step \(steps); resumable state saved to \(settings.resumePath) (continue with --resume)")
        }
        log.record("stop", ["epoch": Double(completedEpochs), "step": Double(steps), "elapsed_s": earlierSeconds + trainingSeconds])
        return TrainingOutcome(reason: reason, completedEpochs: completedEpochs, steps: steps, bestMetric: best, bestEpoch: bestEpoch,
                               trainingSeconds: trainingSeconds, throughput: unitsDone / max(trainingSeconds, 1e-9),
                               ranks: group.size, communicationSeconds: group.communicationSeconds)
    }
}
