import Audio
import Foundation
import LEMModel
import TaskSupport

/// Evaluates `model` on a split's (normalised) features, in chunks, without dropout.
package func evaluate(_ model: SequenceClassifier, _ split: SplitFeatures, labels: [String], chunk: Int = 256) -> ClassificationReport {
    let C = model.config.classCount
    var confusion = [[Int]](repeating: [Int](repeating: 0, count: C), count: C)
    var loss = 0.0
    let T = split.frames
    var start = 0
    var rng = RandomGenerator(seed: 0)
    while start < split.count {
        let n = min(chunk, split.count - start)
        let x = timeMajorBatch(split, indices: Array(start..<(start + n)))
        let y = (start..<(start + n)).map { Int32(split.labels[$0]) }
        loss += model.forward(features: x, labels: y, steps: T, batch: n, training: false, rng: &rng)
        let logits = model.lastLogits
        for b in 0..<n {
            let row = logits + b * C
            var best = 0
            for c in 1..<C where row[c] > row[best] { best = c }
            confusion[split.labels[start + b]][best] += 1
        }
        start += n
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
