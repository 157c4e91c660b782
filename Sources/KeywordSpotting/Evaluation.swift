import Audio
import Foundation
import LEMModel
import TaskSupport

/// Evaluates `model` on a split's (normalised) features, in chunks, without dropout.
package func evaluate(_ model: SequenceClassifier, _ split: SplitFeatures, labels: [String], chunk: Int = 256) -> ClassificationReport {
    let C = model.config.classCount
    var confusion = [[Int]](repeating: [Int](repeating: 0, count: C), count: C)
    let loss = split.values.withUnsafeBufferPointer {
        model.evaluate(sequences: $0.baseAddress!, labels: split.labels.map(Int32.init), count: split.count, steps: split.frames,
                       features: split.featureCount, chunk: chunk) { i, best, _ in confusion[split.labels[i]][best] += 1 }
    }
    return ClassificationReport(labels: labels, confusion: confusion, loss: loss / Double(max(split.count, 1)))
}

/// Clips `indices` of a split as one time-major batch `[T, B, F]` (the LEM's input layout).
package func timeMajorBatch(_ split: SplitFeatures, indices: [Int]) -> [Float] {
    let (T, F, B) = (split.frames, split.featureCount, indices.count)
    var x = [Float](repeating: 0, count: T * B * F)
    split.values.withUnsafeBufferPointer { src in
        x.withUnsafeMutableBufferPointer { copyTimeMajor(src.baseAddress!, indices: indices, steps: T, features: F, into: $0.baseAddress!) }
    }
    return x
}
