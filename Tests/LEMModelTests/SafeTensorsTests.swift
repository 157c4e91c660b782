import Foundation
import XCTest
@testable import LEMModel
@testable import Runtime

/// The safetensors layer: round trips, reading every dtype, the CRC-32, and every way a file can be
/// broken (each must give an error naming the file and the problem, never a trap or a wrong value).
final class SafeTensorsTests: XCTestCase {
    private var directory = ""

    override func setUpWithError() throws {
        directory = NSTemporaryDirectory() + "SafeTensorsTests-\(getpid())-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: directory)
    }

    // MARK: - Helpers

    /// Several dtypes and awkward shapes (scalar, empty, odd-sized F32 before 8-byte types).
    private func sample() -> SafeTensorsFile {
        var file = SafeTensorsFile(metadata: ["format": "lem", "epoch": "3"])
        file.add("lem.W", shape: [2, 3], floats: [1, -2, 3.5, .pi, -0.0, .greatestFiniteMagnitude])
        file.add("lem.b", shape: [3], floats: [0.25, .leastNonzeroMagnitude, -7])
        file.add("scale", shape: [], floats: [42])
        file.add("empty", shape: [0, 4], floats: [])
        file.add("doubles", shape: [2], doubles: [0.1, -1e300])
        file.add("step", shape: [1], int64s: [Int64.max])
        file.add("ids", shape: [2, 1], int32s: [-5, Int32.max])
        return file
    }

    /// A tiny file for exhaustive corruption tests.
    private func small() -> SafeTensorsFile {
        var file = SafeTensorsFile(metadata: ["k": "v"])
        file.add("a", shape: [2], floats: [1.5, -2])
        file.add("n", shape: [1], int64s: [7])
        return file
    }

    private func assertSameContent(_ a: SafeTensorsFile, _ b: SafeTensorsFile,
                                   file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.metadata, b.metadata, file: file, line: line)
        XCTAssertEqual(a.tensors, b.tensors, file: file, line: line)
    }

    /// Header length prefix + header padded with spaces to a multiple of 8 + data.
    private func craft(_ header: String, data: [UInt8] = [], pad: Bool = true) -> [UInt8] {
        var headerBytes = Array(header.utf8)
        while pad && (8 + headerBytes.count) % 8 != 0 { headerBytes.append(0x20) }
        return littleEndian(UInt64(headerBytes.count)) + headerBytes + data
    }

    private func littleEndian(_ value: UInt64) -> [UInt8] {
        withUnsafeBytes(of: value.littleEndian) { Array($0) }
    }

    /// Asserts that parsing fails with a description containing the source and `phrase`.
    private func assertParseFails(_ bytes: [UInt8], _ phrase: String, source: String = "broken.safetensors",
                                  file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try SafeTensorsFile.parse(bytes, source: source), file: file, line: line) { error in
            let text = String(describing: error)
            XCTAssertTrue(text.hasPrefix(source + ": "), "missing source in: \(text)", file: file, line: line)
            XCTAssertTrue(text.contains(phrase), "expected “\(phrase)” in: \(text)", file: file, line: line)
        }
    }

    private func assertReadFails(_ path: String, _ phrase: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try SafeTensorsFile.read(path: path), file: file, line: line) { error in
            let text = String(describing: error)
            XCTAssertTrue(text.contains(path), "missing path in: \(text)", file: file, line: line)
            XCTAssertTrue(text.contains(phrase), "expected “\(phrase)” in: \(text)", file: file, line: line)
        }
    }

    private func headerLength(_ bytes: [UInt8]) -> Int {
        Int(bytes.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) })
    }

    // MARK: - Round trips

    func testSerializeParseSerializeIsBitExact() throws {
        let original = sample()
        let bytes = original.serialized()
        XCTAssertEqual(bytes, original.serialized(), "serialization must be deterministic")
        let parsed = try SafeTensorsFile.parse(bytes, source: "memory")
        XCTAssertTrue(parsed.hasVerifiedChecksum)
        XCTAssertEqual(parsed.source, "memory")
        assertSameContent(parsed, original)
        XCTAssertEqual(parsed.names, ["doubles", "empty", "ids", "lem.W", "lem.b", "scale", "step"])
        XCTAssertEqual(parsed.serialized(), bytes)
        XCTAssertFalse(original.hasVerifiedChecksum)
    }

    func testWriteReadThroughTemporaryDirectory() throws {
        let path = directory + "/model.safetensors"
        try sample().write(atomicallyTo: path)
        let loaded = try SafeTensorsFile.read(path: path)
        XCTAssertTrue(loaded.hasVerifiedChecksum)
        XCTAssertEqual(loaded.source, path)
        assertSameContent(loaded, sample())
        XCTAssertEqual(try Array(Data(contentsOf: URL(fileURLWithPath: path))), sample().serialized())
        XCTAssertEqual(try loaded.floats("lem.W"), [1, -2, 3.5, .pi, -0.0, .greatestFiniteMagnitude])
        XCTAssertEqual(try loaded.floats("lem.W")[4].sign, .minus, "-0.0 must keep its sign bit")
        XCTAssertEqual(try loaded.floats("lem.b")[1], .leastNonzeroMagnitude)
        XCTAssertEqual(try loaded.floats("scale"), [42])
        XCTAssertEqual(try loaded.shape("scale"), [])
        XCTAssertEqual(try loaded.floats("empty"), [])
        XCTAssertEqual(try loaded.shape("empty"), [0, 4])
    }

    func testLayoutIsPaddedAlignedAndLikePython() throws {
        let bytes = sample().serialized()
        let n = headerLength(bytes)
        XCTAssertEqual((8 + n) % 8, 0)
        let header = String(decoding: bytes[8..<(8 + n)], as: UTF8.self)
        XCTAssertTrue(header.hasPrefix("{\"__metadata__\":{\"crc32\":\""), header)
        XCTAssertTrue(header.contains("\"lem.W\":{\"data_offsets\":["), header)
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(bytes[8..<(8 + n)])) as? [String: Any])
        XCTAssertEqual(json.count, 8)
        // Every tensor starts at a multiple of its element size (8-byte dtypes are laid out first).
        for name in sample().names {
            let entry = try XCTUnwrap(json[name] as? [String: Any])
            let offsets = try XCTUnwrap(entry["data_offsets"] as? [Int])
            let dtype = try XCTUnwrap(TensorDType(rawValue: try XCTUnwrap(entry["dtype"] as? String)))
            XCTAssertEqual(offsets[0] % dtype.byteSize, 0, name)
        }
    }

    func testMetadataIsPreserved() throws {
        let metadata = ["plain": "value", "quote\"back\\slash": "new\nline\ttab\u{0}nul\u{1F}",
                        "ünïcødé 🎉": "日本語", "": "empty key", "empty value": ""]
        var file = SafeTensorsFile(metadata: metadata)
        file.add("x", shape: [1], floats: [1])
        file.metadata["crc32"] = "deadbeef"  // reserved: replaced on write, removed on read
        file.metadata["crc32_scheme"] = "x"
        let parsed = try SafeTensorsFile.parse(file.serialized(), source: "meta")
        XCTAssertEqual(parsed.metadata, metadata)
        XCTAssertTrue(parsed.hasVerifiedChecksum)

        // Python's reader would see the same strings: check with Foundation's JSON parser too.
        let bytes = file.serialized()
        let header = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(bytes[8..<(8 + headerLength(bytes))])) as? [String: Any])
        var seen = try XCTUnwrap(header["__metadata__"] as? [String: String])
        XCTAssertEqual(seen.removeValue(forKey: "crc32")?.count, 8)
        XCTAssertEqual(seen.removeValue(forKey: "crc32_scheme"), "lem-v1")
        XCTAssertEqual(seen, metadata)

        // Metadata-only and completely empty files.
        let empty = try SafeTensorsFile.parse(SafeTensorsFile().serialized(), source: "empty")
        XCTAssertEqual(empty.metadata, [:])
        XCTAssertEqual(empty.names, [])
        XCTAssertTrue(empty.hasVerifiedChecksum)
    }

    // MARK: - Reading dtypes

    /// I8 (int8-quantised checkpoints): stored as one byte each, read back widened, signed.
    func testI8RoundTrip() throws {
        var file = SafeTensorsFile()
        file.add("q", shape: [2, 3], int8s: [-127, -1, 0, 1, 127, -128])
        let bytes = file.serialized()
        let parsed = try SafeTensorsFile.parse(bytes, source: "i8.safetensors")
        XCTAssertEqual(parsed.tensors["q"]?.dtype, .i8)
        XCTAssertEqual(parsed.tensors["q"]?.bytes.count, 6)
        XCTAssertEqual(try parsed.int64s("q"), [-127, -1, 0, 1, 127, -128])
        XCTAssertThrowsError(try parsed.floats("q")) { XCTAssertTrue(String(describing: $0).contains("integer dtype I8"), "\($0)") }
    }

    func testF64I32I64Reading() throws {
        let file = try SafeTensorsFile.parse(sample().serialized(), source: "dtypes.safetensors")
        XCTAssertEqual(try file.floats("doubles"), [Float(0.1), -.infinity])
        XCTAssertEqual(try file.int64s("step"), [Int64.max])
        XCTAssertEqual(try file.int64s("ids"), [-5, Int64(Int32.max)])
        XCTAssertEqual(try file.shape("ids"), [2, 1])
        XCTAssertEqual(file.tensors["doubles"]?.dtype, .f64)
        XCTAssertEqual(file.tensors["ids"]?.dtype, .i32)

        XCTAssertThrowsError(try file.floats("step")) { error in
            XCTAssertEqual(String(describing: error),
                           "dtypes.safetensors: tensor \"step\" has integer dtype I64, not F32 or F64")
        }
        XCTAssertThrowsError(try file.int64s("lem.W")) {
            XCTAssertTrue(String(describing: $0).contains("floating-point dtype F32"), "\($0)")
        }
        XCTAssertThrowsError(try file.shape("nope")) {
            XCTAssertTrue(String(describing: $0).hasPrefix("dtypes.safetensors: no tensor named \"nope\""), "\($0)")
        }
    }

    func testCopyFloats() throws {
        let file = try SafeTensorsFile.parse(sample().serialized(), source: "copy.safetensors")
        var destination = [Float](repeating: 9, count: 6)
        try destination.withUnsafeMutableBufferPointer { try file.copyFloats("lem.W", into: $0) }
        XCTAssertEqual(destination, [1, -2, 3.5, .pi, -0.0, .greatestFiniteMagnitude])
        var two = [Float](repeating: 9, count: 2)
        try two.withUnsafeMutableBufferPointer { try file.copyFloats("doubles", into: $0) }
        XCTAssertEqual(two, [Float(0.1), -.infinity])

        var wrong = [Float](repeating: 9, count: 5)
        XCTAssertThrowsError(try wrong.withUnsafeMutableBufferPointer { try file.copyFloats("lem.W", into: $0) }) {
            XCTAssertTrue(String(describing: $0).contains("copy.safetensors: tensor \"lem.W\" has shape [2, 3] = 6 elements, "
                                                          + "but the destination holds 5"), "\($0)")
        }
        XCTAssertEqual(wrong, [Float](repeating: 9, count: 5), "a failed copy must not write")
        XCTAssertThrowsError(try wrong.withUnsafeMutableBufferPointer { try file.copyFloats("ids", into: $0) })
        XCTAssertThrowsError(try wrong.withUnsafeMutableBufferPointer { try file.copyFloats("missing", into: $0) })
    }

    // MARK: - CRC-32

    func testCRC32MatchesZlib() {
        XCTAssertEqual(CRC32.checksum([]), 0)
        XCTAssertEqual(CRC32.checksum(Array("123456789".utf8)), 0xCBF4_3926)
        // zlib.crc32(bytes(range(256)) * 3) == 0xb0c0df2a
        let bytes = (0..<768).map { UInt8($0 % 256) }
        XCTAssertEqual(CRC32.checksum(bytes), 0xB0C0_DF2A)
        var split = CRC32()
        split.update(bytes[..<100])
        split.update(bytes[100...])
        XCTAssertEqual(split.value, 0xB0C0_DF2A)
    }

    func testChecksumDescribesContentNotHeaderSpelling() throws {
        let bytes = small().serialized()
        let n = headerLength(bytes)
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(bytes[8..<(8 + n)])) as? [String: Any])
        // Same content, different key order and whitespace (as another writer might produce).
        let respelled = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted])
        let reparsed = try SafeTensorsFile.parse(craft(String(decoding: respelled, as: UTF8.self),
                                                       data: Array(bytes[(8 + n)...])), source: "pretty")
        XCTAssertTrue(reparsed.hasVerifiedChecksum)
        assertSameContent(reparsed, small())
    }

    // MARK: - Files written by Python

    /// The exact bytes Python writes (safetensors 0.8.0:
    /// `save_file({"w": float32 [[1,2,3],[4,5,6]], "step": int64 [7], "b": float64 [0.5,-1.25]},
    /// path, metadata={"format": "lem", "note": "hi"})`): no crc32, header padded with spaces.
    func testParsesPythonStyleFileWithoutChecksum() throws {
        let header = #"{"__metadata__":{"note":"hi","format":"lem"},"step":{"dtype":"I64","shape":[1],"data_offsets":[0,8]},"b":{"dtype":"F64","shape":[2],"data_offsets":[8,24]},"w":{"dtype":"F32","shape":[2,3],"data_offsets":[24,48]}}    "#
        let dataHex = "0700000000000000000000000000e03f000000000000f4bf0000803f0000004000004040000080400000a0400000c040"
        var data: [UInt8] = []
        var index = dataHex.startIndex
        while index < dataHex.endIndex {
            let next = dataHex.index(index, offsetBy: 2)
            data.append(UInt8(dataHex[index..<next], radix: 16)!)
            index = next
        }
        let bytes = littleEndian(216) + Array(header.utf8) + data
        XCTAssertEqual(bytes.count, 272)
        XCTAssertEqual(header.utf8.count, 216)

        let file = try SafeTensorsFile.parse(bytes, source: "python.safetensors")
        XCTAssertFalse(file.hasVerifiedChecksum)
        XCTAssertEqual(file.metadata, ["format": "lem", "note": "hi"])
        XCTAssertEqual(file.names, ["b", "step", "w"])
        XCTAssertEqual(try file.floats("w"), [1, 2, 3, 4, 5, 6])
        XCTAssertEqual(try file.shape("w"), [2, 3])
        XCTAssertEqual(try file.floats("b"), [0.5, -1.25])
        XCTAssertEqual(try file.int64s("step"), [7])
        // Re-saved by us it gains a checksum and keeps its content.
        let resaved = try SafeTensorsFile.parse(file.serialized(), source: "resaved")
        XCTAssertTrue(resaved.hasVerifiedChecksum)
        assertSameContent(resaved, file)
    }

    /// Reads the Python-written fixture `lem_layer.safetensors` when it is present (it is generated
    /// by another part of the project), plus every other fixture there; when it is absent the
    /// hand-crafted Python-style check runs instead, so this test never passes vacuously.
    func testReadsPythonWrittenFixtures() throws {
        let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")
        let layer = fixtures.appendingPathComponent("lem_layer.safetensors").path
        guard FileManager.default.fileExists(atPath: layer) else {
            print("SafeTensorsTests: \(layer) not present; checking hand-crafted Python-style bytes instead")
            try testParsesPythonStyleFileWithoutChecksum()
            return
        }
        let others = (try? FileManager.default.contentsOfDirectory(atPath: fixtures.path)) ?? []
        let paths = [layer] + others.filter { $0.hasSuffix(".safetensors") && $0 != "lem_layer.safetensors" }.sorted()
            .map { fixtures.appendingPathComponent($0).path }
        for path in paths {
            let file = try SafeTensorsFile.read(path: path)
            XCTAssertFalse(file.names.isEmpty, path)
            for name in file.names {
                let stored = try XCTUnwrap(file.tensors[name])
                XCTAssertEqual(stored.elementCount, stored.shape.reduce(1, *), name)
                switch stored.dtype {
                case .f32, .f64: XCTAssertEqual(try file.floats(name).count, stored.elementCount, name)
                case .i32, .i64, .i8: XCTAssertEqual(try file.int64s(name).count, stored.elementCount, name)
                }
            }
            // Re-saved by us, the content survives and gains a verified checksum.
            let resaved = try SafeTensorsFile.parse(file.serialized(), source: path + " (resaved)")
            XCTAssertTrue(resaved.hasVerifiedChecksum)
            assertSameContent(resaved, file)
            print("SafeTensorsTests: read \(file.names.count) tensors from \(path) (checksum: \(file.hasVerifiedChecksum))")
        }
    }

    // MARK: - Corruption

    func testTruncatedAtSeveralLengths() throws {
        let bytes = sample().serialized()
        let dataStart = 8 + headerLength(bytes)
        let cases: [(Int, String)] = [
            (0, "truncated: too short to be a safetensors file"),
            (4, "truncated: too short to be a safetensors file"),
            (7, "truncated: too short to be a safetensors file"),
            (8, "truncated or not a safetensors file: header says"),
            (8 + (dataStart - 8) / 2, "truncated or not a safetensors file: header says"),
            (dataStart - 1, "truncated or not a safetensors file: header says"),
            ((dataStart + bytes.count) / 2, "truncated: tensor"),
            (bytes.count - 1, "truncated: tensor"),
        ]
        for (length, phrase) in cases {
            let path = directory + "/cut-\(length).safetensors"
            try Data(bytes[..<length]).write(to: URL(fileURLWithPath: path))
            assertReadFails(path, phrase)
            assertParseFails(Array(bytes[..<length]), phrase)
        }
        // Header complete but no data at all.
        assertParseFails(Array(bytes[..<dataStart]), "truncated: tensor")
    }

    func testEveryFlippedBitIsDetected() throws {
        let original = small()
        let bytes = original.serialized()
        var checked = 0, rejectedByChecksum = 0
        for position in 0..<bytes.count {
            for bit in 0..<8 {
                var corrupt = bytes
                corrupt[position] ^= 1 << bit
                checked += 1
                do {
                    let parsed = try SafeTensorsFile.parse(corrupt, source: "flip.safetensors")
                    XCTFail("bit \(bit) of byte \(position) parsed successfully: \(parsed.metadata) \(parsed.tensors)")
                } catch {
                    let text = String(describing: error)
                    XCTAssertTrue(text.hasPrefix("flip.safetensors: "), text)
                    if text.contains("checksum mismatch: the file is corrupt") { rejectedByChecksum += 1 }
                }
            }
        }
        XCTAssertEqual(checked, bytes.count * 8)
        print("SafeTensorsTests: flipped each of \(checked) bits of a \(bytes.count)-byte file: all rejected "
              + "(\(rejectedByChecksum) by the checksum, the rest by structural checks)")
    }

    func testChecksumMismatchMessage() {
        var bytes = small().serialized()
        bytes[bytes.count - 1] ^= 0x01
        assertParseFails(bytes, "checksum mismatch: the file is corrupt (expected ")
        // Malformed, half-present or unknown checksum entries are also corruption.
        let tensor = #""a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}"#
        let cases: [(String, String)] = [
            (#""crc32":"DEADBEEF","crc32_scheme":"lem-v1""#, "checksum entry \"crc32\" is malformed"),
            (#""crc32":"12345678""#, "checksum entry \"crc32_scheme\" is missing although \"crc32\" is present"),
            (#""crc32_scheme":"lem-v1""#, "checksum entry \"crc32\" is missing although \"crc32_scheme\" is present"),
            (#""crc32":"12345678","crc32_scheme":"lem-v9""#, "unsupported checksum scheme \"lem-v9\""),
        ]
        for (metadata, phrase) in cases {
            assertParseFails(craft("{\"__metadata__\":{" + metadata + "}," + tensor + "}", data: [0, 0, 0, 0]), phrase)
        }
    }

    func testLyingHugeHeaderLength() {
        let body = Array(#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#.utf8) + [0, 0, 0, 0]
        for lie: UInt64 in [UInt64.max, 1 << 63, 1 << 40, 100_000_001, UInt64(body.count + 1)] {
            assertParseFails(littleEndian(lie) + body, "truncated or not a safetensors file: header says \(lie) bytes")
        }
        // Over the 100 MB limit even though the file really is that long.
        let big = littleEndian(100_000_001) + [UInt8](repeating: 0x20, count: 100_000_010)
        assertParseFails(big, "not a safetensors file: header says 100000001 bytes, more than the 100000000-byte limit")
    }

    func testGarbageFiles() throws {
        let text = directory + "/notes.txt"
        try "This is a plain text file, certainly not tensors.\n".write(toFile: text, atomically: true, encoding: .utf8)
        assertReadFails(text, "not a safetensors file")
        // A plausible length followed by text that is not JSON.
        let small = directory + "/hello.safetensors"
        try Data(littleEndian(5) + Array("hello".utf8)).write(to: URL(fileURLWithPath: small))
        assertReadFails(small, "not a safetensors file: header is not JSON")
        let empty = directory + "/empty.safetensors"
        XCTAssertTrue(FileManager.default.createFile(atPath: empty, contents: Data()))
        assertReadFails(empty, "truncated: too short to be a safetensors file")
    }

    func testDirectoryAndMissingFile() {
        assertReadFails(directory, "cannot open: Is a directory")
        assertReadFails(directory + "/missing.safetensors", "cannot open: No such file or directory")
        assertReadFails("/dev/null", "cannot open: not a regular file")
    }

    func testMalformedHeaders() {
        let one = #""a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}"#
        let cases: [(String, [UInt8], String)] = [
            ("", [], "not a safetensors file: header is not JSON"),
            ("hello", [], "not a safetensors file: header is not JSON"),
            ("[1,2]", [], "not a safetensors file: header is not JSON (it is a list, not an object)"),
            ("{" + one + "} x", [0, 0, 0, 0], "not a safetensors file: header is not JSON"),
            ("{" + one, [0, 0, 0, 0], "not a safetensors file: header is not JSON"),
            (#"{"__metadata__":{"k":1}}"#, [], "metadata must map strings to strings"),
            (#"{"__metadata__":["k"]}"#, [], "metadata must map strings to strings"),
            (#"{"a":{"dtype":"BF16","shape":[1],"data_offsets":[0,2]}}"#, [0, 0], "unsupported dtype \"BF16\""),
            (#"{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}"#, [0, 0, 0, 0], "non-negative integers (found -1)"),
            (#"{"a":{"dtype":"F32","shape":[1.5],"data_offsets":[0,4]}}"#, [0, 0, 0, 0], "non-negative integers (found 1.5)"),
            (#"{"a":{"dtype":"F32","shape":["1"],"data_offsets":[0,4]}}"#, [0, 0, 0, 0], "non-negative integers"),
            (#"{"a":{"dtype":"F32","shape":1,"data_offsets":[0,4]}}"#, [0, 0, 0, 0], "shape must be a list"),
            (#"{"a":{"dtype":"F32","shape":[4294967296,4294967296,4],"data_offsets":[0,4]}}"#, [0, 0, 0, 0], "overflow"),
            (#"{"a":{"dtype":"F32","shape":[99999999999999999999],"data_offsets":[0,4]}}"#, [0, 0, 0, 0], "is too large"),
            (#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}"#, [0, 0, 0, 0], "hold 4 bytes, but dtype F32 and shape [2] need 8"),
            (#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,0]}}"#, [0, 0, 0, 0], "end before they begin"),
            (#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0]}}"#, [0, 0, 0, 0], "data_offsets must be two integers"),
            (#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4,8]}}"#, [0, 0, 0, 0], "data_offsets has more than 2 entries"),
            (#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#, [0, 0, 0, 0], "truncated: tensor \"a\" ends at byte 8, data section has 4"),
            (#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"I32","shape":[1],"data_offsets":[0,4]}}"#,
             [0, 0, 0, 0], "tensors \"a\" and \"b\" overlap"),
            (#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"I32","shape":[1],"data_offsets":[8,12]}}"#,
             [UInt8](repeating: 0, count: 12), "gap in the data section: bytes 4..<8"),
            ("{" + one + "}", [UInt8](repeating: 0, count: 8), "trailing bytes: the data section has 8 bytes but the tensors end at byte 4"),
            ("{}", [1], "trailing bytes"),
            ("{" + one + "," + one + "}", [0, 0, 0, 0], "duplicate tensor name \"a\""),
            (#"{"a":{"dtype":"F32","shape":[1]}}"#, [], "missing \"data_offsets\""),
            (#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4],"extra":1}}"#, [0, 0, 0, 0], "unexpected key \"extra\""),
            (#"{"a":[1]}"#, [], "entry for tensor \"a\" is not an object"),
            (#"{"a\q":{}}"#, [], "invalid escape"),
            (#"{"\ud800":{}}"#, [], "expected low-surrogate code point"),
            (#"{"a":{"dtype":"F32","shape":[true],"data_offsets":[0,4]}}"#, [0, 0, 0, 0], "non-negative integers (found true)"),
            (#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4e0]}}"#, [0, 0, 0, 0], "non-negative integers (found 4"),
            (#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,18446744073709551616]}}"#, [0, 0, 0, 0], "is too large"),
            ("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}\u{0}", [0, 0, 0, 0], "header is not JSON (a NUL byte at byte"),
        ]
        for (header, data, phrase) in cases {
            assertParseFails(craft(header, data: data), phrase)
        }
        // Repeated keys, which a JSON reader would silently merge, in every object of the schema and
        // in any spelling of the same name (an escape, or a canonically equivalent Unicode form).
        let duplicates: [(String, String)] = [
            ("{" + one + "," + #""\u0061":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}"# + "}", "duplicate tensor name \"a\""),
            (#"{"é":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"e\u0301":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#,
             "duplicate tensor name \"é\""),
            (#"{"__metadata__":{"k":"v"},"__metadata__":{"k":"v"},"# + one + "}", "\"__metadata__\" appears twice"),
            (#"{"__metadata__":{"k":"v","k":"w"},"# + one + "}", "duplicate metadata key \"k\""),
            (#"{"a":{"dtype":"F32","dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#, "tensor \"a\": duplicate key \"dtype\""),
            (#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4],"shape":[1]}}"#, "tensor \"a\": duplicate key \"shape\""),
        ]
        for (header, phrase) in duplicates {
            assertParseFails(craft(header, data: [0, 0, 0, 0]), phrase)
        }
        // Invalid UTF-8 in the header.
        assertParseFails(littleEndian(8) + [0x7B, 0x22, 0xFF, 0xFE, 0x22, 0x3A, 0x7D, 0x20], "header is not JSON (it is not valid UTF-8)")
        // A header without padding and with null metadata is fine (other writers do that).
        XCTAssertNoThrow(try SafeTensorsFile.parse(craft(#"{"__metadata__":null,"# + one + "}", data: [0, 0, 128, 63], pad: false),
                                                   source: "unpadded"))
    }

    // MARK: - Atomic write

    func testAtomicWriteOverwritesAndLeavesNoTemporaryFile() throws {
        let path = directory + "/checkpoint.safetensors"
        var first = SafeTensorsFile(metadata: ["version": "1"])
        first.add("w", shape: [3], floats: [1, 2, 3])
        try first.write(atomicallyTo: path)
        var second = SafeTensorsFile(metadata: ["version": "2"])
        second.add("w", shape: [2], floats: [4, 5])
        try second.write(atomicallyTo: path)

        let loaded = try SafeTensorsFile.read(path: path)
        XCTAssertEqual(loaded.metadata, ["version": "2"])
        XCTAssertEqual(try loaded.floats("w"), [4, 5])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory), ["checkpoint.safetensors"])
    }

    func testAtomicWriteFailuresNameThePathAndCleanUp() throws {
        let missing = directory + "/no/such/dir/x.safetensors"
        XCTAssertThrowsError(try small().write(atomicallyTo: missing)) {
            let text = String(describing: $0)
            XCTAssertTrue(text.hasPrefix(missing + ": "), text)
            XCTAssertTrue(text.contains("No such file or directory"), text)
        }
        // The destination is a directory: the rename fails and the temporary file must be removed.
        let occupied = directory + "/occupied"
        try FileManager.default.createDirectory(atPath: occupied + "/inside", withIntermediateDirectories: true)
        XCTAssertThrowsError(try small().write(atomicallyTo: occupied)) {
            let text = String(describing: $0)
            XCTAssertTrue(text.hasPrefix(occupied + ": cannot rename"), text)
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory), ["occupied"])
    }
}
