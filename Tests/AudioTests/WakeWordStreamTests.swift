import Audio
import Foundation
import XCTest

/// `WakeWordStreamMixer`: Picovoice's layout and levels, exactly, on signals whose every sample
/// can be predicted; the noise range; the same bytes from the same seed.
final class WakeWordStreamTests: XCTestCase {
    /// Keyword recordings: 0.5 s at a constant 0.5; speech ("bed"): 0.25 s at −0.5; noise: 8 s
    /// at 0.25, then 2 s alternating ±0.5 (the part `0.8:1` keeps).
    func makeSources(_ dir: String) throws -> WakeWordStreamSources {
        let fm = FileManager.default
        for folder in ["hey", "speech/bed", "noise"] { try fm.createDirectory(atPath: "\(dir)/\(folder)", withIntermediateDirectories: true) }
        for k in 0..<2 { try writeWAV(path: "\(dir)/hey/\(k).wav", samples: [Float](repeating: 0.5, count: 8000), sampleRate: 16000) }
        for k in 0..<3 { try writeWAV(path: "\(dir)/speech/bed/\(k).wav", samples: [Float](repeating: -0.5, count: 4000), sampleRate: 16000) }
        let noise = [Float](repeating: 0.25, count: 128_000) + (0..<32_000).map { $0 % 2 == 0 ? 0.5 : -0.5 }
        try writeWAV(path: "\(dir)/noise/n.wav", samples: noise, sampleRate: 16000)
        return try WakeWordStreamSources.scan(keywordFolders: [dir + "/hey"], speechFolder: dir + "/speech", noiseFolder: dir + "/noise",
                                              noiseRange: try NoiseRange(parsing: "0.8:1"))
    }

    func testPartsFollowPicovoicesLayoutAndLevels() throws {
        let dir = NSTemporaryDirectory() + "wws-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let sources = try makeSources(dir)
        XCTAssertEqual(sources.keywords.map(\.label), ["hey", "hey"])
        XCTAssertEqual(sources.speech.map(\.label), ["bed", "bed", "bed"])
        XCTAssertEqual(sources.noise[0].samples.count, 32_000, "the last fifth of the recording")
        var settings = WakeWordStreamSettings()
        (settings.hours, settings.snrDB, settings.speechProbability, settings.seed) = (12.0 / 3600, 10, 0.5, 3)
        var mixer = try WakeWordStreamMixer(sources: sources, settings: settings)
        let scale = Float(10.0.squareRoot())   // equal peak-frame energies of clip and noise, 10 dB apart
        var keywordStarts: [Int] = [], position = 0, backgroundRun = 0, runs: [Int] = [], speechParts = 0
        while let part = try mixer.next() {
            let offset: Float
            switch part.event?.label {
            case "hey": offset = scale; keywordStarts.append(position); runs.append(backgroundRun); backgroundRun = 0
            case "bed": offset = -scale; speechParts += 1; backgroundRun += part.samples.count
            default: offset = 0; backgroundRun += part.samples.count
            }
            if let e = part.event { XCTAssertEqual(e.start, position); XCTAssertEqual(e.end, position + part.samples.count) }
            for (i, x) in part.samples.enumerated() {
                // The noise alternates ±1 (peak-normalised) without a break across parts.
                let noise: Float = (position + i) % 2 == 0 ? 1 : -1
                if abs(x - (noise + offset)) > 1e-5 { XCTFail("sample \(position + i): \(x), expected \(noise + offset)"); return }
            }
            position += part.samples.count
        }
        runs.append(backgroundRun)
        // 12 s without keywords in 3 backgrounds of at least 4 s (64,000 samples) each, made of 0.25 s clips.
        XCTAssertEqual(keywordStarts.count, 2)
        XCTAssertEqual(runs, [64_000, 64_000, 64_000])
        XCTAssertGreaterThan(speechParts, 10)
        XCTAssertLessThan(speechParts, 38, "about half of the 48 drawn clips are kept")
        XCTAssertEqual(position, 3 * 64_000 + 2 * 8000)
    }

    func testRenderIsPeakNormalisedAndReproducible() throws {
        let dir = NSTemporaryDirectory() + "wwr-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let sources = try makeSources(dir)
        var settings = WakeWordStreamSettings()
        (settings.hours, settings.speechProbability, settings.keywordCount) = (6.0 / 3600, 0.3, 5)
        func render(seed: UInt64) throws -> ([Float], [StreamEvent], Int) {
            settings.seed = seed
            var samples: [Float] = [], truthAtStart: [StreamEvent] = []
            let made = try WakeWordStreamMixer.render(sources: sources, settings: settings, truthReady: { events, _ in
                XCTAssertTrue(samples.isEmpty, "the truth is complete before the first sample")
                truthAtStart = events
            }) { samples += $0 }
            XCTAssertEqual(made.events, truthAtStart)
            return (samples, made.events, made.samples)
        }
        let (a, eventsA, countA) = try render(seed: 1)
        XCTAssertEqual(a.count, countA)
        XCTAssertEqual(a.map(abs).max()!, 1, accuracy: 1e-6, "divided by its peak")
        XCTAssertEqual(eventsA.filter { $0.label == "hey" }.count, 5, "--keyword-count 5 from 2 recordings: random orders one after another")
        let (b, eventsB, _) = try render(seed: 1)
        XCTAssertEqual(a, b)
        XCTAssertEqual(eventsA, eventsB)
        XCTAssertNotEqual(try render(seed: 2).0, a)
        XCTAssertEqual(labelsCSV(Array(eventsA.prefix(1)), sampleRate: 16000).split(separator: "\n").first, "label,start_ms,end_ms,clip")
    }

    func testNoiseRangesAreCheckedAndCut() throws {
        XCTAssertEqual(try NoiseRange(parsing: "0:0.8").cut(Array(0..<10).map(Float.init)), [0, 1, 2, 3, 4, 5, 6, 7])
        XCTAssertEqual(try NoiseRange(parsing: "0.8:1").cut(Array(0..<10).map(Float.init)), [8, 9])
        XCTAssertEqual(try NoiseRange(parsing: "0.8:1").description, "0.8:1")
        for bad in ["1:0.8", "0.5", "a:b", "-0.1:0.5", "0.2:1.5", "0.3:0.3"] {
            XCTAssertThrowsError(try NoiseRange(parsing: bad), bad) { error in
                XCTAssertTrue("\(error)".contains("noise range"), "\(error)")
            }
        }
        XCTAssertThrowsError(try WakeWordStreamSources.scan(keywordFolders: ["/nonexistent/hey"], speechFolder: "/tmp", noiseFolder: "/tmp")) { error in
            XCTAssertTrue("\(error)".contains("/nonexistent/hey: no such directory (keyword recordings)"), "\(error)")
        }
    }
}

/// Training's side of the noise split: `SpeechCommandsOptions.noiseRange` cuts every background
/// recording, and older checkpoints' options (without it) read as the whole recording.
final class TrainingNoiseRangeTests: XCTestCase {
    func testTrainingTakesOnlyItsPartOfTheNoise() throws {
        let root = NSTemporaryDirectory() + "nr-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: root) }
        for folder in ["yes", "_background_noise_"] { try FileManager.default.createDirectory(atPath: "\(root)/\(folder)", withIntermediateDirectories: true) }
        for k in 0..<3 { try writeWAV(path: "\(root)/yes/\(k)_nohash_0.wav", samples: [Float](repeating: 0.1, count: 16000), sampleRate: 16000) }
        try writeWAV(path: "\(root)/_background_noise_/n.wav", samples: (0..<160_000).map { Float($0 % 100) / 200 }, sampleRate: 16000)
        var options = SpeechCommandsOptions()
        options.noiseRange = try NoiseRange(parsing: "0:0.8")
        let dataset = try SpeechCommands(root: root, options: options)
        XCTAssertEqual(dataset.noiseRecordings.map(\.count), [128_000])
        XCTAssertTrue(dataset.summary.contains("part 0:0.8 of each recording"), dataset.summary)
        let decoded = try JSONDecoder().decode(SpeechCommandsOptions.self, from: JSONEncoder().encode(options))
        XCTAssertEqual(decoded.noiseRange, options.noiseRange)
        var old = try JSONSerialization.jsonObject(with: JSONEncoder().encode(SpeechCommandsOptions())) as! [String: Any]
        old["noiseRange"] = nil
        XCTAssertEqual(try JSONDecoder().decode(SpeechCommandsOptions.self, from: JSONSerialization.data(withJSONObject: old)).noiseRange, .whole)
    }
}
