import Runtime

/// One spoken word placed in a labelled stream: its label, the span of its 1 s clip in samples,
/// and the clip's file (relative to the dataset root).
public struct StreamEvent: Sendable, Equatable {
    public var label: String
    public var start: Int
    public var end: Int
    public var clip: String
}

/// A long recording made from a Speech Commands split, as TensorFlow's
/// `generate_streaming_test_wav` makes one, with its ground truth.
public struct LabelledStream: Sendable {
    public var samples: [Float]
    public var sampleRate: Int
    public var events: [StreamEvent]

    /// The ground truth as CSV: a header, then `label,start_ms,end_ms,clip` per word, in time order.
    public var labelsCSV: String { Audio.labelsCSV(events, sampleRate: sampleRate) }
}

/// Settings of `makeLabelledStream`.
public struct StreamSettings: Sendable {
    /// Length of the stream.
    public var minutes: Double = 10
    /// Speech-to-noise ratio: 20·log10(RMS of the inserted clips / RMS of the noise).
    public var snrDB: Double = 10
    /// Mean silence between the end of one clip and the start of the next; each gap is drawn
    /// from U(0.5, 1.5) × this.
    public var gapMs: Double = 1000
    /// Share of the inserted clips that are keywords (the rest are unknown words).
    public var keywordFraction: Double = 0.8
    public var seed: UInt64 = 1
    /// The part of each background recording the noise comes from.
    public var noiseRange: NoiseRange = .whole

    public init() {}
}

/// Builds a labelled stream from `split` of `dataset`: keyword and unknown-word clips (generated
/// and recorded silence excluded) at random gaps, over the dataset's background recordings (cut
/// at random offsets and joined) scaled to the stated SNR, clamped to [−1, 1]. The same dataset,
/// split and settings give the same samples.
public func makeLabelledStream(_ dataset: SpeechCommands, split: DatasetSplit, settings: StreamSettings) throws -> LabelledStream {
    let rate = dataset.options.sampleRate, clipLength = dataset.options.clipSamples
    let examples = dataset.examples(split)
    let keywords = examples.indices.filter { examples[$0].label >= 2 }
    let unknowns = examples.indices.filter { examples[$0].label == SpeechCommands.unknownLabel && !examples[$0].isGeneratedSilence }
    guard !keywords.isEmpty else { throw SpeechCommandsError("the \(split.rawValue) split has no keyword clips to build a stream from") }
    let noise = dataset.noiseRecordings.map { settings.noiseRange.cut($0) }.filter { !$0.isEmpty }
    guard !noise.isEmpty else {
        throw SpeechCommandsError("a stream needs background noise: no _background_noise_ recordings or _silence_ clips in the dataset")
    }
    guard settings.minutes > 0, settings.minutes <= 24 * 60, settings.snrDB.isFinite, settings.gapMs >= 0,
          (0...1).contains(settings.keywordFraction) else {
        throw SpeechCommandsError("stream settings: minutes in (0, 1440], a finite SNR, a gap ≥ 0 ms and a keyword fraction in [0, 1]")
    }
    let total = Int(settings.minutes * 60 * Double(rate))
    var rng = RandomGenerator(seed: settings.seed, stream: 0x57AE)
    var speech = [Float](repeating: 0, count: total)
    var events: [StreamEvent] = []
    // Clips start on whole milliseconds, so the CSV's times are exact (at rates that are whole kHz).
    func gapSamples() -> Int { Int((settings.gapMs * Double(rng.uniform(0.5, 1.5))).rounded()) * rate / 1000 }
    var position = gapSamples()
    var speechEnergy = 0.0, speechSamples = 0
    while position + clipLength <= total {
        let useKeyword = unknowns.isEmpty || Double(rng.uniformFloat()) < settings.keywordFraction
        let pool = useKeyword ? keywords : unknowns
        let index = pool[rng.below(pool.count)]
        let clip = try dataset.cleanSamples(split, index: index)
        for i in 0..<clipLength {
            speech[position + i] = clip[i]
            speechEnergy += Double(clip[i] * clip[i])
        }
        speechSamples += clipLength
        events.append(StreamEvent(label: dataset.labels[examples[index].label], start: position, end: position + clipLength,
                                  clip: examples[index].relativePath ?? ""))
        position += clipLength + gapSamples()
    }
    // Noise: excerpts of the recordings at random offsets, end to end, then scaled to the SNR.
    var background = [Float](repeating: 0, count: total)
    var filled = 0
    while filled < total {
        let source = noise[rng.below(noise.count)]
        let offset = rng.below(max(1, source.count / 2))
        let n = min(source.count - offset, total - filled)
        for i in 0..<n { background[filled + i] = source[offset + i] }
        filled += n
    }
    let noiseRMS = (background.reduce(0.0) { $0 + Double($1 * $1) } / Double(total)).squareRoot()
    let speechRMS = (speechEnergy / Double(max(speechSamples, 1))).squareRoot()
    let scale = noiseRMS > 0 ? Float(speechRMS / noiseRMS / pow10(settings.snrDB / 20)) : 0
    var samples = speech
    for i in 0..<total { samples[i] = min(1, max(-1, speech[i] + scale * background[i])) }
    return LabelledStream(samples: samples, sampleRate: rate, events: events)
}

private func pow10(_ x: Double) -> Double { exp(x * log(10)) }

#if canImport(Glibc)
import Glibc
#endif
