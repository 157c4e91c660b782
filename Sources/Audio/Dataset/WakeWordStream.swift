// A long wake-word test stream as Picovoice's wake-word benchmark builds one (mixer.py), made
// and written part by part so that 10 or 24 hours never sit in memory.

import Foundation
import Runtime

/// What a wake-word stream is made of: recordings of the keywords (their folder's name is their
/// label), other speech (each clip labelled with its folder's name), and long noise recordings
/// (each cut to a `NoiseRange`, peak-normalised; these stay in memory).
public struct WakeWordStreamSources: Sendable {
    public var keywords: [(label: String, path: String)]
    public var speech: [(label: String, path: String)]
    public var noise: [(path: String, samples: [Float])]
    public var sampleRate: Int
    /// Recordings that could not be decoded and were left out (with `skipUnreadable`), and why.
    public var skipped: [String] = []
    /// Other speech that cannot be decoded is skipped (another clip is drawn) instead of an error.
    public var skipUnreadable = false

    public init(keywords: [(label: String, path: String)], speech: [(label: String, path: String)],
                noise: [(path: String, samples: [Float])], sampleRate: Int) {
        (self.keywords, self.speech, self.noise, self.sampleRate) = (keywords, speech, noise, sampleRate)
    }

    /// Scans the folders. Keywords: every audio file under each folder, labelled with the
    /// folder's name. Speech: every audio file under `speechFolder` outside `_background_noise_`
    /// and `_silence_`, labelled with its parent folder's name, keyword labels left out (as
    /// Picovoice excludes the keyword from its background speech); with `speechSplit`, a Speech
    /// Commands root's list files choose the clips (`testing`: `testing_list.txt`, `training`:
    /// the files in neither list). Noise: every audio file under `noiseFolder`, resampled to
    /// `sampleRate`, cut to `noiseRange`. With `keywordSplit`, only the keyword recordings
    /// TensorFlow's hash split (10 % validation, 10 % testing) puts there — the held-out voices of
    /// a `kws synthesize` folder, for a validation stream. Every keyword recording is decoded once here: one that
    /// cannot be is an error naming them all, or, with `skipUnreadable`, left out (`skipped`);
    /// other speech that cannot be decoded is then skipped as the stream is made.
    public static func scan(keywordFolders: [String], speechFolder: String, speechSplit: DatasetSplit? = nil,
                            noiseFolder: String, noiseRange: NoiseRange = .whole, sampleRate: Int = 16000,
                            skipUnreadable: Bool = false, keywordSplit: DatasetSplit? = nil) throws -> WakeWordStreamSources {
        var keywords: [(label: String, path: String)] = []
        var unreadable: [String] = []
        for folder in keywordFolders {
            let label = (folder.hasSuffix("/") ? String(folder.dropLast()) : folder).split(separator: "/").last.map(String.init) ?? folder
            let root = folder.hasSuffix("/") ? String(folder.dropLast()) : folder
            for path in try audioFiles(under: folder, purpose: "keyword recordings") {
                // A folder of kws synthesize: TensorFlow's hash split of "<word>/<voice>_nohash_…".
                if let keywordSplit, speechCommandsSplit(path: label + "/" + path.dropFirst(root.count + 1), validationPercentage: 10, testingPercentage: 10) != keywordSplit { continue }
                do { _ = try decodeAt(path, rate: sampleRate); keywords.append((label, path)) } catch { unreadable.append("\(error)") }
            }
        }
        if keywords.isEmpty && unreadable.isEmpty, let keywordSplit {
            throw SpeechCommandsError("\(keywordFolders.joined(separator: ", ")): no keyword recordings in the \(keywordSplit.rawValue) split of the hash")
        }
        if !unreadable.isEmpty && !skipUnreadable {
            throw SpeechCommandsError("\(unreadable.count) keyword recording\(unreadable.count == 1 ? "" : "s") cannot be decoded (--skip-unreadable leaves them out):\n  "
                                      + unreadable.prefix(20).joined(separator: "\n  ") + (unreadable.count > 20 ? "\n  …" : ""))
        }
        let keywordLabels = Set(keywords.map(\.label))
        var speechFiles = try audioFiles(under: speechFolder, purpose: "other speech")
        let root = speechFolder.hasSuffix("/") ? String(speechFolder.dropLast()) : speechFolder
        func relative(_ path: String) -> String { String(path.dropFirst(root.count + 1)) }
        speechFiles = speechFiles.filter { path in
            let parts = relative(path).split(separator: "/")
            return !parts.contains("_background_noise_") && !parts.contains("_silence_")
        }
        if let split = speechSplit {
            func list(_ name: String) throws -> Set<String> {
                let path = root + "/" + name
                guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                    throw SpeechCommandsError("\(path): cannot read it (--speech-split needs a Speech Commands folder with validation_list.txt and testing_list.txt)")
                }
                return Set(text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty })
            }
            let validation = try list("validation_list.txt"), testing = try list("testing_list.txt")
            speechFiles = speechFiles.filter { path in
                let r = relative(path)
                switch split {
                case .testing: return testing.contains(r)
                case .validation: return validation.contains(r)
                case .training: return !testing.contains(r) && !validation.contains(r)
                }
            }
        }
        let speech = speechFiles.map { path -> (label: String, path: String) in
            let parts = relative(path).split(separator: "/")
            return (parts.count > 1 ? String(parts[parts.count - 2]) : "_speech_", path)
        }.filter { !keywordLabels.contains($0.label) }
        guard !speech.isEmpty else { throw SpeechCommandsError("\(speechFolder): no other speech left (keyword folders and the split's lists leave none)") }
        var noise: [(path: String, samples: [Float])] = []
        for path in try audioFiles(under: noiseFolder, purpose: "noise") {
            var samples = noiseRange.cut(try decodeAt(path, rate: sampleRate))
            normalisePeak(&samples)
            noise.append((path, samples))
        }
        var sources = WakeWordStreamSources(keywords: keywords, speech: speech, noise: noise, sampleRate: sampleRate)
        sources.skipped = unreadable
        sources.skipUnreadable = skipUnreadable
        return sources
    }
}

/// Every audio file under `folder` (recursively, hidden entries skipped, sorted). Throws when
/// the folder is missing or holds no audio; `purpose` names the folder's role in the message.
public func audioFiles(under folder: String, purpose: String) throws -> [String] {
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory), isDirectory.boolValue else {
        throw SpeechCommandsError("\(folder): no such directory (\(purpose))")
    }
    let root = folder.hasSuffix("/") ? String(folder.dropLast()) : folder
    let files = (FileManager.default.subpaths(atPath: root) ?? []).filter { path in
        guard let dot = path.lastIndex(of: "."), !path.split(separator: "/").contains(where: { $0.hasPrefix(".") }) else { return false }
        return SpeechCommands.audioExtensions.contains(path[path.index(after: dot)...].lowercased())
    }.sorted().map { root + "/" + $0 }
    guard !files.isEmpty else { throw SpeechCommandsError("\(folder): no audio files (\(purpose))") }
    return files
}

/// A file's mono samples at `rate`.
private func decodeAt(_ path: String, rate: Int) throws -> [Float] {
    let clip = try readAudio(path: path)
    return clip.sampleRate == rate ? clip.samples : try resample(clip.samples, from: clip.sampleRate, to: rate)
}

/// x / max|x| (Picovoice's `_max_abs` normalisation); silence stays silence.
private func normalisePeak(_ x: inout [Float]) {
    let peak = x.reduce(Float(0)) { max($0, abs($1)) }
    if peak > 0 { for i in x.indices { x[i] /= peak } }
}

/// The largest energy of one 512-sample frame (Picovoice's `_pcm_energy`; a part shorter than a
/// frame is one frame).
private func peakFrameEnergy(_ x: ArraySlice<Float>) -> Double {
    let frame = 512
    let frames = max(1, x.count / frame)
    var best = 0.0
    for f in 0..<frames {
        let lo = x.startIndex + f * frame, hi = min(x.endIndex, lo + frame)
        var e = 0.0
        for i in lo..<hi { e += Double(x[i]) * Double(x[i]) }
        best = max(best, e)
    }
    return best
}

/// Settings of a wake-word stream.
public struct WakeWordStreamSettings: Sendable {
    /// Length of the stream without its keywords (Picovoice: 24).
    public var hours: Double = 10
    /// Each speech part's peak-frame energy over the noise's there, in dB (Picovoice: 10).
    public var snrDB: Double = 10
    /// Between keywords, each drawn speech clip is kept with this probability, else the same
    /// length of noise alone (Picovoice: 0.2).
    public var speechProbability: Double = 0.2
    /// Keywords in the stream (default: every recording once, in a random order, as Picovoice);
    /// more go through further random orders.
    public var keywordCount: Int?
    public var seed: UInt64 = 1

    public init() {}

    public func validate() throws {
        guard hours > 0, hours <= 1000, snrDB.isFinite, (0...1).contains(speechProbability), (keywordCount ?? 1) >= 1 else {
            throw SpeechCommandsError("wake-word stream settings: hours in (0, 1000], a finite SNR, a speech probability in [0, 1] and at least one keyword")
        }
    }
}

/// Makes a wake-word stream part by part, exactly as Picovoice's mixer.py lays one out:
/// background, keyword, background, …, keyword, background, where each background is
/// `hours / (keywords + 1)` of speech clips drawn at random (each kept with
/// `speechProbability`, else as silence of its length); every clip and keyword recording is
/// peak-normalised; the noise, random noise recordings end to end, runs under everything; each
/// speech part is scaled so that its peak-frame energy is `snrDB` over the noise's under it.
/// (Picovoice then divides the whole stream by its peak: `render` does that with a first pass.)
/// The same sources and settings give the same parts.
public struct WakeWordStreamMixer {
    public let sources: WakeWordStreamSources
    public let settings: WakeWordStreamSettings
    private var rng: RandomGenerator
    private var keywordOrder: [Int] = []
    private var nextKeyword = 0
    private let segment: Int
    private var filledInSegment = 0
    private var inBackground = true
    /// Samples handed out so far.
    public private(set) var position = 0
    private var noise: [Float] = []
    private var noiseOffset = 0

    public init(sources: WakeWordStreamSources, settings: WakeWordStreamSettings) throws {
        try settings.validate()
        guard !sources.keywords.isEmpty else { throw SpeechCommandsError("a wake-word stream needs keyword recordings") }
        guard !sources.noise.isEmpty, sources.noise.contains(where: { !$0.samples.isEmpty }) else { throw SpeechCommandsError("a wake-word stream needs noise recordings") }
        (self.sources, self.settings) = (sources, settings)
        rng = RandomGenerator(seed: settings.seed, stream: 0x3A4E)
        let count = settings.keywordCount ?? sources.keywords.count
        while keywordOrder.count < count {
            var order = Array(sources.keywords.indices)
            rng.shuffle(&order)
            keywordOrder += order.prefix(count - keywordOrder.count)
        }
        segment = Int(settings.hours * 3600 * Double(sources.sampleRate)) / (count + 1)
    }

    /// One part of the stream: its mixed samples (before the final peak normalisation) and, for
    /// a keyword or a kept speech clip, its ground-truth word (its span is the whole recording).
    public struct Part {
        public var samples: [Float]
        public var event: StreamEvent?
    }

    /// The next part, or nil at the end of the stream.
    public mutating func next() throws -> Part? {
        if inBackground && filledInSegment >= segment {
            guard nextKeyword < keywordOrder.count else { return nil }
            inBackground = false
        }
        var clip: [Float], label: String?, path: String
        if inBackground {
            var s = sources.speech[rng.below(sources.speech.count)]
            var keep = Double(rng.uniformFloat()) < settings.speechProbability
            var decoded: [Float]?
            for _ in 0..<100 {
                do { decoded = try decodeAt(s.path, rate: sources.sampleRate); break } catch {
                    guard sources.skipUnreadable else { throw error }
                    s = sources.speech[rng.below(sources.speech.count)]   // the same draws on both passes
                    keep = Double(rng.uniformFloat()) < settings.speechProbability
                }
            }
            guard let decoded else { throw SpeechCommandsError("\(s.path): 100 speech clips in a row could not be decoded") }
            clip = decoded
            (label, path) = (keep ? s.label : nil, s.path)
            if !keep { clip = [Float](repeating: 0, count: clip.count) }
            filledInSegment += clip.count
        } else {
            let k = sources.keywords[keywordOrder[nextKeyword]]
            nextKeyword += 1
            clip = try decodeAt(k.path, rate: sources.sampleRate)
            (label, path) = (k.label, k.path)
            (inBackground, filledInSegment) = (true, 0)
        }
        normalisePeak(&clip)
        var mixed = takeNoise(clip.count)
        if label != nil {
            let speechEnergy = peakFrameEnergy(clip[...])
            let scale = speechEnergy > 0 ? Float((peakFrameEnergy(mixed[...]) * pow(10, settings.snrDB / 10) / speechEnergy).squareRoot()) : 0
            for i in mixed.indices { mixed[i] += scale * clip[i] }
        }
        let start = position
        position += clip.count
        return Part(samples: mixed, event: label.map { StreamEvent(label: $0, start: start, end: start + clip.count, clip: path) })
    }

    private mutating func takeNoise(_ count: Int) -> [Float] {
        var out: [Float] = []
        out.reserveCapacity(count)
        while out.count < count {
            if noiseOffset >= noise.count {
                noise = sources.noise[rng.below(sources.noise.count)].samples
                noiseOffset = 0
                continue
            }
            let n = min(count - out.count, noise.count - noiseOffset)
            out += noise[noiseOffset..<(noiseOffset + n)]
            noiseOffset += n
        }
        return out
    }

    /// Makes the whole stream twice — once for its peak and its ground truth, once to hand its
    /// samples, divided by the peak, to `write` part by part — in the memory of one part.
    /// `truthReady` gets the ground truth between the passes (so a reader of the samples can
    /// find it complete). Returns the ground truth and the stream's length in samples.
    public static func render(sources: WakeWordStreamSources, settings: WakeWordStreamSettings,
                              truthReady: ([StreamEvent], Int) throws -> Void = { _, _ in },
                              write: ([Float]) throws -> Void) throws -> (events: [StreamEvent], samples: Int) {
        var first = try WakeWordStreamMixer(sources: sources, settings: settings)
        var events: [StreamEvent] = [], peak: Float = 0
        while let part = try first.next() {
            if let e = part.event { events.append(e) }
            for x in part.samples { peak = max(peak, abs(x)) }
        }
        try truthReady(events, first.position)
        var second = try WakeWordStreamMixer(sources: sources, settings: settings)
        let scale: Float = peak > 0 ? 1 / peak : 1
        while var part = try second.next() {
            for i in part.samples.indices { part.samples[i] *= scale }
            try write(part.samples)
        }
        return (events, first.position)
    }
}

/// The ground truth of a stream as `kws make-stream` writes it: a header, then
/// `label,start_ms,end_ms,clip` per word (the span of its whole recording), in time order.
public func labelsCSV(_ events: [StreamEvent], sampleRate: Int) -> String {
    "label,start_ms,end_ms,clip\n" + events.map { e in
        "\(e.label),\(e.start * 1000 / sampleRate),\(e.end * 1000 / sampleRate),\(e.clip)\n"
    }.joined()
}
