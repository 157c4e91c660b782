import Audio
import Foundation
import LEMModel
import TaskSupport

/// Which clips `kws eval` counts.
package enum EvaluationProtocol: String, CaseIterable, Sendable {
    /// TensorFlow's 12-class split: generated silence and unknown words subsampled as the
    /// checkpoint's dataset options say.
    case tf
    /// What the authors' loader counts: every listed clip, every non-keyword word as unknown, no silence.
    case lem
}

/// `kws eval` as one call: a keyword spotter on a split (or all) of a Speech Commands folder,
/// under a protocol: the confusion report and, unless `confusionSVG` is "none", its heat map.
package struct KeywordEvaluation {
    package var checkpoint: String
    package var int8 = false
    /// The folder (nil: the built-in corpus).
    package var data: String?
    /// test, valid or all.
    package var split = "test"
    package var evaluationProtocol = EvaluationProtocol.tf
    /// Where to draw the confusion matrix (nil: `<checkpoint>.confusion-<split>.svg`; "none": nowhere).
    package var confusionSVG: String?

    package init(checkpoint: String) { self.checkpoint = checkpoint }

    /// The report over the split's clips, the folder read, and the heat map's path ("none" when not drawn).
    package func run() throws -> (report: ClassificationReport, data: String, svg: String) {
        let spotter = try KeywordSpotter(checkpoint: checkpoint, int8: int8)
        let root = try data ?? DefaultCorpus.speech.directory()
        var options = spotter.tool.dataset
        options.streamNegatives = StreamNegatives()   // training-only examples: not part of any evaluated split
        if evaluationProtocol == .lem { (options.unknownPercentage, options.silenceInEvaluationSplits) = (nil, false) }
        let dataset = try SpeechCommands(root: root, options: options)
        let splits: [DatasetSplit] = split == "test" ? [.testing] : split == "valid" ? [.validation] : DatasetSplit.allCases
        var total: ClassificationReport?
        for s in splits where !dataset.examples(s).isEmpty {
            var features = try dataset.features(s, extractor: spotter.extractor)
            spotter.tool.normalizer.apply(&features.values)
            let report = evaluate(spotter.model, features, labels: spotter.tool.labels)
            if var t = total {
                for i in t.confusion.indices { for j in t.confusion.indices { t.confusion[i][j] += report.confusion[i][j] } }
                t.loss = (t.loss * Double(t.count - report.count) + report.loss * Double(report.count)) / Double(t.count)
                total = t
            } else { total = report }
        }
        guard let report = total else { throw SpeechCommandsError("\(root): no clips in the \(split) split") }
        let svg = confusionSVG ?? "\(checkpoint).confusion-\(split).svg"
        if svg != "none" {
            try writeConfusionChart(report.confusion, labels: report.labels,
                                    title: String(format: "%@: %@ split, accuracy %.2f%% (%d clips)", checkpoint, split,
                                                  100 * report.accuracy, report.count), to: svg)
        }
        return (report, root, svg)
    }
}
