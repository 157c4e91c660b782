// `kws train --wake-word WORD`: the whole recipe of docs/WAKEWORDS.md as one call.

import Audio
import Foundation
import LEMModel
import TaskSupport

/// A wake word from text, as a user wants it: synthesise the word and its sound-alikes
/// (`WordSynthesis`, into `<checkpoint>.synth/`, reused when it already holds the same request),
/// train on them with a folder of real speech as `_unknown_` (`training`, whose data is set
/// here), make a validation stream of held-out synthetic voices over the speech folder's
/// validation speakers and training's noise (`<checkpoint>.valid.wav`), and choose the decision
/// layer on it for `targetFAPerHour`, saved in the checkpoint for `kws listen`. Never reads a
/// test split.
package struct WakeWordRecipe {
    package var synthesis: WordSynthesis
    package var training: KeywordSpotterTraining
    /// A Speech Commands folder: its words are the other speech, its `_background_noise_` the noise.
    package var speech: String
    package var validationHours = 1.0
    package var targetFAPerHour = 0.5
    package var averageMs = 300.0, cooldownMs = 1000.0

    package init(synthesis: WordSynthesis, training: KeywordSpotterTraining, speech: String) {
        (self.synthesis, self.training, self.speech) = (synthesis, training, speech)
    }

    package func run(progress: ProgressSink, log: (String) -> Void) throws {
        let folder = synthesis.out + "/" + synthesis.folderName
        if let manifest = try? JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: synthesis.out + "/synthesis.json"))) as? [String: Any],
           manifest["word"] as? String == synthesis.word, manifest["seed"] as? UInt64 == synthesis.seed,
           (manifest["positives"] as? Int ?? 0) >= synthesis.positives * 9 / 10 {
            log("using the clips already synthesised in \(synthesis.out) (synthesis.json: \(manifest["positives"]!) positives)")
        } else {
            log("synthesising \"\(synthesis.word)\" into \(synthesis.out)")
            let s = try synthesis.run(log: log)
            log("\(s.positives) positives and \(s.negatives) negatives in \(Int(s.seconds)) s")
        }
        var training = training
        (training.data, training.moreData) = (synthesis.out, [speech])
        try training.run(progress: progress)

        // The decision layer, on a validation stream.
        let noise = speech + "/_background_noise_"
        guard FileManager.default.fileExists(atPath: noise) else {
            log("no \(noise): no validation stream, so no decision layer (kws listen uses its defaults)")
            return
        }
        let hasLists = FileManager.default.fileExists(atPath: speech + "/validation_list.txt") && FileManager.default.fileExists(atPath: speech + "/testing_list.txt")
        let sources = try WakeWordStreamSources.scan(keywordFolders: [folder], speechFolder: speech, speechSplit: hasLists ? .validation : nil,
                                                     noiseFolder: noise, noiseRange: try NoiseRange(parsing: "0:0.8"), skipUnreadable: true,
                                                     keywordSplit: .validation)
        var settings = WakeWordStreamSettings()
        (settings.hours, settings.seed) = (validationHours, synthesis.seed &+ 1)
        let stream = training.checkpoint + ".valid.wav"
        let writer = try AudioFileWriter(path: stream, sampleRate: sources.sampleRate)
        let made = try WakeWordStreamMixer.render(sources: sources, settings: settings, truthReady: { events, _ in
            try labelsCSV(events, sampleRate: sources.sampleRate).write(toFile: training.checkpoint + ".valid.csv", atomically: true, encoding: .utf8)
        }) { try writer.write($0) }
        try writer.finish()
        log(String(format: "validation stream %@: %.2f h, %d held-out synthetic keywords, speech of %@'s %@", stream, Double(made.samples) / 16000 / 3600,
                   made.events.filter { $0.label == synthesis.folderName }.count, speech, hasLists ? "validation speakers" : "folder (no list files)"))
        var evaluation = StreamEvaluation(checkpoint: training.checkpoint, stream: stream)
        (evaluation.labels, evaluation.sweep, evaluation.scoring, evaluation.cooldownMs, evaluation.averageMs) =
            (training.checkpoint + ".valid.csv", true, .picovoice, cooldownMs, averageMs)
        (evaluation.targetFAPerHour, evaluation.saveDecision, evaluation.det) = (targetFAPerHour, true, training.checkpoint + ".valid.det")
        do {
            for line in try evaluation.run().lines { log(line) }
        } catch {
            log("no decision layer saved: \(error)")
        }
    }
}
