import Foundation
@testable import SequenceModelling
import XCTest
import ZIPFoundation

/// The readers of sequence data: each format on a tiny file written here, and bad files refused
/// with a message naming the file and the problem.
final class SequenceDataTests: XCTestCase {
    func directory() -> String {
        let dir = NSTemporaryDirectory() + "lem-seq-\(getpid())-\(UInt64.random(in: 0 ... .max))"
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    func assertFails(_ message: String, file: StaticString = #filePath, line: UInt = #line, _ body: () throws -> Any) {
        XCTAssertThrowsError(try body(), file: file, line: line) { error in
            XCTAssertTrue("\(error)".contains(message), "expected “\(message)” in “\(error)”", file: file, line: line)
        }
    }

    // MARK: IDX (MNIST)

    func idx(_ dims: [Int], _ values: [UInt8]) -> [UInt8] {
        [0, 0, 8, UInt8(dims.count)] + dims.flatMap { d in [UInt8(d >> 24 & 255), UInt8(d >> 16 & 255), UInt8(d >> 8 & 255), UInt8(d & 255)] } + values
    }

    func testIDXImagesAndLabelsBecomePixelSequences() throws {
        let images = try IDXArray(parsing: idx([2, 2, 3], [0, 51, 102, 153, 204, 255, 255, 0, 0, 0, 0, 0]), source: "img")
        XCTAssertEqual(images.dimensions, [2, 2, 3])
        let labels = try IDXArray(parsing: idx([2], [7, 3]), source: "lab")
        let data = try mnistSequences(images: images, labels: labels, imagesSource: "img", labelsSource: "lab")
        XCTAssertEqual([data.count, data.steps, data.features], [2, 6, 1])
        XCTAssertEqual(Array(data.values[0..<6]), [0, 0.2, 0.4, 0.6, 0.8, 1])
        XCTAssertEqual(data.labels, .classes([7, 3], classCount: 10))
        // The same file gzip-compressed, as MNIST is distributed.
        let dir = directory()
        try Data(idx([2], [7, 3])).write(to: URL(fileURLWithPath: dir + "/labels"))
        let gzip = Process()
        gzip.executableURL = URL(fileURLWithPath: "/bin/gzip")
        gzip.arguments = [dir + "/labels"]
        try gzip.run()
        gzip.waitUntilExit()
        XCTAssertEqual(try IDXArray(path: dir + "/labels.gz"), labels)
    }

    func testBadIDXFilesAreNamedAndExplained() throws {
        assertFails("x.idx: not an IDX file (3 bytes") { try IDXArray(parsing: [0, 0, 8], source: "x.idx") }
        assertFails("magic number does not start with two zero bytes") { try IDXArray(parsing: [1, 0, 8, 1, 0, 0, 0, 1, 5], source: "x") }
        assertFails("element type 0x0d is not supported") { try IDXArray(parsing: [0, 0, 0x0D, 1, 0, 0, 0, 1, 0, 0, 0, 0], source: "x") }
        assertFails("truncated: 1 of the 2 values") { try IDXArray(parsing: self.idx([2], [1]), source: "x") }
        assertFails("1 bytes after the 2 values") { try IDXArray(parsing: self.idx([2], [1, 2, 3]), source: "x") }
        assertFails("dimension 1 is 0") { try IDXArray(parsing: self.idx([0], []), source: "x") }
        assertFails("more than 2³¹ values") { try IDXArray(parsing: self.idx([65535, 65535, 65535], []), source: "x") }
        assertFails("labels.gz: truncated gzip data") { try gunzip([0x1F, 0x8B, 8, 0, 0, 0, 0, 0, 0, 3, 0x63], source: "labels.gz") }
        assertFails("5 labels for the 2 images") {
            try mnistSequences(images: IDXArray(parsing: self.idx([2, 1, 1], [0, 0]), source: "i"), labels: IDXArray(parsing: self.idx([5], [0, 0, 0, 0, 0]), source: "l"),
                               imagesSource: "i", labelsSource: "l")
        }
        assertFails("label 12 of image 1 is not a digit") {
            try mnistSequences(images: IDXArray(parsing: self.idx([2, 1, 1], [0, 0]), source: "i"), labels: IDXArray(parsing: self.idx([2], [0, 12]), source: "l"),
                               imagesSource: "i", labelsSource: "l")
        }
        assertFails("missing.gz: cannot open") { try IDXArray(path: "missing.gz") }
    }

    // MARK: CIFAR-10

    func testCIFAR10RecordsBecomeRowSequencesOf96Values() throws {
        var bytes = [UInt8](repeating: 0, count: 2 * 3073)
        bytes[0] = 6; bytes[3073] = 9
        // Image 0: red pixel (row 1, column 2) = 255, green (row 1, column 2) = 51, blue (row 31, column 31) = 102.
        bytes[1 + 0 * 1024 + 1 * 32 + 2] = 255
        bytes[1 + 1 * 1024 + 1 * 32 + 2] = 51
        bytes[1 + 2 * 1024 + 31 * 32 + 31] = 102
        let batch = try CIFAR10Batch(parsing: bytes, source: "b.bin")
        let data = batch.rowSequences()
        XCTAssertEqual([data.count, data.steps, data.features], [2, 32, 96])
        XCTAssertEqual(data.values[1 * 96 + 0 * 32 + 2], 1)        // step 1 (row 1), red block
        XCTAssertEqual(data.values[1 * 96 + 1 * 32 + 2], 0.2)      // step 1, green block
        XCTAssertEqual(data.values[31 * 96 + 2 * 32 + 31], 0.4)    // step 31, blue block
        XCTAssertEqual(data.labels, .classes([6, 9], classCount: 10))
        assertFails("b.bin: 3074 bytes is not a whole number of 3,073-byte CIFAR-10 records") { try CIFAR10Batch(parsing: [UInt8](repeating: 0, count: 3074), source: "b.bin") }
        assertFails("record 0 has label 10") { try CIFAR10Batch(parsing: [10] + [UInt8](repeating: 0, count: 3072), source: "b.bin") }
        assertFails("empty file") { try CIFAR10Batch(parsing: [], source: "b.bin") }
    }

    // MARK: .ts (UEA, UCR, Monash)

    let tsClassification = """
        # a comment
        @problemName Tiny
        @timeStamps false
        @univariate false
        @dimensions 2
        @equalLength true
        @seriesLength 3
        @classLabel true up down
        @data
        1,2,3:4,5,6:down
        0.5,0.25,0:-1,-2,-3:up
        """

    func testTSFilesForClassificationAndRegression() throws {
        let data = try parseTSFile(tsClassification, source: "t.ts")
        XCTAssertEqual([data.count, data.steps, data.features], [2, 3, 2])
        XCTAssertEqual(Array(data.values[0..<6]), [1, 4, 2, 5, 3, 6], "step by step, the dimensions side by side")
        XCTAssertEqual(data.labels, .classes([1, 0], classCount: 2))
        let regression = try parseTSFile("@problemName R\n@targetLabel true\n@data\n1,2:0.5\n3,4:1.5\n", source: "r.ts")
        XCTAssertEqual([regression.count, regression.steps, regression.features], [2, 2, 1])
        XCTAssertEqual(regression.labels, .targets([0.5, 1.5], width: 1))
    }

    func testBadTSFilesAreNamedWithTheirLine() {
        assertFails("t.ts: no @data line") { try parseTSFile("@problemName x\n", source: "t.ts") }
        assertFails("line 2: the header declares neither") { try parseTSFile("@problemName x\n@data\n1:a\n", source: "t.ts") }
        assertFails("line 3: dimension 2 has 2 values, dimension 1 has 3") { try parseTSFile("@classLabel true a\n@data\n1,2,3:4,5:a\n", source: "t.ts") }
        assertFails("line 4: series of 2 values, earlier cases have 3") { try parseTSFile("@classLabel true a\n@data\n1,2,3:a\n1,2:a\n", source: "t.ts") }
        assertFails("line 3: dimension 1 has a missing value") { try parseTSFile("@classLabel true a\n@data\n1,?,3:a\n", source: "t.ts") }
        assertFails("class \"b\" is not among") { try parseTSFile("@classLabel true a\n@data\n1,2:b\n", source: "t.ts") }
        assertFails("\"x1\" is not a finite number") { try parseTSFile("@classLabel true a\n@data\n1,x1:a\n", source: "t.ts") }
        assertFails("2 dimensions, the header declares 3") { try parseTSFile("@dimensions 3\n@classLabel true a\n@data\n1:2:a\n", source: "t.ts") }
        assertFails("series with time stamps are not supported") { try parseTSFile("@timeStamps true\n@classLabel true a\n@data\n", source: "t.ts") }
        assertFails("expected a header line") { try parseTSFile("1,2:a\n", source: "t.ts") }
        assertFails("no cases after @data") { try parseTSFile("@classLabel true a\n@data\n", source: "t.ts") }
    }

    // MARK: NumPy

    func npy(_ descr: String, _ shape: String, _ data: [UInt8], fortran: Bool = false) -> [UInt8] {
        var header = "{'descr': '\(descr)', 'fortran_order': \(fortran ? "True" : "False"), 'shape': \(shape), }"
        while (10 + header.utf8.count + 1) % 64 != 0 { header += " " }
        header += "\n"
        let n = header.utf8.count
        return [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(n & 255), UInt8(n >> 8)] + Array(header.utf8) + data
    }

    func floats(_ values: [Float]) -> [UInt8] { values.flatMap { withUnsafeBytes(of: $0.bitPattern.littleEndian, Array.init) } }
    func int64s(_ values: [Int64]) -> [UInt8] { values.flatMap { withUnsafeBytes(of: $0.littleEndian, Array.init) } }

    func testNPYAndNPZArraysBecomeSequences() throws {
        let x = try NumPyArray(parsing: npy("<f4", "(2, 3, 1)", floats([1, 2, 3, 4, 5, 6])), source: "x.npy")
        XCTAssertEqual(x.shape, [2, 3, 1])
        let y = try NumPyArray(parsing: npy("<i8", "(2,)", int64s([1, 0])), source: "y.npy")
        let data = try numPySequences(x: x, y: y, xSource: "x.npy", ySource: "y.npy", regression: false)
        XCTAssertEqual([data.count, data.steps, data.features], [2, 3, 1])
        XCTAssertEqual(data.labels, .classes([1, 0], classCount: 2))
        let targets = try numPySequences(x: x, y: NumPyArray(parsing: npy("<f8", "(2, 1)", [0, 0, 0, 0, 0, 0, 0xF0, 0x3F] + [UInt8](repeating: 0, count: 8)), source: "y"),
                                         xSource: "x", ySource: "y", regression: false)
        XCTAssertEqual(targets.labels, .targets([1, 0], width: 1), "y of shape [N, K] is regression")
        // The two arrays in an .npz (a zip, as numpy.savez writes it).
        let archive = try Archive(data: Data(), accessMode: .create)
        for (name, bytes) in [("x.npy", npy("<f4", "(2, 3, 1)", floats([1, 2, 3, 4, 5, 6]))), ("y.npy", npy("<i8", "(2,)", int64s([1, 0])))] {
            try archive.addEntry(with: name, type: .file, uncompressedSize: Int64(bytes.count), provider: { position, size in
                Data(bytes[Int(position) ..< Int(position) + size])
            })
        }
        let dir = directory()
        try archive.data!.write(to: URL(fileURLWithPath: dir + "/d.npz"))
        let arrays = try readNumPyArchive(path: dir + "/d.npz")
        XCTAssertEqual(arrays["x"], x)
        XCTAssertEqual(arrays["y"], y)
    }

    func testBadNumPyFilesAreNamedAndExplained() {
        assertFails("a.npy: not a NumPy .npy file") { try NumPyArray(parsing: Array("hello world".utf8), source: "a.npy") }
        assertFails("Fortran order") { try NumPyArray(parsing: self.npy("<f4", "(1,)", self.floats([1]), fortran: true), source: "a") }
        assertFails("dtype '>f4' is not supported") { try NumPyArray(parsing: self.npy(">f4", "(1,)", self.floats([1])), source: "a") }
        assertFails("truncated: 4 bytes of data for 2 elements") { try NumPyArray(parsing: self.npy("<f4", "(2,)", self.floats([1])), source: "a") }
        assertFails("4 bytes after the 1 elements") { try NumPyArray(parsing: self.npy("<f4", "(1,)", self.floats([1, 2])), source: "a") }
        let dir = directory()
        FileManager.default.createFile(atPath: dir + "/d.npz", contents: Data("PK not a zip".utf8))
        assertFails("d.npz: not a NumPy .npz file") { try readNumPyArchive(path: dir + "/d.npz") }
        assertFails("none.npz: cannot open") { try readNumPyArchive(path: dir + "/none.npz") }
        assertFails("x must be [N, T, F] or [N, T]") {
            try numPySequences(x: NumPyArray(parsing: self.npy("<f4", "(2,)", self.floats([1, 2])), source: "x"), y: NumPyArray(parsing: self.npy("<f4", "(2,)", self.floats([0, 1])), source: "y"),
                               xSource: "x", ySource: "y", regression: false)
        }
        assertFails("y[1] = 0.5 is not a class") {
            try numPySequences(x: NumPyArray(parsing: self.npy("<f4", "(2, 1)", self.floats([1, 2])), source: "x"), y: NumPyArray(parsing: self.npy("<f4", "(2,)", self.floats([0, 0.5])), source: "y"),
                               xSource: "x", ySource: "y", regression: false)
        }
    }

    /// Targets at every step (`y` [N, T, K]) and the readers of unlabelled data (`seq predict`),
    /// with their bad inputs; the `.npz` writer read back.
    func testTargetsAtEveryStepUnlabelledDataAndTheWriter() throws {
        let x = NumPyArray(shape: [2, 3, 1], values: [1, 2, 3, 4, 5, 6])
        let steps = try numPySequences(x: x, y: NumPyArray(shape: [2, 3, 1], values: [2, 3, 4, 5, 6, 7]), xSource: "x", ySource: "y", regression: false)
        XCTAssertEqual(steps.labels, .stepTargets([2, 3, 4, 5, 6, 7], width: 1))
        XCTAssertEqual(steps.subset([1]).labels, .stepTargets([5, 6, 7], width: 1))
        assertFails("targets at every step must be [2, 3, K] to match x") {
            try numPySequences(x: x, y: NumPyArray(shape: [2, 4, 1], values: [Float](repeating: 0, count: 8)), xSource: "x", ySource: "y", regression: false)
        }
        assertFails("y holds a target that is not finite") {
            try numPySequences(x: x, y: NumPyArray(shape: [2, 3, 1], values: [0, 0, .nan, 0, 0, 0]), xSource: "x", ySource: "y", regression: false)
        }
        let dir = directory()
        try writeNumPyArchive(steps.numPyArrays(), to: dir + "/s.npz")
        XCTAssertEqual(try readSequenceFile(dir + "/s.npz"), steps, "written and read back")

        XCTAssertEqual(try unlabelledNumPySequences(x: x, source: "x").values, x.values)
        assertFails("x must be [N, T, F] or [N, T]") { try unlabelledNumPySequences(x: NumPyArray(shape: [2], values: [1, 2]), source: "x") }
        assertFails("x holds a value that is not finite") { try unlabelledNumPySequences(x: NumPyArray(shape: [1, 2], values: [1, .infinity]), source: "x") }

        let csv = try parseUnlabelledCSV("1,2,3,4\n# a comment\nlabel,5,6,7,8\n", source: "u.csv", features: 2, labelledSteps: 2)
        XCTAssertEqual([csv.count, csv.steps, csv.features], [2, 2, 2])
        XCTAssertEqual(csv.values, [1, 2, 3, 4, 5, 6, 7, 8], "the leading label of a line one field longer is skipped")
        assertFails("u.csv: line 1: 3 values is not a whole number of steps of 2 features") { try parseUnlabelledCSV("1,2,3\n", source: "u.csv", features: 2, labelledSteps: nil) }
        assertFails("u.csv: line 2: 1 steps, the first sequence has 2") { try parseUnlabelledCSV("1,2,3,4\n5,6\n", source: "u.csv", features: 2, labelledSteps: nil) }
        assertFails("u.csv: line 1: a value is not a finite number") { try parseUnlabelledCSV("1,x\n", source: "u.csv", features: 1, labelledSteps: nil) }
        assertFails("u.csv: no sequences") { try parseUnlabelledCSV("# nothing\n", source: "u.csv", features: 1, labelledSteps: nil) }

        // .ts values are scanned on their bytes: spaces, exponents and CRLF line ends are numbers,
        // "inf" and hexadecimal are not.
        let ts = try parseTSFile("@classLabel true a b\r\n@data\r\n 1.5e1 , -2 :a\r\n3,4:b\r\n", source: "t.ts")
        XCTAssertEqual(ts.values, [15, -2, 3, 4])
        assertFails("t.ts: line 3: dimension 1: \"inf\" is not a finite number") { try parseTSFile("@classLabel true a\n@data\n1,inf:a\n", source: "t.ts") }
        assertFails("t.ts: line 3: dimension 1: \"0x1p3\" is not a finite number") { try parseTSFile("@classLabel true a\n@data\n0x1p3:a\n", source: "t.ts") }
    }

    // MARK: CSV

    /// A validation file that names its classes in another order is numbered as training's.
    func testClassesAreRenumberedByName() throws {
        let valid = try parseCSVSequences("dog,1\ncat,2\n", source: "v.csv", features: 1, regression: false)
        XCTAssertEqual(valid.labels, .classes([0, 1], classCount: 2))
        let renumbered = try valid.renumbered(to: ["cat", "dog"], source: "v.csv")
        XCTAssertEqual(renumbered.labels, .classes([1, 0], classCount: 2))
        XCTAssertEqual(renumbered.classNames, ["cat", "dog"])
        assertFails("v.csv: class \"dog\" is not among the training classes [\"cat\"]") { try valid.renumbered(to: ["cat"], source: "v.csv") }
    }

    func testCSVSequences() throws {
        let data = try parseCSVSequences("# label, then steps of 2 features\ncat,1,2,3,4\ndog,5,6,7,8\ncat,0,0,0,0\n", source: "s.csv", features: 2, regression: false)
        XCTAssertEqual([data.count, data.steps, data.features], [3, 2, 2])
        XCTAssertEqual(data.labels, .classes([0, 1, 0], classCount: 2))
        let targets = try parseCSVSequences("0.5,1,2\n1.5,3,4\n", source: "r.csv", features: 1, regression: true)
        XCTAssertEqual(targets.labels, .targets([0.5, 1.5], width: 1))
        assertFails("s.csv: line 2: 3 steps, earlier lines have 2") { try parseCSVSequences("a,1,2\nb,1,2,3\n", source: "s.csv", features: 1, regression: false) }
        assertFails("line 1: 3 values after the label, not a whole number of steps of 2 features") { try parseCSVSequences("a,1,2,3\n", source: "s.csv", features: 2, regression: false) }
        assertFails("line 1, value 2: \"nan\" is not a finite number") { try parseCSVSequences("a,1,nan\n", source: "s.csv", features: 1, regression: false) }
        assertFails("no sequences") { try parseCSVSequences("# only a comment\n", source: "s.csv", features: 1, regression: false) }
    }
}
