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
/// - gradientColumnSums: with `gradientScale`, receives `+=` the sum of the gradient rows (the
///   gradient of a bias added to every row), computed while each row is still in cache.
public func softmaxCrossEntropy(
    logits: UnsafeMutablePointer<Float>, rows: Int, classes: Int, targets: UnsafePointer<Int32>,
    gradientScale: Float?, gradientColumnSums: UnsafeMutablePointer<Float>? = nil
) -> Double {
    let chunks = parallelChunkCount(rows, costPerItem: classes * 8)
    var partial = [Double](repeating: 0, count: chunks)
    // Each chunk sums its rows' gradients apart (the first into the caller's sums directly).
    var chunkColumnSums = [Float](repeating: 0, count: gradientColumnSums == nil ? 0 : (chunks - 1) * classes)
    let logitsP = SendablePointer(logits)
    let targetsP = SendablePointer(UnsafeMutablePointer(mutating: targets))
    partial.withUnsafeMutableBufferPointer { sums in
        chunkColumnSums.withUnsafeMutableBufferPointer { columnSums in
            let sumsP = SendablePointer(sums.baseAddress!)
            let columnSumsP = gradientColumnSums.map { target in
                (0..<chunks).map { c in SendablePointer(c == 0 ? target : columnSums.baseAddress! + (c - 1) * classes) }
            }
            parallelChunks(rows, costPerItem: classes * 8) { range, chunk in
                var total = 0.0
                let columnSum = columnSumsP?[chunk].pointer
                for r in range {
                    let row = logitsP.pointer + r * classes
                    let k = Int(targetsP.pointer[r])
                    if k < 0 {
                        if gradientScale != nil { (logitsP.pointer + r * classes).update(repeating: 0, count: classes) }
                        continue
                    }
                    precondition(k < classes, "target class \(k) outside 0..<\(classes)")
                    total += Double(crossEntropyRow(row, classes: classes, target: k, gradientScale: gradientScale, columnSum: columnSum))
                }
                sumsP.pointer[chunk] = total
            }
        }
    }
    if let gradientColumnSums {
        for c in 1..<max(1, chunks) {
            for j in 0..<classes { gradientColumnSums[j] += chunkColumnSums[(c - 1) * classes + j] }
        }
    }
    return partial.reduce(0, +)
}

/// Loss of one row; overwrites the row with its scaled gradient when `gradientScale` is set.
/// With `columnSum`, also adds the gradient row into it.
@inline(always)
func crossEntropyRow(_ row: UnsafeMutablePointer<Float>, classes: Int, target: Int, gradientScale: Float?,
                     columnSum: UnsafeMutablePointer<Float>? = nil) -> Float {
    let maxValue = maximum(row, classes)
    let targetLogit = row[target]
    let sum: Float
    if let scale = gradientScale {
        sum = exponentiateAndSum(row, classes, shift: maxValue)
        let s = scale / sum
        if let columnSum {
            for j in 0..<classes {
                let g = row[j] * s
                row[j] = g
                columnSum[j] += g
            }
            columnSum[target] -= scale
        } else {
            for j in 0..<classes { row[j] *= s }
        }
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

/// Cross-entropies of softmax(s·z) for every logit multiplier s in `scales`, row by row, without
/// changing the logits: `out[r·S + i] = log Σ_j e^(sᵢ z_rj) − sᵢ z_r,target` (0 for rows whose
/// target is negative). One pass over each row per multiplier; lamb's evaluation softmax
/// temperature (`eval_softmax_temperature`, which multiplies the logits) is chosen from these.
public func temperedCrossEntropyRows(logits: UnsafePointer<Float>, rows: Int, classes: Int, targets: UnsafePointer<Int32>,
                                     scales: [Float]) -> [Float] {
    let S = scales.count
    var out = [Float](repeating: 0, count: rows * S)
    let logitsP = SendablePointer(UnsafeMutablePointer(mutating: logits))
    let targetsP = SendablePointer(UnsafeMutablePointer(mutating: targets))
    out.withUnsafeMutableBufferPointer { o in
        let outP = SendablePointer(o.baseAddress!)
        parallelChunks(rows, costPerItem: classes * 8 * S) { range, _ in
            for r in range {
                let k = Int(targetsP.pointer[r])
                guard k >= 0 else { continue }
                precondition(k < classes, "target class \(k) outside 0..<\(classes)")
                let row = UnsafePointer(logitsP.pointer + r * classes)
                let top = maximum(row, classes)
                for (i, s) in scales.enumerated() {
                    let sum = sumOfScaledExponentials(row, classes, scale: s, shift: top)
                    outP.pointer[r * S + i] = s * top + log(sum) - s * row[k]
                }
            }
        }
    }
    return out
}
