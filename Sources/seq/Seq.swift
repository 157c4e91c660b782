import ArgumentParser
import Foundation
import LEMModel
import SequenceModelling
import TaskSupport
import ToolSupport

@main
struct Seq: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "seq",
        abstract: "Train and run LEM sequence classifiers and regressors: the paper's long-sequence tasks, or your own sequence files.",
        discussion: """
            The paper's tasks, with the authors' data pipelines (--task; docs/PAPER.md):
              smnist      sequential MNIST, 784 pixels × 1
              psmnist     the same pixels in one fixed permuted order
              ncifar      noisy CIFAR-10, 32 rows of 96 values, then 968 noise steps
              eigenworms  EigenWorms (UEA), 17,984 × 6
              heart-rate  BIDMC32HR (Monash), 4,000 × 2, regression
              fhn         FitzHugh-Nagumo, 1,000 steps, the next value at every step
            corpora/fetch-mnist.sh, fetch-cifar10.sh, fetch-eigenworms.sh and
            fetch-bidmc32hr.sh download the data; fhn's is generated.
            And your own files:
              .ts   the UEA/UCR/Monash archives' format (sktime's), equal-length series
              .npz  NumPy arrays x [N, T, F] (or [N, T]) and y [N] (classes 0…C−1),
                    [N, K] (regression targets) or [N, T, K] (targets at every step)
              .csv  one sequence per line: the label (or target, with --regression), then
                    the T × F values (--features F)

            Examples:
              seq train --task smnist --checkpoint smnist.ckpt --max-minutes 170
              seq train --task fhn --checkpoint fhn.ckpt
              seq eval --checkpoint smnist.ckpt --task smnist --split valid
              seq train --train worms_train.ts --valid worms_valid.ts --preset eigenworms \\
                  --checkpoint worms.ckpt
            """,
        version: "0.2.0",
        subcommands: [Train.self, Eval.self, Predict.self, Online.self, Quantize.self, Export.self, MakeData.self, Bench.self, Plot.self])

    static func main() {
        selectFastBLASKernels()
        main(nil)
    }
}

extension PaperTask: ExpressibleByArgument {}
extension TaskSplitName: ExpressibleByArgument {}

/// `--checkpoint` of the commands that only read one.
struct CheckpointOption: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Model checkpoint (safetensors).", valueName: "file"))
    var checkpoint: String = "seq.ckpt"
}

/// Runs `body`, turning every error into one line on stderr and exit status 1 (no stack traces).
func reportingErrors(_ body: () throws -> Void) throws {
    try ToolSupport.reportingErrors(tool: "seq", body)
}

/// Where evaluation and prediction read sequences: a file, or one of a task's sets.
struct DataSourceOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Sequences from a file (.ts, .npz or .csv).", valueName: "file")) var file: String?
    @Option(help: "Or one of the paper's tasks (its sets as seq train made them).") var task: PaperTask?
    @Option(help: ArgumentHelp("The task's data folder (default: corpora/<task>; fhn: generated unless given).", valueName: "dir")) var data: String?
    @Option(help: "The task's set: train, valid or test.") var split: TaskSplitName = .valid
    @Option(help: "Values per step of a .csv file.") var features: Int?

    mutating func validate() throws {
        if (file == nil) == (task == nil) { throw ValidationError("give the sequences: --file FILE, or --task TASK [--split valid|test]") }
        if file != nil && data != nil { throw ValidationError("--data is a task's data folder; with --file, give only the file") }
        if let features, features < 1 { throw ValidationError("--features must be at least 1 (got \(features))") }
    }

    var source: SequenceEvaluation.Source {
        if let task { return .task(task, data: data, split: split) }
        return .file(file!)
    }
}
