import Foundation
import XCTest
@testable import LEMModel
@testable import Runtime

final class CheckpointTests: XCTestCase {
    struct Tool: Codable, Equatable { var vocabulary: [String] }

    func makeModel(seed: UInt64) -> LanguageModel {
        let model = LanguageModel(config: LanguageModelConfig(vocabularySize: 7, embeddingSize: 4, hiddenSize: 4, tied: true))
        var rng = RandomGenerator(seed: seed)
        model.initialize(&rng)
        return model
    }

    func writeResumable(_ dir: String) throws -> (String, LanguageModel, Optimizer) {
        let model = makeModel(seed: 1)
        let adam = Optimizer(settings: OptimizerSettings(kind: .adam), parameterCount: model.parameters.count)
        for i in 0..<model.parameters.count { model.parameters.grads[i] = Float(i % 7) * 0.01 }
        adam.step(model.parameters, learningRate: 0.1)
        let progress = TrainingProgress(completedEpochs: 2, batchInEpoch: 5, optimizerSteps: 1, optimizer: adam.settings,
                                        scheduler: LearningRateScheduler(schedule: .plateau(factor: 0.25, patience: 0, threshold: 0, minimum: 0), initialRate: 0.1),
                                        seed: 42, rng: RandomGenerator(seed: .max), bestMetric: 123.5, bestEpoch: 2,
                                        elapsedSeconds: 12.5, clip: 0.25, epochs: 8)
        let checkpoint = Checkpoint(kind: "lm", model: model.config, tool: Tool(vocabulary: ["a", "b", "<eos>"]),
                                    parameters: model.parameters, optimizer: adam, training: progress,
                                    extra: ["state.y": ([2, 3], [1, 2, 3, 4, 5, 6])])
        let path = dir + "/model.ckpt"
        try checkpoint.write(to: path)
        return (path, model, adam)
    }

    func testRoundTripIsBitExact() throws {
        let dir = temporaryDirectory()
        let (path, model, adam) = try writeResumable(dir)
        let read = try Checkpoint.read(path: path, expectedKind: "lm")
        XCTAssertEqual(try read.model(LanguageModelConfig.self), model.config)
        XCTAssertEqual(try read.tool(Tool.self), Tool(vocabulary: ["a", "b", "<eos>"]))
        XCTAssertEqual(try read.trainingProgress()?.rng, RandomGenerator(seed: .max), "64-bit RNG state survives JSON")
        XCTAssertEqual(try read.trainingProgress()?.bestMetric, 123.5)
        XCTAssertEqual(try read.extra("state.y"), [1, 2, 3, 4, 5, 6])
        let copy = makeModel(seed: 2)
        try read.loadParameters(into: copy.parameters)
        // Tensor by tensor (the block's alignment padding is not part of the model).
        func sameBits(_ a: UnsafeMutablePointer<Float>, _ b: UnsafeMutablePointer<Float>) -> Bool {
            model.parameters.specs.allSatisfy { memcmp(a + $0.offset, b + $0.offset, $0.count * 4) == 0 }
        }
        XCTAssertTrue(sameBits(copy.parameters.values, model.parameters.values), "parameters bit-exact")
        let adam2 = Optimizer(settings: adam.settings, parameterCount: copy.parameters.count)
        try read.loadOptimizerState(into: adam2, layout: copy.parameters)
        XCTAssertTrue(sameBits(adam2.firstMoment.pointer, adam.firstMoment.pointer), "Adam m bit-exact")
        XCTAssertTrue(sameBits(adam2.secondMoment.pointer, adam.secondMoment.pointer), "Adam v bit-exact")
        // Writing what was read gives the same bytes.
        let again = Checkpoint(kind: "lm", model: try read.model(LanguageModelConfig.self), tool: try read.tool(Tool.self),
                               parameters: copy.parameters, optimizer: adam2, training: try read.trainingProgress(),
                               extra: ["state.y": ([2, 3], try read.extra("state.y")!)])
        try again.write(to: dir + "/again.ckpt")
        XCTAssertEqual(FileManager.default.contents(atPath: path), FileManager.default.contents(atPath: dir + "/again.ckpt"))
    }

    func assertRejected(_ path: String, kind: String = "lm", _ phrase: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try Checkpoint.read(path: path, expectedKind: kind), file: file, line: line) { error in
            let text = "\(error)"
            XCTAssertTrue(text.hasPrefix(path + ":"), "message names the file: \(text)", file: file, line: line)
            XCTAssertTrue(text.contains(phrase), "expected “\(phrase)” in: \(text)", file: file, line: line)
        }
    }

    func testRejectsTruncatedBitFlippedAndForeignFiles() throws {
        let dir = temporaryDirectory()
        let (path, _, _) = try writeResumable(dir)
        let bytes = [UInt8](FileManager.default.contents(atPath: path)!)

        for cut in [0, 7, 100, bytes.count / 2, bytes.count - 1] {
            let p = dir + "/cut\(cut).ckpt"
            _ = FileManager.default.createFile(atPath: p, contents: Data(bytes.prefix(cut)))
            assertRejected(p, "truncated")
        }
        // Flip one bit at a spread of positions (header and data): every one must be rejected.
        var flipped = 0
        for position in stride(from: 0, to: bytes.count, by: max(1, bytes.count / 300)) {
            var b = bytes
            b[position] ^= 0x10
            let p = dir + "/flip.ckpt"
            _ = FileManager.default.createFile(atPath: p, contents: Data(b))
            XCTAssertThrowsError(try Checkpoint.read(path: p, expectedKind: "lm"), "bit flip at byte \(position) went unnoticed")
            flipped += 1
        }
        print("checkpoint: \(flipped) single-bit corruptions of a \(bytes.count)-byte file, all rejected")

        assertRejected(path, kind: "kws", "this is a lm checkpoint, not a kws checkpoint")
        assertRejected(dir + "/missing.ckpt", "No such file")
        _ = FileManager.default.createFile(atPath: dir + "/text.ckpt", contents: Data("hello world, not a checkpoint\n".utf8))
        assertRejected(dir + "/text.ckpt", "safetensors")

        // A safetensors file from elsewhere (no lem metadata) and one from a newer lem.
        var foreign = SafeTensorsFile(metadata: ["format": "pt"])
        foreign.add("w", shape: [2], floats: [1, 2])
        try foreign.write(atomicallyTo: dir + "/foreign.ckpt")
        assertRejected(dir + "/foreign.ckpt", "not a lem checkpoint")
        var newer = try SafeTensorsFile.read(path: path)
        newer.metadata["format_version"] = "99"
        try newer.write(atomicallyTo: dir + "/newer.ckpt")
        assertRejected(dir + "/newer.ckpt", "newer version")
    }

    func testShapeMismatchNamesTheTensor() throws {
        let dir = temporaryDirectory()
        let (path, _, _) = try writeResumable(dir)
        let read = try Checkpoint.read(path: path, expectedKind: "lm")
        let bigger = LanguageModel(config: LanguageModelConfig(vocabularySize: 9, embeddingSize: 4, hiddenSize: 4, tied: true))
        XCTAssertThrowsError(try read.loadParameters(into: bigger.parameters)) { error in
            XCTAssertTrue("\(error)".contains("embedding.weight"), "\(error)")
        }
    }
}
