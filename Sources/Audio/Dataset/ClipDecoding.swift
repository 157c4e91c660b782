// Decoding a split's clips on all cores, and the clean samples of one example (generated
// silence included).

import Foundation
import Runtime
import Synchronization

extension SpeechCommands {

    /// Decodes clips (resampled, padded/cut) on all cores; errors name the file.
    static func decode(_ examples: [SpeechExample], options: SpeechCommandsOptions) throws -> [[Float]] {
        var clips = [[Float]](repeating: [], count: examples.count)
        let failures = Mutex<[(Int, String)]>([])
        clips.withUnsafeMutableBufferPointer { buffer in
            let out = SendablePointer(buffer.baseAddress!)
            forEachBlock(examples.count) { i in
                guard let path = examples[i].path else { return }
                do {
                    out.pointer[i] = try loadClip(path: path, sampleRate: options.sampleRate, length: options.clipSamples)
                } catch {
                    let text = "\(error)"
                    failures.withLock { $0.append((i, text)) }
                }
            }
        }
        try throwFailures(failures.withLock { $0 })
        return clips
    }

    static func throwFailures(_ failures: [(Int, String)]) throws {
        guard !failures.isEmpty else { return }
        let sorted = failures.sorted { $0.0 < $1.0 }.map(\.1)
        if sorted.count == 1 { throw SpeechCommandsError(sorted[0]) }
        throw SpeechCommandsError("\(sorted.count) audio files could not be read:\n  " + sorted.prefix(10).joined(separator: "\n  ")
                                  + (sorted.count > 10 ? "\n  …" : ""))
    }

    /// Runs `body(i)` for i in 0..<count on all cores, in blocks of 16 handed out dynamically
    /// (file reading makes the cost per item uneven).
    static func forEachBlock(_ count: Int, _ body: @Sendable (Int) -> Void) {
        let block = 16, blocks = (count + block - 1) / block
        guard blocks > 1 else { for i in 0..<count { body(i) }; return }
        DispatchQueue.concurrentPerform(iterations: blocks) { b in
            for i in (b * block)..<min(count, (b + 1) * block) { body(i) }
        }
    }

    /// The un-augmented samples of example `index` of `split` (`clipSamples` long): the file,
    /// resampled and padded/cut; for generated silence, a noise excerpt at a volume drawn from
    /// U(0, 1), both fixed per example by the seed (TF draws them anew at every evaluation; fixing
    /// them makes evaluation repeatable), or zeros when there is no noise.
    public func cleanSamples(_ split: DatasetSplit, index: Int) throws -> [Float] {
        let example = examples(split)[index]
        if let path = example.path {
            do { return try loadClip(path: path, sampleRate: options.sampleRate, length: options.clipSamples) } catch {
                throw SpeechCommandsError("\(error)")
            }
        }
        var rng = fixedSilenceGenerator(split, index: index)
        var out = [Float](repeating: 0, count: options.clipSamples)
        addNoise(into: &out, volume: rng.uniform(0, 1), rng: &rng)
        return out
    }

    func fixedSilenceGenerator(_ split: DatasetSplit, index: Int) -> RandomGenerator {
        let splitIndex = UInt64(DatasetSplit.allCases.firstIndex(of: split)!)
        return RandomGenerator(seed: options.seed ^ 0x5115_E0CE, stream: splitIndex << 40 | UInt64(index))
    }

    /// Decodes every clip of a split (resampled, padded/cut, generated silence included) on all
    /// cores: keep the result to re-augment every epoch without reading the files again
    /// (4 bytes × clipSamples per clip: 64 KB per 1 s clip, 211 MB for speech_commands_dev).
    /// If several files are unreadable the error lists them (first ten).
    /// `clips`: only these examples of the split (an MPI rank's share), in order.
    public func loadAudio(_ split: DatasetSplit, clips: Range<Int>? = nil) throws -> [[Float]] {
        let all = examples(split)
        let range = clips ?? all.indices
        let chosen = Array(all[range])
        var audio = try Self.decode(chosen, options: options)
        for (j, example) in chosen.enumerated() where example.isGeneratedSilence {
            audio[j] = try cleanSamples(split, index: range.lowerBound + j)
        }
        return audio
    }
}
