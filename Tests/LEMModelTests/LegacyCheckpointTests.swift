import Foundation
import XCTest
@testable import LEMModel
@testable import Runtime

/// Checkpoints written by an earlier build (`lm train` and `kws train` of 2026-11-21, kept in
/// Fixtures/legacy/) must keep loading bit for bit, whatever the reader's implementation becomes.
/// The expected digests were recorded with that build's reader (its hand-written JSON parser and
/// CRC table): FNV-1a (64-bit) over each tensor's float bit patterns as loaded into the model.
final class LegacyCheckpointTests: XCTestCase {
    static let legacy = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/legacy")

    /// FNV-1a over the little-endian bit patterns of `count` floats (independent of the CRC under test).
    func digest(_ values: UnsafePointer<Float>, _ count: Int) -> UInt64 {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for i in 0..<count {
            var bits = values[i].bitPattern.littleEndian
            for _ in 0..<4 {
                hash = (hash ^ UInt64(bits & 0xFF)) &* 0x0000_0100_0000_01B3
                bits >>= 8
            }
        }
        return hash
    }

    func assertDigests(_ block: ParameterBlock, _ storage: UnsafeMutablePointer<Float>, _ expected: [String: UInt64],
                       _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(Set(block.specs.map(\.name)), Set(expected.keys), what, file: file, line: line)
        for spec in block.specs {
            let observed = digest(storage + spec.offset, spec.count)
            XCTAssertEqual(observed, expected[spec.name], "\(what) \(spec.name): expected 0x\(String(expected[spec.name] ?? 0, radix: 16)), "
                           + "observed 0x\(String(observed, radix: 16))", file: file, line: line)
        }
    }

    func testLanguageModelResumeCheckpointLoadsBitExactly() throws {
        let path = Self.legacy.appendingPathComponent("lm-2026-11-21.ckpt.resume").path
        let checkpoint = try Checkpoint.read(path: path, expectedKind: "lm")
        let model = try checkpoint.languageModel()
        var config = LanguageModelConfig(vocabularySize: 4, embeddingSize: 4, hiddenSize: 4, tied: true, dt: 1)
        (config.inputDropout, config.outputDropout, config.stateDropout) = (0.4, 0.4, 0)
        XCTAssertEqual(model.config, config)
        assertDigests(model.parameters, model.parameters.values, [
            "decoder.bias": 0x8BB9ECF49F8D4B28, "embedding.weight": 0x5EB42DB33D60ACF9, "lem.hid2hid.bias": 0x888093E7B0A9CFF1,
            "lem.hid2hid.weight": 0x7FF5026408EBB22C, "lem.inp2hid.bias": 0x313EFE4896F52891, "lem.inp2hid.weight": 0x25031AA52979A55A,
            "lem.transform_z.bias": 0x76E0151501A5D628, "lem.transform_z.weight": 0xA4429959F256EA39,
        ], "parameters")

        let training = try XCTUnwrap(checkpoint.trainingProgress())
        XCTAssertEqual(training.optimizerSteps, 2)
        XCTAssertEqual(training.batchInEpoch, 2)
        XCTAssertEqual(training.optimizer.kind, .adam)
        XCTAssertEqual(training.clip, 1)
        XCTAssertEqual(training.rng?.stateWords, [12872477755327254555, 11088021529595542130, 7556980939685834575, 18116131456944743157])
        let optimizer = Optimizer(settings: training.optimizer, parameterCount: model.parameters.count)
        try checkpoint.loadOptimizerState(into: optimizer, layout: model.parameters)
        assertDigests(model.parameters, optimizer.firstMoment.pointer, [
            "decoder.bias": 0xE58605A4B61F7F8E, "embedding.weight": 0xF3DFBD162DF587D8, "lem.hid2hid.bias": 0x5C7A3E9393A658A8,
            "lem.hid2hid.weight": 0xABEE7A3F4381D09B, "lem.inp2hid.bias": 0x436502DF46E05B74, "lem.inp2hid.weight": 0xC6DAABA27C34875C,
            "lem.transform_z.bias": 0xA40808F8D160CA11, "lem.transform_z.weight": 0xD52E94EAD00512A0,
        ], "Adam m")
        assertDigests(model.parameters, optimizer.secondMoment.pointer, [
            "decoder.bias": 0x88D27C06F081A23D, "embedding.weight": 0x7D0C83409F8D993A, "lem.hid2hid.bias": 0x955856B90E7D0511,
            "lem.hid2hid.weight": 0x5E3B94FD44E984C7, "lem.inp2hid.bias": 0x2AD6FA2629F9434, "lem.inp2hid.weight": 0x988A3C5393153D8C,
            "lem.transform_z.bias": 0x88FCBD1C0E418C60, "lem.transform_z.weight": 0x9931E9DA7635B206,
        ], "Adam v")
        let y = try XCTUnwrap(checkpoint.extra("state.y"))
        XCTAssertEqual(digest(y, y.count), 9663456627922726210, "carried state y")
    }

    func testKeywordCheckpointLoadsBitExactly() throws {
        let path = Self.legacy.appendingPathComponent("kws-2026-11-21.ckpt").path
        let checkpoint = try Checkpoint.read(path: path, expectedKind: "kws")
        let model = try checkpoint.sequenceClassifier()
        var config = SequenceClassifierConfig(inputSize: 40, hiddenSize: 4, classCount: 12, dt: 1)
        config.inputDropout = 0.03
        XCTAssertEqual(model.config, config)
        assertDigests(model.parameters, model.parameters.values, [
            "classifier.bias": 0x6256C55D6DE594E5, "classifier.weight": 0x6A3D3032232DFD71, "lem.hid2hid.bias": 0xB26EDEBF640E2DF6,
            "lem.hid2hid.weight": 0xEBC370BCC952D807, "lem.inp2hid.bias": 0xBB2E67625FDFE505, "lem.inp2hid.weight": 0x1586A4DE931A0117,
            "lem.transform_z.bias": 0x3D8D9D885DCAC645, "lem.transform_z.weight": 0xB8C117C4B693022E,
        ], "parameters")
        XCTAssertTrue(checkpoint.toolJSON.contains("\"sampleRate\":16000"), checkpoint.toolJSON)
    }

    /// The writer spells the same content exactly as the old one did (header text, layout, checksum).
    func testRewritingGivesTheSameBytes() throws {
        for name in ["lm-2026-11-21.ckpt.resume", "kws-2026-11-21.ckpt"] {
            let path = Self.legacy.appendingPathComponent(name).path
            let original = try XCTUnwrap(FileManager.default.contents(atPath: path))
            let file = try SafeTensorsFile.read(path: path)
            XCTAssertTrue(file.hasVerifiedChecksum, name)
            XCTAssertEqual(file.serialized(), Array(original), name)
        }
    }
}
