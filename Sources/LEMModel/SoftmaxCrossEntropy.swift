/// Fused, numerically stable softmax cross-entropy over rows of logits.
///
/// For row r with logits x and target class k:
///
///     loss_r = log Σ_j exp(x_j) − x_k = −log softmax(x)_k        (natural log, nats)
///
/// computed as `max + log Σ exp(x_j − max)` so no exponential overflows. Returns Σ_r loss_r in
/// Double, so a caller gets the exact mean (`sum / rows`), perplexity `exp(mean)` and bits per
/// character `mean / ln 2` over any number of batches.
///
/// When `gradientScale` is given, the logits are overwritten with the gradient of
/// `gradientScale · Σ_r loss_r`, i.e. `gradientScale · (softmax(x) − onehot(k))`; use `1/rows` for
/// the mean loss. Rows are split over the cores when there are enough of them.
///
/// - logits: `[rows, classes]`; targets: `[rows]`, each in `0..<classes`, or negative for a padding
///   row that is ignored (loss 0, gradient 0), as PyTorch's `ignore_index`.
public func softmaxCrossEntropy(
    logits: UnsafeMutablePointer<Float>, rows: Int, classes: Int, targets: UnsafePointer<Int32>,
    gradientScale: Float?
) -> Double {
    var partial = [Double](repeating: 0, count: workerCount)
    let logitsP = SendablePointer(logits)
    let targetsP = SendablePointer(UnsafeMutablePointer(mutating: targets))
    partial.withUnsafeMutableBufferPointer { sums in
        let sumsP = SendablePointer(sums.baseAddress!)
        parallelChunks(rows, costPerItem: classes * 8) { range, chunk in
            var total = 0.0
            for r in range {
                let row = logitsP.pointer + r * classes
                let k = Int(targetsP.pointer[r])
                if k < 0 {
                    if gradientScale != nil { (logitsP.pointer + r * classes).update(repeating: 0, count: classes) }
                    continue
                }
                precondition(k < classes, "target class \(k) outside 0..<\(classes)")
                total += Double(crossEntropyRow(row, classes: classes, target: k, gradientScale: gradientScale))
            }
            sumsP.pointer[chunk] = total
        }
    }
    return partial.reduce(0, +)
}

/// Loss of one row; overwrites the row with its scaled gradient when `gradientScale` is set.
@inline(always)
func crossEntropyRow(_ row: UnsafeMutablePointer<Float>, classes: Int, target: Int, gradientScale: Float?) -> Float {
    let maxValue = maximum(row, classes)
    let targetLogit = row[target]
    let sum: Float
    if let scale = gradientScale {
        sum = exponentiateAndSum(row, classes, shift: maxValue)
        let s = scale / sum
        for j in 0..<classes { row[j] *= s }
        row[target] -= scale
    } else {
        sum = sumOfExponentials(row, classes, shift: maxValue)
    }
    return maxValue + logf(sum) - targetLogit
}

/// Replaces `row` with softmax(row / temperature) (for sampling and classification).
public func softmaxInPlace(_ row: UnsafeMutablePointer<Float>, count: Int, temperature: Float = 1) {
    if temperature != 1 {
        let inv = 1 / temperature
        for j in 0..<count { row[j] *= inv }
    }
    let sum = exponentiateAndSum(row, count, shift: maximum(row, count))
    let s = 1 / sum
    for j in 0..<count { row[j] *= s }
}

#if canImport(Glibc)
import Glibc
#endif
