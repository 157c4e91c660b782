import Foundation
import LEMModel
import TaskSupport
import XCTest

/// Fits y = 2x − 1 with one weight and one bias: the smallest task the shared run can train.
final class LineTask: TrainingTask {
    let kind = "line"
    let unitName = "points"
    let parameters: ParameterBlock
    var fingerprint: UInt64 { 1 }
    var batchesPerEpoch: Int { 4 }
    let xs: [Float] = (0..<16).map { Float($0) / 8 - 1 }

    init() {
        var layout = LayoutBuilder()
        layout.add("w", [1])
        layout.add("b", [1])
        parameters = ParameterBlock(layout)
    }

    private func loss(_ points: ArraySlice<Float>, gradients: Bool) -> Double {
        let (w, b) = (parameters.parameter("w"), parameters.parameter("b"))
        var sum = 0.0
        for x in points {
            let e = w.value[0] * x + b.value[0] - (2 * x - 1)
            sum += Double(e * e)
            if gradients {
                w.grad[0] += 2 * e * x / Float(points.count)
                b.grad[0] += 2 * e / Float(points.count)
            }
        }
        return sum
    }

    func beginEpoch(_ epoch: Int, seed: UInt64) throws {}
    func trainBatch(_ index: Int, rng: inout RandomGenerator) -> BatchStats {
        let points = xs[index * 4 ..< index * 4 + 4]
        return BatchStats(lossSum: loss(points, gradients: true), lossCount: 4, units: 4)
    }
    func validate() -> Evaluation {
        let mse = loss(xs[...], gradients: false) / Double(xs.count)
        return Evaluation(loss: mse, metric: mse, metricName: "MSE", higherIsBetter: false, summary: "valid MSE \(mse)")
    }
    func describeLoss(_ meanLoss: Double) -> String { "" }
    func makeCheckpoint(optimizer: Optimizer?, training: TrainingProgress?) -> Checkpoint {
        Checkpoint(kind: kind, model: ["task": "line"], tool: ["points": xs.count], parameters: parameters, optimizer: optimizer, training: training)
    }
    func restore(from checkpoint: Checkpoint) throws {}
}

final class QuietProgress: ProgressSink {
    var lines: [String] = []
    func update(_ text: String, force: Bool) {}
    func line(_ text: String) { lines.append(text) }
}

/// `TrainingRun`, the one run every task library goes through: the files named once, the resume
/// file read once and handed to the trainer, and the finish (test record, learning curve).
final class TrainingRunTests: XCTestCase {
    func temporaryDirectory() -> String {
        let dir = NSTemporaryDirectory() + "lem-run-\(getpid())-\(UInt64.random(in: 0 ... .max))"
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    func settings(epochs: Int) -> TrainerSettings {
        TrainerSettings(epochs: epochs, learningRate: 0.1, optimizer: OptimizerSettings(kind: .adam), seed: 3, checkpointPath: "(set by the run)")
    }

    func testRunTrainsFinishesAndContinuesFromTheResumeFileItRead() throws {
        let dir = temporaryDirectory()
        let files = RunFiles(checkpoint: dir + "/line.ckpt")
        XCTAssertEqual([files.resume, files.metrics, files.curve], [dir + "/line.ckpt.resume", dir + "/line.ckpt.metrics.jsonl", dir + "/line.ckpt.curve.svg"])

        // Three epochs straight through.
        let straight = LineTask()
        let run = try TrainingRun(checkpoint: dir + "/straight.ckpt", resume: false, kind: "line", group: .single)
        XCTAssertNil(run.resumed)
        let outcome = try run.train(straight, settings: settings(epochs: 3), header: ["line: a header"], progress: QuietProgress())
        XCTAssertEqual(outcome.completedEpochs, 3)
        try run.finish(outcome, unitName: "points", describeMetric: { "MSE \($0)" }, curveTitle: "line", metricName: "MSE") {
            TrainingRun.TestReport(lines: ["test MSE 0.5"], figures: ["metric": 0.5])
        }
        let records = MetricsLog.records(path: run.files.metrics)
        XCTAssertEqual(records.filter { $0["event"] as? String == "valid" }.count, 3)
        XCTAssertEqual(records.last?["event"] as? String, "test")
        XCTAssertEqual(records.last?["metric"] as? Double, 0.5)
        XCTAssertTrue(FileManager.default.fileExists(atPath: run.files.curve))

        // One epoch, then two more from the resume file: the parameters of the straight run.
        let chunked = LineTask()
        let first = try TrainingRun(checkpoint: dir + "/chunked.ckpt", resume: false, kind: "line", group: .single)
        _ = try first.train(chunked, settings: settings(epochs: 1), header: [], progress: QuietProgress())
        let second = try TrainingRun(checkpoint: dir + "/chunked.ckpt", resume: true, kind: "line", group: .single)
        XCTAssertEqual(second.resumed?.kind, "line")
        let resumedTask = LineTask()
        _ = try second.train(resumedTask, settings: settings(epochs: 3), header: [], progress: QuietProgress())
        for name in ["w", "b"] {
            XCTAssertEqual(resumedTask.parameters.parameter(name).value[0], straight.parameters.parameter(name).value[0], name)
        }
        print("line fit after 3 epochs: w \(straight.parameters.parameter("w").value[0]), b \(straight.parameters.parameter("b").value[0])")
    }

    func testAMissingOrForeignResumeFileIsNamed() throws {
        let dir = temporaryDirectory()
        XCTAssertThrowsError(try TrainingRun(checkpoint: dir + "/none.ckpt", resume: true, kind: "line", group: .single)) { error in
            XCTAssertTrue("\(error)".contains("none.ckpt.resume"), "\(error)")
        }
        let other = try TrainingRun(checkpoint: dir + "/x.ckpt", resume: false, kind: "line", group: .single)
        _ = try other.train(LineTask(), settings: settings(epochs: 1), header: [], progress: QuietProgress())
        XCTAssertThrowsError(try TrainingRun(checkpoint: dir + "/x.ckpt", resume: true, kind: "lm", group: .single)) { error in
            XCTAssertTrue("\(error)".contains("x.ckpt.resume"), "\(error)")
        }
    }
}
