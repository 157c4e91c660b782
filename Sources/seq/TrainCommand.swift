import ArgumentParser
import Foundation
import LEMModel
import SequenceModelling
import TaskSupport
import ToolSupport

extension Seq {
    struct Train: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Train a sequence classifier or regressor: LEM (the paper's), LSTM, GRU or LRU, one or more layers.",
            discussion: """
                --task trains on one of the paper's tasks with the authors' data pipeline and
                their settings (hidden size, Δt, Adam's learning rate and schedule, batch,
                epochs, clipping; docs/PAPER.md lists them); flags override them. Or --train
                and --valid (and --test) read your own files, with --preset T to start from a
                task's settings.

                Trains a stack of recurrent layers read out at the last step (a class, or
                regression targets) or at every step (targets at every step), validates every
                epoch and keeps the best model in --checkpoint; the test set is scored once, with
                the best checkpoint, at the end. Ctrl-C or --max-minutes stop resumably
                (continue with --resume and the same flags).

                Examples:
                  seq train --task smnist --checkpoint smnist.ckpt --max-minutes 170
                  seq train --task smnist --checkpoint smnist.ckpt --resume
                  seq train --task psmnist --data ~/mnist --cell gru --lr 1e-3 --checkpoint gru.ckpt
                  seq train --task fhn --checkpoint fhn.ckpt
                  seq train --train a.csv --valid b.csv --features 3 --cell gru --layers 2 \\
                      --checkpoint gru.ckpt
                  seq train --train hr_train.ts --valid hr_valid.ts --preset heart-rate --checkpoint hr.ckpt
                """)

        @OptionGroup(title: "Data") var dataOptions: TrainData
        @Option(name: .long, help: ArgumentHelp("Model checkpoint (safetensors).", valueName: "file")) var checkpoint = "seq.ckpt"
        @OptionGroup(title: "Model") var architecture: CellOptions
        @OptionGroup(title: "Settings (default: --task's or --preset's, else as shown)") var settings: TrainSettings
        @OptionGroup(title: "Run") var runOptions: RunOptions

        mutating func validate() throws {
            if settings.dt != nil, let cell = architecture.cell, cell != .lem { throw ValidationError("--dt is the LEM's time step; --cell \(cell.rawValue) has none") }
        }

        func run() throws {
            try reportingErrors {
                let d = dataOptions
                var training = SequenceTraining(source: d.task.map { .task($0, data: d.data) } ?? .files(train: d.train!, valid: d.valid!, test: d.test))
                (training.features, training.regression, training.architecture) = (d.features, d.regression, architecture.architecture)
                training.recipe = settings.recipe(base: d.task ?? settings.preset)
                (training.checkpoint, training.resume, training.seed, training.limits) = (checkpoint, runOptions.resume, runOptions.seed, runOptions.limits)
                try training.run(progress: TerminalProgress())
            }
        }
    }
}

/// `seq train`'s data: a paper task or files.
struct TrainData: ParsableArguments {
    @Option(help: "One of the paper's tasks, with the authors' data pipeline and settings: smnist, psmnist, ncifar, eigenworms, heart-rate, fhn.") var task: PaperTask?
    @Option(help: ArgumentHelp("The task's data folder (default: corpora/<task>; fhn: generated in memory unless given).", valueName: "dir")) var data: String?
    @Option(help: ArgumentHelp("Training sequences (.ts, .npz or .csv).", valueName: "file")) var train: String?
    @Option(help: ArgumentHelp("Validation sequences.", valueName: "file")) var valid: String?
    @Option(help: ArgumentHelp("Test sequences (scored once, with the best checkpoint, at the end).", valueName: "file")) var test: String?
    @Option(help: "Values per step of a .csv file.") var features: Int?
    @Flag(help: "The labels of a .csv or .npz file are regression targets (a .ts file says so itself): a linear read-out trained on the mean squared error, RMSE as the metric.") var regression = false

    mutating func validate() throws {
        if task != nil {
            if train != nil || valid != nil || test != nil { throw ValidationError("--task brings its own sets: drop --train, --valid and --test") }
        } else {
            if train == nil || valid == nil { throw ValidationError("give --task TASK, or --train FILE and --valid FILE") }
            if data != nil { throw ValidationError("--data is a task's data folder: give --task, or use --train and --valid") }
        }
        if let features, features < 1 { throw ValidationError("--features must be at least 1 (got \(features))") }
    }
}

/// `seq train`'s model size and optimisation; unset flags keep the task's or preset's values.
struct TrainSettings: ParsableArguments {
    @Option(help: "Start from a task's settings (for your own files; --task implies its own).") var preset: PaperTask?
    @Option(help: "Hidden size d of the recurrent layers (128).") var hidden: Int?
    @Option(help: "The LEM's Δt (--cell lem only; 1).") var dt: Float?
    @Option(help: "Sequences per batch (120).") var batch: Int?
    @Option(help: "Learning rate (Adam; 0.001).") var lr: Float?
    @Option(help: "Epochs to train (30).") var epochs: Int?
    @Option(help: "Global gradient-norm clip (0 = none; none).") var clip: Float?
    @Option(name: .customLong("decay-at"), parsing: .upToNextOption, help: "Multiply the learning rate by --lr-decay after these epochs.") var decayAt: [Int] = []
    @Option(name: .customLong("lr-decay"), help: "The factor of --decay-at (0.1).") var lrDecay: Float?

    mutating func validate() throws {
        for (name, v) in [("--hidden", hidden), ("--batch", batch), ("--epochs", epochs)] {
            if let v, v < 1 { throw ValidationError("\(name) must be at least 1 (got \(v))") }
        }
        if let lr, !(lr > 0 && lr.isFinite) { throw ValidationError("--lr must be positive (got \(lr))") }
        if let dt, !(dt > 0 && dt.isFinite) { throw ValidationError("--dt must be positive (got \(dt))") }
        if let clip, !(clip >= 0 && clip.isFinite) { throw ValidationError("--clip must be 0 (off) or positive") }
        if let lrDecay, !(lrDecay > 0 && lrDecay <= 1) { throw ValidationError("--lr-decay must be in (0, 1]") }
        if let bad = decayAt.first(where: { $0 < 1 }) { throw ValidationError("--decay-at epochs start at 1 (got \(bad))") }
    }

    /// The base settings (`task`'s, or the defaults) with the given flags applied.
    func recipe(base task: PaperTask?) -> SequenceRecipe {
        var r = task.map(SequenceRecipe.authors) ?? SequenceRecipe()
        if let hidden { r.hidden = hidden }
        if let dt { r.dt = dt }
        if let batch { r.batch = batch }
        if let lr { r.lr = lr }
        if let epochs { r.epochs = epochs }
        if let clip { r.clip = clip > 0 ? clip : nil }
        if !decayAt.isEmpty { r.decayAt = decayAt }
        if let lrDecay { r.lrDecay = lrDecay }
        return r
    }
}
