import ArgumentParser
import Foundation
import KeywordSpotting
import TaskSupport
import ToolSupport

extension KWS {
    struct Synthesize: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write training clips for any word from text: every offline voice, sound-alike negatives, augmented.",
            discussion: """
                Speaks --word with every offline synthesiser this machine has — espeak-ng (its
                English dialects × voice variants), flite's voices, festival's (text2wave) and
                Piper's (python3 -m piper, with any voice model found) — at spread speeds and
                pitches, each engine an equal share; a missing engine is skipped with one line.
                Negatives: words that sound alike (neighbours of the word in the CMU
                Pronouncing Dictionary, 1–2 phonemes away) and other dictionary words. Every
                clip is trimmed, given room reverberation and a random EQ at --reverb and --eq
                probability, and placed in a 1 s clip (a positive ends in the clip's last part).

                Writes a Speech Commands folder (OUT/<word>/, one folder per negative word,
                each file named <voice>_nohash_<n>.wav so that TensorFlow's hash split keeps
                voices apart) and OUT/synthesis.json. Train on it with kws train --keywords.

                Examples:
                  kws synthesize --word jarvis --out synth/jarvis
                  kws synthesize --word "hey lem" --count 3000 --engines espeak-ng,flite \\
                      --out synth/hey_lem
                  kws train --data synth/jarvis --keywords jarvis --checkpoint jarvis.ckpt
                """)

        @Option(help: "The word or phrase.") var word: String
        @Option(help: ArgumentHelp("The folder to write.", valueName: "dir")) var out: String
        @Option(help: "Positive clips.") var count: Int = 1000
        @Option(help: "Negative clips (default: as many as positives; half sound-alike words).") var negatives: Int?
        @Option(help: "Engines to use, comma-separated (default: all of espeak-ng, flite, festival, piper).") var engines: String?
        @Option(name: .customLong("sound-alike"), help: "Sound-alike words to draw negatives from (nearest first).") var soundAlike: Int = 50
        @Option(help: "Share of clips with room reverberation.") var reverb: Double = 0.5
        @Option(help: "Share of clips with a random peaking EQ.") var eq: Double = 0.5
        @Option(help: ArgumentHelp("CMU Pronouncing Dictionary (Festival's or the plain format).", valueName: "file")) var dictionary: String = "/usr/share/festival/dicts/cmu/cmudict-0.4.out"
        @Option(help: "Random seed (voices, speeds, pitches, effects).") var seed: UInt64 = 1

        var engineList: [SpeechEngine]? {
            engines.map { $0.split(separator: ",").compactMap { SpeechEngine(rawValue: $0.trimmingCharacters(in: .whitespaces)) } }
        }

        mutating func validate() throws {
            if word.trimmingCharacters(in: .whitespaces).isEmpty || word.contains("/") || word.contains(",") || word.hasPrefix("_") {
                throw ValidationError("--word: a word or phrase without /, commas or a leading _")
            }
            if count < 1 || count > 1_000_000 { throw ValidationError("--count must be from 1 to 1000000") }
            if let negatives, negatives < 0 || negatives > 1_000_000 { throw ValidationError("--negatives must be from 0 to 1000000") }
            if let engines, engineList?.count != engines.split(separator: ",").count || engineList!.isEmpty {
                throw ValidationError("--engines: comma-separated names from \(SpeechEngine.allCases.map(\.rawValue).joined(separator: ", ")) (got \(engines))")
            }
            if !(0...1).contains(reverb) || !(0...1).contains(eq) { throw ValidationError("--reverb and --eq are probabilities in [0, 1]") }
            if soundAlike < 0 { throw ValidationError("--sound-alike must not be negative") }
        }

        func run() throws {
            try reportingErrors {
                var synthesis = WordSynthesis(word: word.trimmingCharacters(in: .whitespaces), out: out)
                (synthesis.positives, synthesis.negatives, synthesis.seed, synthesis.neighbourWords) = (count, negatives, seed, soundAlike)
                (synthesis.reverbProbability, synthesis.eqProbability, synthesis.dictionary) = (reverb, eq, dictionary)
                if let engineList { synthesis.engines = engineList }
                let s = try synthesis.run { print($0) }
                let voices = s.voices.sorted { $0.key.rawValue < $1.key.rawValue }.map { "\($0.key.rawValue) \($0.value)" }.joined(separator: ", ")
                print(String(format: "%@: %d positives (%@/) and %d negatives from voices: %@; %d failed; %.0f s; %@/synthesis.json",
                             out, s.positives, synthesis.folderName, s.negatives, voices, s.failed, s.seconds, out))
            }
        }
    }
}
