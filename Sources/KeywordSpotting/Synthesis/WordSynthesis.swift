// `kws synthesize`: a Speech Commands-layout folder for any word, from text alone.

import Audio
import Foundation
import Runtime
import Synchronization

/// Synthetic training clips for a wake word: positives spoken by every offline voice the
/// machine has (speed and pitch spread), negatives that sound alike (CMUdict neighbours by
/// phoneme edit distance) and other dictionary words, each augmented as the field does (room
/// reverberation, equalisation) and placed in a 1 s clip — a positive so that the word ends in
/// the clip's last part (`positiveEnd`), as a window that should fire sees it.
///
/// Layout: `out/<word>/<voice>_nohash_<n>.wav` (spaces in the word become `_`), one folder per
/// negative word, and `synthesis.json` describing the run. The voice is the speaker of
/// TensorFlow's hash split, so a validation split holds voices training never heard.
package struct WordSynthesis: Sendable {
    package var word: String
    package var out: String
    package var positives = 1000
    package var negatives: Int?
    package var seed: UInt64 = 1
    package var engines: [SpeechEngine] = SpeechEngine.allCases
    package var dictionary = PronouncingDictionary.debianPath
    /// Sound-alike words drawn from (the nearest first).
    package var neighbourWords = 50
    /// Where in the clip a positive's word ends (fractions of the clip).
    package var positiveEnd: ClosedRange<Double> = 0.6...0.95
    package var sampleRate = 16000, clipSamples = 16000
    /// Share of clips given room reverberation and, independently, a random peaking EQ.
    package var reverbProbability = 0.5, eqProbability = 0.5

    package init(word: String, out: String) { (self.word, self.out) = (word, out) }

    package var folderName: String { word.lowercased().split(separator: " ").joined(separator: "_") }

    /// What a run did.
    package struct Summary {
        package var positives = 0, negatives = 0, failed = 0
        package var voices: [SpeechEngine: Int] = [:]
        package var skipped: [String] = []
        package var neighbours: [(word: String, distance: Int)] = []
        package var seconds = 0.0
    }

    private struct Job: Sendable {
        var text: String, folder: String, voice: SynthesisVoice, speed: Double, pitch: Double
        var positive: Bool, end: Double, level: Float, effectSeed: UInt64, index: Int
    }

    package func run(log: (String) -> Void) throws -> Summary {
        let t0 = monotonicSeconds()
        var summary = Summary()
        var voicesByEngine: [(SpeechEngine, [SynthesisVoice])] = []
        for engine in engines {
            let (voices, missing) = engine.voices()
            if let missing { summary.skipped.append(missing); log("skipping \(missing)"); continue }
            voicesByEngine.append((engine, voices))
            summary.voices[engine] = voices.count
        }
        guard !voicesByEngine.isEmpty else { throw ToolFailure("no speech synthesiser found: \(summary.skipped.joined(separator: "; "))") }
        let dict = try PronouncingDictionary(path: dictionary)
        let pronounced = dict.pronounce(word)
        var sayAlike: [String] = []
        if let phones = pronounced.phones {
            let own = Set(word.lowercased().split(separator: " ").map(String.init))
            summary.neighbours = Array(dict.neighbours(of: phones, maxDistance: 2, excluding: own).prefix(neighbourWords))
            sayAlike = summary.neighbours.map(\.word)
            log("\(word): /\(phones.joined(separator: " "))/; \(sayAlike.count) sound-alike words, e.g. \(sayAlike.prefix(8).joined(separator: ", "))")
        } else {
            log("\(word): \(pronounced.unknown.joined(separator: ", ")) not in \(dictionary): no sound-alike negatives, other words only")
        }
        let allWords = dict.phonemes.keys.filter { $0.count >= 3 && !$0.contains("'") }.sorted()

        var rng = RandomGenerator(seed: seed, stream: 0x5E7)
        // Engines get equal shares (espeak-ng's hundreds of dialect × variant voices would
        // otherwise drown the few of the others), then a voice at random within the engine.
        func voice() -> SynthesisVoice {
            let (_, voices) = voicesByEngine[rng.below(voicesByEngine.count)]
            return voices[rng.below(voices.count)]
        }
        var jobs: [Job] = []
        for i in 0..<positives {
            jobs.append(Job(text: word, folder: folderName, voice: voice(), speed: Double(rng.uniform(0.8, 1.25)), pitch: Double(rng.uniform(-1, 1)),
                            positive: true, end: Double(rng.uniform(Float(positiveEnd.lowerBound), Float(positiveEnd.upperBound))),
                            level: rng.uniform(0.2, 0.9), effectSeed: rng.next(), index: i))
        }
        let negativeCount = negatives ?? positives
        for i in 0..<negativeCount {
            let alike = !sayAlike.isEmpty && i % 2 == 0
            let text = alike ? sayAlike[rng.below(sayAlike.count)] : allWords[rng.below(allWords.count)]
            jobs.append(Job(text: text, folder: text, voice: voice(), speed: Double(rng.uniform(0.8, 1.25)), pitch: Double(rng.uniform(-1, 1)),
                            positive: false, end: Double(rng.uniform(0.5, 1.0)), level: rng.uniform(0.2, 0.9), effectSeed: rng.next(), index: i))
        }
        let scratch = out + "/.synthesis-scratch"
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let failures = Mutex<[String]>([]), done = Atomic<Int>(0)
        let settings = self, allJobs = jobs
        let total = jobs.count
        // 1. The raw speech: one task per utterance for the engines that start fast, one per
        //    voice for those that do not (festival, Piper), on all cores.
        var tasks: [(voice: SynthesisVoice, jobs: [Int])] = []
        var groups: [String: Int] = [:]
        for (k, job) in jobs.enumerated() {
            if job.voice.engine.batches, let g = groups[job.voice.id] { tasks[g].jobs.append(k); continue }
            if job.voice.engine.batches { groups[job.voice.id] = tasks.count }
            tasks.append((job.voice, [k]))
        }
        tasks.sort { $0.jobs.count > $1.jobs.count }   // the long batches first
        let allTasks = tasks, next = Atomic<Int>(0)
        @Sendable func raw(_ k: Int) -> String { "\(scratch)/\(k).wav" }
        DispatchQueue.concurrentPerform(iterations: workerCount) { _ in
            while true {
                let t = next.add(1, ordering: .relaxed).oldValue
                guard t < allTasks.count else { return }
                let task = allTasks[t]
                let utterances = task.jobs.map { Utterance(text: allJobs[$0].text, speed: allJobs[$0].speed, pitch: allJobs[$0].pitch, path: raw($0)) }
                do { try task.voice.engine.synthesize(utterances, voice: task.voice, scratch: scratch) } catch {
                    failures.withLock { $0.append("\(error)") }
                }
            }
        }
        // 2. Each utterance trimmed, augmented, placed in its clip and written, on all cores.
        DispatchQueue.concurrentPerform(iterations: workerCount) { worker in
            for k in stride(from: worker, to: total, by: workerCount) where FileManager.default.fileExists(atPath: raw(k)) {
                do { try settings.finish(allJobs[k], raw: raw(k)) } catch {
                    failures.withLock { $0.append("\(error)") }
                }
                let n = done.add(1, ordering: .relaxed).newValue
                if n % 500 == 0 { writeStandardError("  \(n)/\(total) clips\n") }
            }
        }
        let failed = failures.withLock { $0 }
        summary.failed = failed.count
        for f in failed.prefix(3) { log("failed: \(f)") }
        guard failed.count * 10 <= total else { throw ToolFailure("\(failed.count) of \(total) clips could not be synthesised; first: \(failed.first ?? "")") }
        let written = { (folder: String) in ((try? FileManager.default.contentsOfDirectory(atPath: "\(out)/\(folder)")) ?? []).filter { $0.hasSuffix(".wav") }.count }
        summary.positives = written(folderName)
        summary.negatives = Set(jobs.filter { !$0.positive }.map(\.folder)).reduce(0) { $0 + written($1) }
        summary.seconds = monotonicSeconds() - t0
        try writeManifest(summary, phones: pronounced.phones)
        return summary
    }

    private func finish(_ job: Job, raw: String) throws {
        let clip = try readAudio(path: raw)
        var x = clip.sampleRate == sampleRate ? clip.samples : try resample(clip.samples, from: clip.sampleRate, to: sampleRate)
        let span = soundSpan(x, rate: sampleRate)
        guard span.count > sampleRate / 50 else { throw ToolFailure("\(job.voice.id) said nothing audible for \"\(job.text)\"") }
        let margin = sampleRate / 50
        x = Array(x[max(0, span.lowerBound - margin)..<min(x.count, span.upperBound + margin)])
        var rng = RandomGenerator(seed: job.effectSeed)
        if Double(rng.uniformFloat()) < eqProbability {
            let f = 150 * pow(5000 / 150, Double(rng.uniformFloat()))
            x = peakingEQ(x, rate: sampleRate, frequency: f, gainDB: Double(rng.uniform(-8, 8)), q: Double(rng.uniform(0.7, 2)))
        }
        let wordLength = x.count
        if Double(rng.uniformFloat()) < reverbProbability {
            x = reverberate(x, rate: sampleRate, rt60: Double(rng.uniform(0.2, 0.8)), wet: rng.uniform(0.2, 0.7), rng: &rng)
        }
        // The word (not its reverberant tail) ends at `end`; the tail runs on, cut at the clip's end.
        let end = Int(job.end * Double(clipSamples))
        var window = place(x, startingAt: end - wordLength, length: clipSamples)
        let peak = window.reduce(Float(0)) { max($0, abs($1)) }
        if peak > 0 { for i in window.indices { window[i] *= job.level / peak } }
        let folder = "\(out)/\(job.folder)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try writeWAV(path: "\(folder)/\(job.voice.id)_nohash_\(job.positive ? "p" : "n")\(job.index).wav", samples: window, sampleRate: sampleRate)
    }

    private func writeManifest(_ s: Summary, phones: [String]?) throws {
        let object: [String: Any] = [
            "word": word, "folder": folderName, "phonemes": phones.map { $0.joined(separator: " ") } ?? NSNull(),
            "positives": s.positives, "negatives": s.negatives, "failed": s.failed, "seed": seed,
            "voices": Dictionary(uniqueKeysWithValues: s.voices.map { ($0.key.rawValue, $0.value) }), "skipped": s.skipped,
            "sound_alike": s.neighbours.map { ["word": $0.word, "distance": $0.distance] },
            "positive_end": [positiveEnd.lowerBound, positiveEnd.upperBound], "reverb_probability": reverbProbability, "eq_probability": eqProbability,
            "sample_rate": sampleRate, "clip_samples": clipSamples, "seconds": s.seconds,
            "licences": ["espeak-ng": "GPL-3.0 program; its speech output is not covered", "flite": "BSD-like (CMU)", "festival": "X11-like; voices per festvox package",
                         "piper": "piper-tts MIT; en_US-joe-medium voice CC0 (its MODEL_CARD)", "cmudict": "BSD-2-Clause (festlex-cmu)"],
        ]
        let data = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
        try data.write(to: URL(fileURLWithPath: out + "/synthesis.json"), options: .atomic)
    }
}
