import ArgumentParser
import Foundation
import LEMModel
import SequenceModelling
import TaskSupport
import ToolSupport

extension Seq {
    struct Online: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Learn while predicting on an endless stream of vectors or labelled vectors (prequential evaluation, truncated BPTT).",
            discussion: """
                Reads one vector per step from a file or standard input (-): text, one line
                per vector (values separated by commas, spaces or tabs), or raw little-endian
                float32 (--format f32 --features F). Each vector is first scored against the
                prediction the model made for it from the one before (squared error, before any
                learning from it); every --window steps one Adam step of truncated BPTT runs
                over those steps from the state before them, and the state carries on. No
                epochs, no stored dataset: memory is one window, the model and its optimizer.
                Every --report-every steps: the mean prequential squared error over them and
                the same for predicting "no change" (the baseline to beat).

                With --classes K the stream is labelled: the last value of each vector is the
                step's class (0 to K − 1), the others its features. The model reads the
                features, and its prediction of the step's class is scored (right or wrong,
                cross-entropy) before it learns from the label; the baseline is the most
                frequent class so far.

                Examples:
                  seq make-data switching --steps 200000 --out - | seq online - --cell lru
                  seq online sensor.txt --hidden 64 --window 50 --json --plot sensor.svg
                  seq make-data fhn-drift --out - | seq online - --max-steps 100000 --report-every 5000
                  seq make-data switching --labels --out - | seq online - --classes 2 --max-steps 50000
                """)

        @Argument(help: ArgumentHelp("The stream: a file, or - for standard input.", valueName: "input")) var input: String
        @Option(help: "text (one vector per line) or f32 (raw little-endian float32).") var format: String = "text"
        @Option(help: "Values per vector, a label included (text: default the first line's count; f32: required).") var features: Int?
        @Option(help: "A labelled stream of this many classes: the last value of each vector is its class (0 to K − 1).") var classes: Int?
        @OptionGroup(title: "Model") var cellOptions: CellOptions
        @Option(help: "Hidden size d.") var hidden: Int = 32
        @Option(help: "The LEM's Δt (--cell lem only).") var dt: Float = 0.5
        @Option(help: "Adam learning rate.") var lr: Float = 1e-3
        @Option(help: "Steps per truncated-BPTT update.") var window: Int = 20
        @Option(help: "Global gradient-norm clip per update (0 = none).") var clip: Float = 1
        @Option(help: "Random seed (initialisation).") var seed: UInt64 = 1
        @Option(name: .customLong("report-every"), help: "Steps between reports.") var reportEvery: Int = 1000
        @Option(name: .customLong("max-steps"), help: "Stop after this many vectors (default: the end of the stream).") var maxSteps: Int?
        @Option(help: ArgumentHelp("Write the curve (prequential MSE or accuracy per report, and the baseline's) as an SVG chart.", valueName: "file")) var plot: String?
        @Flag(help: "Print each report and the summary as JSON lines.") var json = false

        mutating func validate() throws {
            guard VectorStream.Format(rawValue: format) != nil else { throw ValidationError("--format must be text or f32 (got \(format))") }
            if let features, features < 1 { throw ValidationError("--features must be at least 1") }
            if format == "f32" && features == nil { throw ValidationError("--format f32 needs --features (values per vector)") }
            if reportEvery < 1 { throw ValidationError("--report-every must be at least 1") }
            if let classes, classes < 2 { throw ValidationError("--classes must be at least 2") }
            if let maxSteps, maxSteps < 1 { throw ValidationError("--max-steps must be at least 1") }
        }

        func run() throws {
            try reportingErrors {
                let stream = try VectorStream(path: input, format: VectorStream.Format(rawValue: format)!, features: features)
                // Text streams say their width on the first line: peek by reading it.
                var first: [Float]? = nil
                if stream.features == nil {
                    first = try stream.next()
                    guard first != nil else { throw ToolError(description: "\(stream.source): no vectors") }
                }
                var settings = OnlineSettings(features: stream.features!)
                settings.classes = classes
                let architecture = cellOptions.architecture
                (settings.cell, settings.layers) = (architecture.cell ?? .lem, architecture.layers ?? 1)
                (settings.hiddenSize, settings.dt, settings.learningRate, settings.window, settings.clip, settings.seed) = (hidden, dt, lr, window, clip, seed)
                if let problem = settings.problem { throw ValidationError(problem) }
                let learner = OnlineLearner(settings: settings)
                var run = OnlineRun(learner: learner, stream: stream)
                (run.reportEvery, run.maxSteps, run.plot, run.first) = (reportEvery, maxSteps, plot, first)
                let what = classes.map { "\(settings.inputSize) features and a label of \($0) classes per step" } ?? "\(settings.features) values per step"
                writeStandardError("online: \(settings.layers) × \(settings.cell.displayName) hidden \(hidden), \(what), "
                                   + "an update every \(window) steps (Adam lr \(lr)), reading \(stream.source)\n")
                let summary = try run.run { report in
                    // Written unbuffered: a report reaches a pipe as soon as it is made.
                    let line = json ? jsonLine(report.object.merging(["event": "report"]) { a, _ in a }) : report.line
                    FileHandle.standardOutput.write(Data((line + "\n").utf8))
                }
                if json { print(jsonLine(summary.merging(["event": "summary"]) { a, _ in a })) } else if classes != nil {
                    let percent = { (key: String) in (summary[key] as? Double).map { String(format: "%.2f %%", 100 * $0) } ?? "-" }
                    print(String(format: "%d steps, %d updates: prequential accuracy %@ over the whole stream (the most frequent class so far: %@), %.0f steps/s, peak memory %.0f MB",
                                 summary["steps"] as! Int, summary["updates"] as! Int, percent("accuracy"), percent("majority_accuracy"),
                                 summary["steps_per_s"] as! Double, summary["peak_rss_mb"] as! Double))
                } else {
                    let mse = (summary["mse"] as? Double).map { String(format: "%.5g", $0) } ?? "-"
                    let still = (summary["persistence_mse"] as? Double).map { String(format: "%.5g", $0) } ?? "-"
                    print(String(format: "%d steps, %d updates: prequential MSE %@ over the whole stream (predicting no change: %@), %.0f steps/s, peak memory %.0f MB",
                                 summary["steps"] as! Int, summary["updates"] as! Int, mse, still, summary["steps_per_s"] as! Double, summary["peak_rss_mb"] as! Double))
                }
                if let plot { writeStandardError("curve: \(plot)\n") }
            }
        }
    }
}
