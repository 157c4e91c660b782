import Foundation
import XCTest
@testable import Audio

/// TensorFlow speech_commands' `which_set` for folders without list files. The expected
/// percentages were computed independently with Python's hashlib and the formula of TF's
/// `input_data.py` (`(int(sha1(hash_name).hexdigest(), 16) % (MAX_NUM_WAVS_PER_CLASS + 1)) *
/// (100.0 / MAX_NUM_WAVS_PER_CLASS)`, MAX_NUM_WAVS_PER_CLASS = 2**27 - 1).
final class HashSplitTests: XCTestCase {
    func testPercentagesAndSplitsMatchTensorFlow() {
        let cases: [(String, Double, DatasetSplit)] = [
            ("yes/00001000_nohash_0.wav", 98.62273334430704, .training),
            ("no/0a7c2a8d_nohash_0.wav", 56.836387193474074, .training),
            ("up/e0c782d5_nohash_0.wav", 18.348225342841634, .testing),
            ("down/37dca74f_nohash_0.wav", 19.533022638656366, .testing),
            ("yes/5eb561a4_nohash_3.wav", 7.197115623929467, .validation),
            ("go/8a7d43b5_nohash_0.wav", 8.902012623116468, .validation),
            ("bed/03e0a813_nohash_1.wav", 4.302138122187094, .validation),
            ("cat/no_hash_marker.wav", 87.53326004395828, .training),   // no "_nohash_": the whole name is hashed
        ]
        for (path, percentage, split) in cases {
            let got = speechCommandsHashPercentage(path: path)
            print("which_set(\(path)): expected \(percentage), observed \(got)")
            XCTAssertEqual(got, percentage, accuracy: 1e-9, path)
            XCTAssertEqual(speechCommandsSplit(path: path, validationPercentage: 10, testingPercentage: 10), split, path)
        }
        // One speaker, one split: the clip number after _nohash_ does not matter.
        XCTAssertEqual(speechCommandsHashPercentage(path: "left/5eb561a4_nohash_0.wav"), speechCommandsHashPercentage(path: "yes/5eb561a4_nohash_9.wav"))
    }

    func testAFolderWithoutListFilesIsSplitByTheHash() throws {
        let dir = TemporaryDirectory()
        let speakers = ["00001000", "0a7c2a8d", "e0c782d5", "37dca74f", "5eb561a4", "8a7d43b5", "03e0a813"]
        for word in ["yes", "no"] {
            try FileManager.default.createDirectory(atPath: dir.file(word), withIntermediateDirectories: true)
            for speaker in speakers {
                try writeWAV(path: dir.file("\(word)/\(speaker)_nohash_0.wav"), samples: sine(frequency: 440, sampleRate: 16000, count: 1600),
                             sampleRate: 16000)
            }
        }
        let data = try SpeechCommands(root: dir.path, options: SpeechCommandsOptions(silencePercentage: 0, unknownPercentage: nil))
        XCTAssertTrue(data.splitByHash)
        XCTAssertTrue(data.summary.contains("which_set"), data.summary)
        func speakersIn(_ split: DatasetSplit) -> Set<String> {
            Set(data.examples(split).compactMap { $0.relativePath?.split(separator: "/").last.map { String($0.prefix(8)) } })
        }
        XCTAssertEqual(speakersIn(.validation), ["5eb561a4", "8a7d43b5", "03e0a813"])
        XCTAssertEqual(speakersIn(.testing), ["e0c782d5", "37dca74f"])
        XCTAssertEqual(speakersIn(.training), ["00001000", "0a7c2a8d"])
        XCTAssertEqual(data.examples(.validation).count, 6, "both words of each validation speaker")
    }
}
