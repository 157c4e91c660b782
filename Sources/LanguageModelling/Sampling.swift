import LEMModel

/// Draws a token from softmax(logits / temperature) over all tokens or the top k.
package func sampleToken(logits: UnsafeMutablePointer<Float>, count: Int, temperature: Float, topK: Int,
                 order: inout [Int], rng: inout RandomGenerator) -> Int32 {
    if topK > 0 && topK < count {
        for i in 0..<count { order[i] = i }
        // Partial selection of the k largest logits (ties broken by index, deterministic).
        order.sort { logits[$0] != logits[$1] ? logits[$0] > logits[$1] : $0 < $1 }
        let threshold = logits[order[topK - 1]]
        for i in 0..<count where logits[i] < threshold { logits[i] = -.infinity }
    }
    softmaxInPlace(logits, count: count, temperature: temperature)
    let u = rng.uniformFloat()
    var cumulative: Float = 0
    var last = 0
    for i in 0..<count where logits[i] > 0 {
        cumulative += logits[i]
        last = i
        if u < cumulative { return Int32(i) }
    }
    return Int32(last)
}
