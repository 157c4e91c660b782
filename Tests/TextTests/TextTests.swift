import Foundation
import XCTest
@testable import Text

final class TokenizerTests: XCTestCase {
    func testWordLevelAppendsEndOfSentencePerLine() {
        XCTAssertEqual(tokenize(" the cat sat \n a dog \n", level: .word), ["the", "cat", "sat", "<eos>", "a", "dog", "<eos>"])
        XCTAssertEqual(tokenize("no final newline", level: .word), ["no", "final", "newline", "<eos>"])
        XCTAssertEqual(tokenize("a\r\n\nb\n", level: .word), ["a", "<eos>", "<eos>", "b", "<eos>"], "CRLF and empty lines")
    }

    func testPTBCharLevel() {
        XCTAssertEqual(tokenize(" t h e _ c a t \n < u n k > \n", level: .char),
                       ["t", "h", "e", "_", "c", "a", "t", "<eos>", "<", "u", "n", "k", ">", "<eos>"])
        XCTAssertEqual(detokenize(["t", "h", "e", "_", "c", "a", "t", "<eos>", "a"], level: .char), "the cat\na")
    }

    func testPlainTextCharacters() {
        XCTAssertEqual(tokenize("hé\nyo", level: .text), ["h", "é", "\n", "y", "o"])
        XCTAssertEqual(detokenize(["h", "é", "\n", "y"], level: .text), "hé\ny")
    }

    func testWordDetokenize() {
        XCTAssertEqual(detokenize(["the", "cat", "<eos>", "a", "dog"], level: .word), "the cat\na dog")
    }
}

final class VocabularyTests: XCTestCase {
    func testIdsInOrderOfFirstAppearanceAcrossSplits() throws {
        let dir = NSTemporaryDirectory() + "lem-vocab-\(getpid())"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        for (name, text) in [("train", " b a b \n"), ("valid", " c a \n"), ("test", " d \n")] {
            try text.write(toFile: "\(dir)/ptb.\(name).txt", atomically: true, encoding: .utf8)
        }
        let corpus = try LanguageCorpus.load(directory: dir, level: .word)
        XCTAssertEqual(corpus.vocabulary.tokens, ["b", "a", "<eos>", "c", "d"])
        XCTAssertEqual(corpus.train, [0, 1, 0, 2])
        XCTAssertEqual(corpus.test, [4, 2])
        XCTAssertEqual(try corpus.vocabulary.encode(["d", "b"], file: "x"), [4, 0])
    }

    func testUnknownTokensMapToUnkOrFail() throws {
        let withUnk = try Vocabulary(tokens: ["a", "<unk>"])
        XCTAssertEqual(try withUnk.encode(["a", "zzz"], file: "f"), [0, 1])
        let without = try Vocabulary(tokens: ["a", "b"])
        XCTAssertThrowsError(try without.encode(["a", "zzz", "yyy", "zzz"], file: "eval.txt")) { error in
            let text = "\(error)"
            XCTAssertTrue(text.hasPrefix("eval.txt: 3 token(s) are not in the model's vocabulary"), text)
            XCTAssertTrue(text.contains("\"zzz\""), text)
        }
    }

    func testCodableRoundTripAndDuplicateRejection() throws {
        let v = try Vocabulary(tokens: ["x", "y", "<eos>"])
        let decoded = try JSONDecoder().decode(Vocabulary.self, from: try JSONEncoder().encode(v))
        XCTAssertEqual(decoded, v)
        XCTAssertEqual(decoded.id("<eos>"), 2)
        XCTAssertThrowsError(try JSONDecoder().decode(Vocabulary.self, from: Data(#"{"tokens":["a","a"]}"#.utf8)))
    }
}

final class BatchingTests: XCTestCase {
    func testStreamsAreColumnsAndWindowsShiftByOne() {
        // The diagram in Batching.swift: 24 tokens, 4 streams, BPTT 2.
        let b = StreamBatches(tokens: (0..<24).map(Int32.init), batch: 4, bptt: 2)
        XCTAssertEqual(b.length, 6)
        XCTAssertEqual(Array(b.data[0..<8]), [0, 6, 12, 18, 1, 7, 13, 19])
        XCTAssertEqual(b.windowCount, 3)   // rows 0-1, 2-3, 4 (targets up to row 5)
        let w0 = b.window(0)
        XCTAssertEqual(Array(w0.inputs), [0, 6, 12, 18, 1, 7, 13, 19])
        XCTAssertEqual(Array(w0.targets), [1, 7, 13, 19, 2, 8, 14, 20])
        let last = b.window(2)
        XCTAssertEqual(last.steps, 1)
        XCTAssertEqual(Array(last.inputs), [4, 10, 16, 22])
        XCTAssertEqual(Array(last.targets), [5, 11, 17, 23])
    }

    func testRemainderIsDropped() {
        let b = StreamBatches(tokens: (0..<27).map(Int32.init), batch: 4, bptt: 10)
        XCTAssertEqual(b.length, 6)
        XCTAssertEqual(b.windowCount, 1)
        XCTAssertEqual(b.window(0).steps, 5)
    }

    func testEvaluationStreamsPredictEveryTokenOnce() {
        let tokens: [Int32] = [5, 6, 7, 8, 9, 10, 11]
        for streams in 1...8 {
            let e = EvaluationStreams(tokens: tokens, context: 99, streams: streams)
            XCTAssertEqual(e.predictionCount, 7)
            let predicted = e.targets.filter { $0 >= 0 }
            XCTAssertEqual(predicted.sorted(), tokens, "streams \(streams)")
            // Each real target follows its true predecessor (or the context token).
            for (i, t) in e.targets.enumerated() where t >= 0 {
                let position = tokens.firstIndex(of: t)!
                XCTAssertEqual(e.inputs[i], position == 0 ? 99 : tokens[position - 1])
            }
        }
        let single = EvaluationStreams(tokens: tokens, context: 99, streams: 1)
        XCTAssertEqual(single.inputs, [99, 5, 6, 7, 8, 9, 10])
        XCTAssertEqual(single.targets, tokens)
    }
}

final class TextFileTests: XCTestCase {
    func testStreamingGivesTheWholeFileTokensAcrossChunkBoundaries() throws {
        // Lines longer than the chunk, CRLF endings, multi-byte characters cut by chunk edges,
        // and no final newline: the streamed tokens equal tokenize(whole text).
        var rng = 12345 as UInt64
        var text = ""
        for i in 0..<300 {
            rng = rng &* 6364136223846793005 &+ 1442695040888963407
            let words = (0..<Int(rng >> 60) + 1).map { j in ["é", "the", "€uro", "𝄞", "a_b", "<unk>"][(i + j) % 6] }
            text += " " + words.joined(separator: " ") + (i % 7 == 0 ? " \r\n" : " \n")
        }
        text += String(repeating: "long ", count: 500) + "end"
        let path = write(Array(text.utf8), "stream.txt")
        for level in TextLevel.allCases {
            for chunk in [4096, 5000, 1 << 20] {
                var streamed: [String] = []
                try forEachToken(inFile: path, level: level, chunkSize: chunk) { streamed.append($0) }
                XCTAssertEqual(streamed, tokenize(text, level: level), "level \(level), chunk \(chunk)")
            }
        }
    }

    func write(_ bytes: [UInt8], _ name: String) -> String {
        let dir = NSTemporaryDirectory() + "lem-text-\(getpid())"
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let path = dir + "/" + name
        _ = FileManager.default.createFile(atPath: path, contents: Data(bytes))
        return path
    }

    func testBadFilesGetClearErrors() throws {
        func expect(_ path: String, _ phrase: String) {
            XCTAssertThrowsError(try forEachToken(inFile: path, level: .text) { _ in }) { error in
                XCTAssertTrue("\(error)".hasPrefix(path + ": "), "\(error)")
                XCTAssertTrue("\(error)".contains(phrase), "expected “\(phrase)” in \(error)")
            }
        }
        expect(write([], "empty.txt"), "empty")
        expect(write(Array("ok so far ".utf8) + [0xFF, 0x41], "latin.txt"), "not valid UTF-8 text (bad byte 0xff at offset 10)")
        expect(write([0xE2, 0x82], "cut.txt"), "not valid UTF-8")
        expect(write([0xED, 0xA0, 0x80], "surrogate.txt"), "not valid UTF-8")
        expect(write([0xC0, 0xAF], "overlong.txt"), "not valid UTF-8")
        expect("/nonexistent/lem.txt", "No such file")
        expect(NSTemporaryDirectory(), "not a regular file")
        var tokens: [String] = []
        try forEachToken(inFile: write(Array("héllo €𝄞\n".utf8), "good.txt"), level: .text) { tokens.append($0) }
        XCTAssertEqual(tokens.joined(), "héllo €𝄞\n")
    }

    func testCorpusDirectoryErrors() throws {
        let dir = NSTemporaryDirectory() + "lem-corpus-\(getpid())"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: dir + "/ptb.train.txt", contents: Data(" a b \n".utf8))
        XCTAssertThrowsError(try LanguageCorpus.load(directory: dir, level: .word)) { error in
            XCTAssertTrue("\(error)".contains("missing ptb.valid.txt"), "\(error)")
        }
        XCTAssertThrowsError(try LanguageCorpus.load(directory: dir + "/nope", level: .word)) { error in
            XCTAssertTrue("\(error)".contains("no such directory"), "\(error)")
        }
    }
}
