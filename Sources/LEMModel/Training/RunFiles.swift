/// The files of a training run, all named after its best checkpoint (the one place these names
/// are made): `<checkpoint>.resume`, `<checkpoint>.metrics.jsonl`, `<checkpoint>.curve.svg`.
public struct RunFiles: Sendable, Equatable {
    /// The best model (what eval, sample and classify read).
    public let checkpoint: String
    public init(checkpoint: String) { self.checkpoint = checkpoint }
    /// The full training state, rewritten at every epoch end, periodic save and stop.
    public var resume: String { checkpoint + ".resume" }
    /// One JSON object per line: train, valid, test and stop events.
    public var metrics: String { checkpoint + ".metrics.jsonl" }
    /// The learning curve drawn from `metrics`.
    public var curve: String { checkpoint + ".curve.svg" }
}
