/// A token stream split into B parallel streams, time-major, and cut into BPTT windows
/// (pytorch/examples word_language_model `batchify` / `get_batch`).
///
/// With the alphabet as the data and B = 4 streams:
///
///     a b c d e f g h i j k l m n o p q r s t u v w x      (24 tokens)
///
///     ┌ a g m s ┐   stream b is column b; row t is time step t.
///     │ b h n t │   The T·B tokens that do not fill a whole row are dropped
///     │ c i o u │   (at most B − 1 of them).
///     │ d j p v │
///     │ e k q w │
///     └ f l r x ┘
///
/// Windows of BPTT = 2 take rows [t, t+2) as inputs and rows [t+1, t+3) as targets:
///
///     inputs  ┌ a g m s ┐   targets ┌ b h n t ┐
///             └ b h n t ┘           └ c i o u ┘
///
/// The final recurrent state of one window starts the next one (truncated BPTT), so each
/// stream reads its column from top to bottom once per epoch.
public struct StreamBatches: Sendable {
    /// `[length, batch]` time-major token ids.
    public let data: [Int32]
    public let batch: Int
    public let length: Int
    public let bptt: Int

    public init(tokens: [Int32], batch: Int, bptt: Int) {
        precondition(batch >= 1 && bptt >= 1)
        let length = tokens.count / batch
        var data = [Int32](repeating: 0, count: length * batch)
        for b in 0..<batch {
            for t in 0..<length { data[t * batch + b] = tokens[b * length + t] }
        }
        self.data = data
        self.batch = batch
        self.length = length
        self.bptt = bptt
    }

    /// Number of windows (the last may be shorter than `bptt`).
    public var windowCount: Int { length < 2 ? 0 : (length - 1 + bptt - 1) / bptt }

    /// Rows `[start, start + steps)` as inputs and `[start + 1, …)` as targets, flat `[steps, B]`.
    public func window(_ index: Int) -> (inputs: ArraySlice<Int32>, targets: ArraySlice<Int32>, steps: Int) {
        let start = index * bptt
        let steps = min(bptt, length - 1 - start)
        return (data[start * batch ..< (start + steps) * batch], data[(start + 1) * batch ..< (start + 1 + steps) * batch], steps)
    }
}

/// Every token of a split for evaluation, as `streams` parallel streams with a padded tail.
///
/// The split is preceded by `context` (the `<eos>` id: every PTB line follows a line end), so
/// all N tokens of the split are predicted — N is the token count the literature reports
/// (words + `<eos>`). The N predictions are divided into `streams` contiguous segments; segments
/// shorter than the longest are padded with target −1, which the loss ignores. With one stream
/// this is the exact sequential evaluation; more streams are faster but each segment starts from
/// a zero state.
public struct EvaluationStreams: Sendable {
    public let inputs: [Int32]
    public let targets: [Int32]
    public let length: Int
    public let streams: Int
    /// Number of real predictions (= tokens in the split).
    public let predictionCount: Int

    public init(tokens: [Int32], context: Int32, streams requested: Int) {
        let n = tokens.count
        let streams = max(1, min(requested, n))
        let length = (n + streams - 1) / streams
        var inputs = [Int32](repeating: 0, count: length * streams)
        var targets = [Int32](repeating: -1, count: length * streams)
        for s in 0..<streams {
            let lo = s * length
            for t in 0..<length where lo + t < n {
                let i = lo + t
                inputs[t * streams + s] = i == 0 ? context : tokens[i - 1]
                targets[t * streams + s] = tokens[i]
            }
        }
        (self.inputs, self.targets, self.length, self.streams, predictionCount) = (inputs, targets, length, streams, n)
    }
}
