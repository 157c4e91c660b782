import Foundation
import XCTest
@testable import LEMModel
@testable import Runtime

/// A toy task for the shared loop: classify 3 synthetic sequence classes (a constant offset on one
/// feature) with a small SequenceClassifier, shuffled per epoch from (seed, epoch).
final class ToyTask: TrainingTask {
    var fingerprint: UInt64 { 0 }
    let kind = "kws"
    let unitName = "frames"
    let model: SequenceClassifier
    let (T, B, m) = (6, 4, 3)
    let examples: [(features: [Float], label: Int32)]
    var order: [Int] = []
    var batchesSeen: [Int] = []
    /// The parameters at the start of every batch (= after the previous optimizer step).
    var parametersSeen: [[Float]] = []
    var interruptAtStep: Int?
    /// From this epoch on, validation reads NaN (as diverged weights give).
    var nanValidationFromEpoch: Int?
    var validations = 0
    var steps = 0

    init(seed: UInt64) {
        var config = SequenceClassifierConfig(inputSize: 3, hiddenSize: 5, classCount: 3)
        config.inputDropout = 0.1   // exercises the dropout generator across a resume
        model = SequenceClassifier(config: config)
        var rng = RandomGenerator(seed: seed)
        model.initialize(&rng)
        rng = RandomGenerator(seed: 1000)  // the same data whatever the init seed
        var data: [(features: [Float], label: Int32)] = []
        for i in 0..<24 {
            let label = Int32(i % 3)
            let f = (0..<(6 * 3)).map { j in rng.normal() * 0.3 + (j % 3 == Int(label) ? 1 : 0) }
            data.append((f, label))
        }
        examples = data
    }

    var parameters: ParameterBlock { model.parameters }
    var batchesPerEpoch: Int { examples.count / B }

    func beginEpoch(_ epoch: Int, seed: UInt64) {
        var rng = RandomGenerator(seed: seed, stream: UInt64(epoch))
        order = Array(examples.indices)
        rng.shuffle(&order)
    }

    /// Time-major batch [T, B, m] of examples order[index·B ..< (index+1)·B].
    func batch(_ indices: ArraySlice<Int>) -> ([Float], [Int32]) {
        var x = [Float](repeating: 0, count: T * indices.count * m)
        for (b, e) in indices.enumerated() {
            for t in 0..<T { for j in 0..<m { x[(t * indices.count + b) * m + j] = examples[e].features[t * m + j] } }
        }
        return (x, indices.map { examples[$0].label })
    }

    func trainBatch(_ index: Int, rng: inout RandomGenerator) -> BatchStats {
        steps += 1
        if let k = interruptAtStep, steps == k { InterruptHandler.simulate() }
        batchesSeen.append(index)
        parametersSeen.append(parameterBytes)
        let (x, y) = batch(order[index * B ..< (index + 1) * B])
        let loss = withExtendedLifetime(x) {   // the backward reads the features again
            let loss = model.forward(features: x, labels: y, steps: T, batch: B, training: true, rng: &rng)
            model.backward()
            return loss
        }
        return BatchStats(lossSum: loss, lossCount: B, units: T * B)
    }

    func validate() -> Evaluation {
        let (x, y) = batch(Array(examples.indices)[...])
        var rng = RandomGenerator(seed: 0)
        let loss = model.forward(features: x, labels: y, steps: T, batch: examples.count, training: false, rng: &rng)
        var correct = 0
        for b in 0..<examples.count {
            let row = model.lastLogits + b * 3
            let guess = (0..<3).max { row[$0] < row[$1] }!
            if guess == Int(y[b]) { correct += 1 }
        }
        let accuracy = Double(correct) / Double(examples.count)
        validations += 1
        if let e = nanValidationFromEpoch, validations >= e {
            return Evaluation(loss: .nan, metric: .nan, metricName: "accuracy", higherIsBetter: true, summary: "valid accuracy nan")
        }
        return Evaluation(loss: loss / Double(examples.count), metric: accuracy, metricName: "accuracy", higherIsBetter: true,
                          summary: "valid accuracy \(accuracy)")
    }

    func describeLoss(_ meanLoss: Double) -> String { "" }

    func makeCheckpoint(optimizer: Optimizer?, training: TrainingProgress?) -> Checkpoint {
        Checkpoint(kind: kind, model: model.config, tool: ["labels": ["a", "b", "c"]], parameters: parameters,
                   optimizer: optimizer, training: training)
    }

    func restore(from checkpoint: Checkpoint) throws {}

    var parameterBytes: [Float] { Array(UnsafeBufferPointer(start: parameters.values, count: parameters.count)) }
}

func temporaryDirectory() -> String {
    let path = NSTemporaryDirectory() + "lem-tests-\(getpid())-\(UInt64.random(in: 0 ... .max))"
    try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

final class TrainerTests: XCTestCase {
    func settings(_ dir: String, epochs: Int = 3, resume: Bool = false, maxSteps: Int? = nil) -> TrainerSettings {
        TrainerSettings(epochs: epochs, learningRate: 0.02, schedule: .stepDecay(milestones: [2], factor: 0.5),
                        optimizer: OptimizerSettings(kind: .adam, weightDecay: 1e-4), clip: 1.0, seed: 11,
                        checkpointPath: dir + "/toy.ckpt", resume: resume, maxSteps: maxSteps)
    }

    let quiet = RecordedProgress()

    func testTrainingLearnsAndKeepsTheBestCheckpoint() throws {
        let dir = temporaryDirectory()
        let task = ToyTask(seed: 1)
        let before = task.validate().loss
        let outcome = try Trainer(task: task, settings: settings(dir, epochs: 6), progress: quiet).run()
        let after = task.validate()
        print("toy task: validation loss \(before) → \(after.loss), accuracy \(after.metric), best \(outcome.bestMetric ?? -1) at epoch \(outcome.bestEpoch ?? -1)")
        XCTAssertEqual(outcome.reason, .finished)
        XCTAssertEqual(outcome.completedEpochs, 6)
        XCTAssertLessThan(after.loss, before * 0.7)
        // The best checkpoint loads into a fresh model and reproduces the best metric.
        let best = try Checkpoint.read(path: dir + "/toy.ckpt", expectedKind: "kws")
        XCTAssertNil(try best.trainingProgress())
        XCTAssertFalse(best.hasOptimizerState)
        let fresh = ToyTask(seed: 99)
        try best.loadParameters(into: fresh.parameters)
        XCTAssertEqual(fresh.validate().metric, outcome.bestMetric)
        // The metrics log has one valid line per epoch.
        let records = MetricsLog.records(path: dir + "/toy.ckpt.metrics.jsonl")
        XCTAssertEqual(records.filter { $0["event"] as? String == "valid" }.count, 6)
    }

    func testInterruptedRunResumesBitIdentically() throws {
        // Straight: 3 epochs of 6 batches.
        let straightDir = temporaryDirectory()
        let straight = ToyTask(seed: 2)
        _ = try Trainer(task: straight, settings: settings(straightDir), progress: quiet).run()

        for interruptStep in [1, 5, 6, 7, 13] {
            let dir = temporaryDirectory()
            let first = ToyTask(seed: 2)
            first.interruptAtStep = interruptStep + 1   // the signal arrives during this batch; it finishes
            let stopped = try Trainer(task: first, settings: settings(dir), progress: quiet).run()
            XCTAssertEqual(stopped.reason, .interrupted)
            XCTAssertEqual(stopped.steps, interruptStep + 1)

            // A new process: a fresh task (different init seed, so parameters must come from the file).
            let second = ToyTask(seed: 77)
            let resumed = try Trainer(task: second, settings: settings(dir, resume: true), progress: quiet).run()
            XCTAssertEqual(resumed.reason, .finished)
            XCTAssertEqual(resumed.steps, 18)
            XCTAssertEqual(first.batchesSeen + second.batchesSeen, straight.batchesSeen, "batch order after resume")
            XCTAssertTrue(second.parameterBytes == straight.parameterBytes,
                          "parameters differ after resuming at step \(interruptStep + 1): max |diff| \(maxAbsDifference(second.parameterBytes, straight.parameterBytes))")
        }
    }

    func testStepLimitStopsResumably() throws {
        let dir = temporaryDirectory()
        let task = ToyTask(seed: 3)
        let outcome = try Trainer(task: task, settings: settings(dir, maxSteps: 4), progress: quiet).run()
        XCTAssertEqual(outcome.reason, .stepLimit)
        XCTAssertEqual(outcome.steps, 4)
        // No validation happened, so the current parameters were kept as the model.
        XCTAssertNoThrow(try Checkpoint.read(path: dir + "/toy.ckpt", expectedKind: "kws"))
        let resumable = try Checkpoint.read(path: dir + "/toy.ckpt.resume", expectedKind: "kws")
        XCTAssertEqual(try resumable.trainingProgress()?.batchInEpoch, 4)
        XCTAssertEqual(try resumable.trainingProgress()?.optimizerSteps, 4)
    }

    /// lamb's weight averaging: started after epoch 1's validation, the average is the mean of the
    /// parameters after each of the 12 later steps (a Double reference), training goes on from the
    /// raw weights, and a run interrupted while averaging resumes to the same numbers.
    func testWeightAveragingIsTheExactAverageOfTheIteratesAndResumes() throws {
        var s = settings(temporaryDirectory())
        s.averaging = WeightAveragingTrigger(epochsWithoutImprovement: 1_000, latestEpoch: 1)
        let task = ToyTask(seed: 5)
        let recorded = RecordedProgress()
        let outcome = try Trainer(task: task, settings: s, progress: recorded).run()
        XCTAssertEqual(outcome.steps, 18)
        XCTAssertTrue(recorded.lines[0].contains("weight averaging starts"), recorded.lines[0])
        // Iterates after steps 7…18: the parameters at the start of batches 8…18, then the final ones.
        let iterates = Array(task.parametersSeen[7...]) + [task.parameterBytes]
        XCTAssertEqual(iterates.count, 12)
        let expected = (0..<task.parameters.count).map { i in iterates.reduce(0.0) { $0 + Double($1[i]) } / 12 }
        let resumable = try Checkpoint.read(path: s.resumePath, expectedKind: "kws")
        XCTAssertEqual(try resumable.trainingProgress()?.averagedSteps, 12)
        let average = try resumable.loadAverage(count: 12, parameterCount: task.parameters.count).averaged()
        var worst = 0.0
        for i in expected.indices { worst = max(worst, abs(Double(average[i]) - expected[i]) / max(abs(expected[i]), 1e-30)) }
        print("weight average against the Double mean of 12 iterates: max relative error \(worst) (tolerance 1.2e-7: one Float rounding)")
        XCTAssertLessThanOrEqual(worst, 1.2e-7)
        // The resumable state trains on from the raw weights.
        try XCTAssertTrue(resumable.file.floats("classifier.bias") == Array(UnsafeBufferPointer(start: task.parameters.parameter("classifier.bias").value, count: 3)))

        // Interrupted at step 10 (averaging on) and resumed: the same average and parameters.
        var t = s
        t.checkpointPath = temporaryDirectory() + "/toy.ckpt"
        let first = ToyTask(seed: 5)
        first.interruptAtStep = 10
        XCTAssertEqual(try Trainer(task: first, settings: t, progress: quiet).run().reason, .interrupted)
        t.resume = true
        let second = ToyTask(seed: 50)
        XCTAssertEqual(try Trainer(task: second, settings: t, progress: quiet).run().steps, 18)
        XCTAssertTrue(second.parameterBytes == task.parameterBytes, "parameters after resuming with averaging on")
        let resumed = try Checkpoint.read(path: t.resumePath, expectedKind: "kws")
        XCTAssertEqual(try resumed.loadAverage(count: 12, parameterCount: task.parameters.count).runningSums,
                       try resumable.loadAverage(count: 12, parameterCount: task.parameters.count).runningSums)
    }

    /// lamb's L2: λ·½Σw² in the loss, so λw joins the gradient before it is clipped; PyTorch's
    /// weight decay adds λw after. With a clip that binds, the two differ, and `l2InLoss` is the
    /// clip of (g + λw).
    func testL2InTheLossIsClippedWithTheGradient() {
        var layout = LayoutBuilder()
        layout.add("w", [4])
        let block = ParameterBlock(layout)
        let w: [Float] = [1, -2, 3, 0.5], g: [Float] = [0.1, 0.2, -0.3, 0.4]
        let lambda: Float = 0.5
        func step(l2InLoss: Bool) -> [Float] {
            block.zeroGrads()
            for i in 0..<4 { block.values[i] = w[i]; block.grads[i] = g[i] }
            let settings = OptimizerSettings(kind: .sgd, weightDecay: lambda, l2InLoss: l2InLoss)
            if l2InLoss { addL2Gradient(block, penalty: lambda) }
            clipGradientNorm(block, maxNorm: 0.5)
            Optimizer(settings: settings, parameterCount: block.count).step(block, learningRate: 1)
            return Array(UnsafeBufferPointer(start: block.values, count: 4))
        }
        let full = (0..<4).map { g[$0] + lambda * w[$0] }
        let norm = full.map { Double($0 * $0) }.reduce(0, +).squareRoot()
        let expected = (0..<4).map { w[$0] - Float(Double(full[$0]) * 0.5 / (norm + 1e-6)) }
        let got = step(l2InLoss: true)
        for i in 0..<4 { XCTAssertEqual(got[i], expected[i], accuracy: 1e-6) }
        XCTAssertNotEqual(step(l2InLoss: false), got, "PyTorch's weight decay is added after clipping")
    }

    func testNonFiniteLossStopsWithAClearError() throws {
        let dir = temporaryDirectory()
        let task = ToyTask(seed: 4)
        task.parameters.parameter("classifier.bias").value[0] = .nan
        XCTAssertThrowsError(try Trainer(task: task, settings: settings(dir), progress: quiet).run()) { error in
            XCTAssertTrue("\(error)".contains("loss became nan"), "\(error)")
        }
    }

    /// A NaN validation figure stops the run with a message (it used to crash writing the NaN
    /// into the resumable state's JSON) and never replaces the best model.
    func testNonFiniteValidationStopsWithAClearErrorAndKeepsTheBest() throws {
        let dir = temporaryDirectory()
        let task = ToyTask(seed: 4)
        task.nanValidationFromEpoch = 2
        XCTAssertThrowsError(try Trainer(task: task, settings: settings(dir), progress: quiet).run()) { error in
            print("the error: \(error)")
            XCTAssertTrue("\(error)".contains("validation gave valid accuracy nan at epoch 2"), "\(error)")
            XCTAssertTrue("\(error)".contains("the best model so far is in \(dir)/toy.ckpt"), "\(error)")
        }
        let best = try Checkpoint.read(path: dir + "/toy.ckpt", expectedKind: "kws")
        let kept = ToyTask(seed: 5).parameters   // a block of the same layout
        try best.loadParameters(into: kept)
        XCTAssertTrue(UnsafeBufferPointer(start: kept.values, count: kept.count).allSatisfy(\.isFinite))
    }

    /// Non-finite numbers in a checkpoint's JSON sections are written and read back (as strings).
    func testNonFiniteNumbersInTheJSONSectionsRoundTrip() throws {
        struct Figures: Codable, Equatable { var a: Double; var b: Double; var c: Float }
        let json = Checkpoint.encode(Figures(a: .infinity, b: -.infinity, c: 1.5))
        print("encoded: \(json)")
        let checkpoint = Checkpoint(kind: "kws", model: ["x": 1], tool: ["y": 2], parameters: ToyTask(seed: 1).parameters)
        XCTAssertEqual(try checkpoint.decode(Figures.self, json, "figures"), Figures(a: .infinity, b: -.infinity, c: 1.5))
        let nan = try checkpoint.decode(Figures.self, Checkpoint.encode(Figures(a: .nan, b: 0, c: .nan)), "figures")
        XCTAssertTrue(nan.a.isNaN && nan.c.isNaN)
    }
}

final class LearningRateScheduleTests: XCTestCase {
    func testStepDecayAtMilestones() {
        var s = LearningRateScheduler(schedule: .stepDecay(milestones: [2, 4], factor: 0.1), initialRate: 1)
        var rates: [Float] = []
        for epoch in 1...5 { s.epochEnded(epoch, validationMetric: 1); rates.append(s.learningRate) }
        XCTAssertEqual(rates, [1, 0.1, 0.1, 0.010000001, 0.010000001])
    }

    func testPlateauDecay() {
        var s = LearningRateScheduler(schedule: .plateau(factor: 0.25, patience: 1, threshold: 0, minimum: 0.01), initialRate: 1)
        let metrics: [Double] = [5, 4, 4.5, 4.2, 3, 3, 3, 3, 3, 3]
        var rates: [Float] = []
        for (i, m) in metrics.enumerated() { s.epochEnded(i + 1, validationMetric: m); rates.append(s.learningRate) }
        // Two epochs without improvement (patience 1) → ×0.25; never below the minimum.
        XCTAssertEqual(rates, [1, 1, 1, 0.25, 0.25, 0.25, 0.0625, 0.0625, 0.015625, 0.015625])
    }
}

/// A progress sink that keeps the trainer's permanent lines instead of printing them.
final class RecordedProgress: ProgressSink {
    private(set) var lines: [String] = []
    func update(_ text: String, force: Bool) {}
    func line(_ text: String) { lines.append(text) }
}
