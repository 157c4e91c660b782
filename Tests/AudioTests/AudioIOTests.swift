import Dispatch
import Foundation
import XCTest
@testable import Audio

/// Temporary directory removed at the end of a test.
final class TemporaryDirectory {
    let path: String
    init() {
        path = NSTemporaryDirectory() + "audiotests-" + UUID().uuidString
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }
    deinit { try? FileManager.default.removeItem(atPath: path) }
    func file(_ name: String) -> String { path + "/" + name }
}

func sine(frequency: Double, sampleRate: Int, count: Int, amplitude: Double = 0.5) -> [Float] {
    (0..<count).map { Float(amplitude * sin(2 * Double.pi * frequency * Double($0) / Double(sampleRate))) }
}

/// Sign changes of a signal (a pure tone of f Hz has 2·f per second).
func zeroCrossings(_ x: [Float]) -> Int {
    var count = 0
    for i in 1..<x.count where (x[i - 1] < 0) != (x[i] < 0) { count += 1 }
    return count
}

final class AudioIOTests: XCTestCase {
    /// The WAV `fmt ` chunk as written: (format tag, channels, sample rate, bits per sample).
    func wavFormat(_ path: String) throws -> (tag: Int, channels: Int, rate: Int, bits: Int) {
        let b = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        var offset = 12
        while offset + 8 <= b.count {
            let id = String(decoding: b[offset..<(offset + 4)], as: UTF8.self)
            let size = Int(b[offset + 4]) | Int(b[offset + 5]) << 8 | Int(b[offset + 6]) << 16 | Int(b[offset + 7]) << 24
            if id == "fmt " {
                let f = offset + 8
                func u16(_ i: Int) -> Int { Int(b[f + i]) | Int(b[f + i + 1]) << 8 }
                return (u16(0), u16(2), u16(4) | u16(6) << 16, u16(14))
            }
            offset += 8 + size + (size & 1)
        }
        throw AudioError(source: path, problem: "no fmt chunk")
    }

    func assertClose(_ a: [Float], _ b: [Float], _ tolerance: Float, _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.count, b.count, what, file: file, line: line)
        var worst: Float = 0
        for i in 0..<min(a.count, b.count) { worst = max(worst, abs(a[i] - b[i])) }
        XCTAssertLessThanOrEqual(worst, tolerance, "\(what): max |diff| \(worst)", file: file, line: line)
    }

    func testWAVSubformatsReadBack() throws {
        let dir = TemporaryDirectory()
        let x = sine(frequency: 1000, sampleRate: 16000, count: 1600)
        // (format, expected WAV format tag, bits, max quantisation error)
        let cases: [(AudioSampleFormat, Int, Int, Float)] = [
            (.pcmU8, 1, 8, 1.5 / 128), (.pcm16, 1, 16, 1.5 / 32768), (.pcm24, 1, 24, 1e-6),
            (.pcm32, 1, 32, 1e-6), (.float32, 3, 32, 0), (.float64, 3, 64, 1e-7),
        ]
        for (format, tag, bits, tolerance) in cases {
            let path = dir.file("\(format).wav")
            try writeAudio(path: path, interleaved: x, channels: 1, sampleRate: 16000, format: format)
            let header = try wavFormat(path)
            XCTAssertEqual(header.tag, tag, "\(format)")
            XCTAssertEqual(header.bits, bits, "\(format)")
            XCTAssertEqual(header.rate, 16000)
            let clip = try readAudio(path: path)
            XCTAssertEqual(clip.sampleRate, 16000)
            XCTAssertEqual(clip.channels, 1)
            XCTAssertEqual(clip.frames, 1600)
            assertClose(clip.samples, x, tolerance, "\(format)")
            XCTAssert(clip.samples.allSatisfy { $0 >= -1 && $0 < 1 }, "\(format): outside [-1, 1)")
        }
        // writeWAV is 16-bit PCM.
        try writeWAV(path: dir.file("w.wav"), samples: x, sampleRate: 8000)
        let header = try wavFormat(dir.file("w.wav"))
        XCTAssertEqual([header.tag, header.channels, header.rate, header.bits], [1, 1, 8000, 16])
    }

    func testOtherContainers() throws {
        let dir = TemporaryDirectory()
        let x = sine(frequency: 300, sampleRate: 16000, count: 4000)
        for (container, format) in [(AudioContainer.aiff, AudioSampleFormat.pcm16), (.flac, .pcm16), (.flac, .pcm24)] {
            let path = dir.file("x.\(container)")
            try writeAudio(path: path, interleaved: x, channels: 1, sampleRate: 16000, format: format, container: container)
            let clip = try readAudio(path: path)
            XCTAssertEqual(clip.frames, 4000, "\(container)")
            assertClose(clip.samples, x, 1.5 / 32768, "\(container) \(format)")
        }
    }

    func testStereoIsMixedDownByAveraging() throws {
        let dir = TemporaryDirectory()
        let left = sine(frequency: 500, sampleRate: 16000, count: 800, amplitude: 0.5)
        let right = sine(frequency: 700, sampleRate: 16000, count: 800, amplitude: 0.25)
        var interleaved = [Float]()
        for i in 0..<800 { interleaved += [left[i], right[i]] }
        let path = dir.file("stereo.wav")
        try writeAudio(path: path, interleaved: interleaved, channels: 2, sampleRate: 16000, format: .float32)
        XCTAssertEqual(try wavFormat(path).channels, 2)
        let clip = try readAudio(path: path)
        XCTAssertEqual(clip.channels, 2)
        XCTAssertEqual(clip.frames, 800)
        assertClose(clip.samples, (0..<800).map { (left[$0] + right[$0]) / 2 }, 1e-7, "mixdown")
    }

    /// A 440 Hz tone recorded at 44.1 kHz keeps its pitch and level after conversion to 16 kHz.
    func testResampled44100KeepsFrequency() throws {
        let dir = TemporaryDirectory()
        let path = dir.file("a440.wav")
        try writeWAV(path: path, samples: sine(frequency: 440, sampleRate: 44100, count: 44100), sampleRate: 44100)
        let clip = try readAudio(path: path)
        XCTAssertEqual(clip.sampleRate, 44100)
        let resampled = try resample(clip.samples, from: 44100, to: 16000)
        XCTAssertEqual(Double(resampled.count), 16000, accuracy: 2)
        let fitted = try loadClip(path: path)
        XCTAssertEqual(fitted.count, 16000)
        let crossings = zeroCrossings(Array(fitted[100..<15900]))  // 0.9875 s away from the edges
        XCTAssertEqual(Double(crossings), 2 * 440 * 15800 / 16000, accuracy: 3, "zero crossings")
        // Goertzel power at 440 Hz dominates 400 and 480 Hz, and the RMS is the tone's 0.5/√2.
        func power(_ f: Double) -> Double {
            var re = 0.0, im = 0.0
            for (i, v) in fitted[100..<15900].enumerated() {
                re += Double(v) * cos(2 * .pi * f * Double(i) / 16000)
                im += Double(v) * sin(2 * .pi * f * Double(i) / 16000)
            }
            return re * re + im * im
        }
        XCTAssertGreaterThan(power(440), 1000 * power(400))
        XCTAssertGreaterThan(power(440), 1000 * power(480))
        let rms = (fitted[100..<15900].reduce(0.0) { $0 + Double($1 * $1) } / 15800).squareRoot()
        XCTAssertEqual(rms, 0.5 / 2.0.squareRoot(), accuracy: 0.005)
        // Upsampling too, and the identity.
        XCTAssertEqual(Double(try resample(Array(repeating: 0.1, count: 8000), from: 8000, to: 16000).count), 16000, accuracy: 2)
        XCTAssertEqual(try resample([1, 2, 3], from: 16000, to: 16000), [1, 2, 3])
        XCTAssertThrowsError(try resample([1], from: 0, to: 16000))
        XCTAssertThrowsError(try resample([1], from: 16000, to: 16000 * 1000))
    }

    func testFitToLength() {
        XCTAssertEqual(fitToLength([1, 2, 3], length: 5), [1, 2, 3, 0, 0])
        XCTAssertEqual(fitToLength([1, 2, 3], length: 2), [1, 2])
        XCTAssertEqual(fitToLength([1, 2, 3], length: 3), [1, 2, 3])
        XCTAssertEqual(fitToLength([], length: 2), [0, 0])
    }

    func assertAudioError(_ path: String, _ phrase: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try readAudio(path: path), file: file, line: line) { error in
            let text = "\(error)"
            XCTAssert(error is AudioError, "not an AudioError: \(text)", file: file, line: line)
            XCTAssert(text.hasPrefix(path + ": "), "error does not start with the path: \(text)", file: file, line: line)
            XCTAssert(text.contains(phrase), "expected \"\(phrase)\" in: \(text)", file: file, line: line)
        }
        XCTAssertThrowsError(try loadClip(path: path), file: file, line: line)
    }

    func testBadFilesGiveClearErrors() throws {
        let dir = TemporaryDirectory()
        let good = dir.file("good.wav")
        try writeWAV(path: good, samples: sine(frequency: 300, sampleRate: 16000, count: 16000), sampleRate: 16000)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: good))

        // Truncated data chunk: libsndfile itself opens this without complaint.
        try bytes.prefix(1000).write(to: URL(fileURLWithPath: dir.file("truncated.wav")))
        assertAudioError(dir.file("truncated.wav"), "truncated: the WAV data chunk declares 32000 bytes but only 956 are in the file")
        // Cut inside the header.
        try bytes.prefix(30).write(to: URL(fileURLWithPath: dir.file("header.wav")))
        assertAudioError(dir.file("header.wav"), "libsndfile")
        // Truncated AIFF.
        try writeAudio(path: dir.file("a.aiff"), interleaved: sine(frequency: 300, sampleRate: 16000, count: 4000),
                       channels: 1, sampleRate: 16000, format: .pcm16, container: .aiff)
        let aiff = try Data(contentsOf: URL(fileURLWithPath: dir.file("a.aiff")))
        try aiff.prefix(aiff.count - 1000).write(to: URL(fileURLWithPath: dir.file("cut.aiff")))
        assertAudioError(dir.file("cut.aiff"), "truncated: the AIFF SSND chunk")
        // Empty file, zero-length audio, text, missing, directory.
        _ = FileManager.default.createFile(atPath: dir.file("empty.wav"), contents: Data())
        assertAudioError(dir.file("empty.wav"), "empty file (0 bytes)")
        try writeWAV(path: dir.file("zero.wav"), samples: [], sampleRate: 16000)
        assertAudioError(dir.file("zero.wav"), "contains no audio (zero-length")
        try Data("hello, this is not audio\n".utf8).write(to: URL(fileURLWithPath: dir.file("text.wav")))
        assertAudioError(dir.file("text.wav"), "not an audio file libsndfile can read")
        assertAudioError(dir.file("missing.wav"), "no such file")
        assertAudioError(dir.path, "is a directory")
        // A float WAV holding a NaN.
        try writeAudio(path: dir.file("nan.wav"), interleaved: [0, .nan, 0], channels: 1, sampleRate: 16000, format: .float32)
        assertAudioError(dir.file("nan.wav"), "not a finite number")
        // Odd but complete files still read: a trailing junk chunk after the data.
        var junk = bytes
        junk.append(contentsOf: Array("LIST".utf8) + [4, 0, 0, 0] + Array("abcd".utf8))
        try junk.write(to: URL(fileURLWithPath: dir.file("junk.wav")))
        XCTAssertEqual(try readAudio(path: dir.file("junk.wav")).frames, 16000)
        // Writing to a folder that does not exist names the path.
        XCTAssertThrowsError(try writeWAV(path: dir.file("no/such/dir.wav"), samples: [0], sampleRate: 16000)) {
            XCTAssert("\($0)".hasPrefix(self.dirPrefix(dir) + "no/such/dir.wav: "), "\($0)")
        }
    }

    func dirPrefix(_ dir: TemporaryDirectory) -> String { dir.path + "/" }

    /// Opening is serialised, so concurrent failures report their own file's problem
    /// (libsndfile's nil-handle error is global state).
    func testConcurrentReadsReportTheirOwnErrors() throws {
        let dir = TemporaryDirectory()
        try writeWAV(path: dir.file("ok.wav"), samples: sine(frequency: 300, sampleRate: 16000, count: 400), sampleRate: 16000)
        try Data("not audio at all".utf8).write(to: URL(fileURLWithPath: dir.file("text.wav")))
        let paths = [dir.file("ok.wav"), dir.file("text.wav"), dir.file("missing.wav")]
        let results = UnsafeMutableBufferPointer<String>.allocate(capacity: 300)
        results.initialize(repeating: "")
        defer { results.deallocate() }
        let out = ResultsBox(results)
        DispatchQueue.concurrentPerform(iterations: 300) { i in
            do { out.buffer[i] = "ok \(try readAudio(path: paths[i % 3]).frames)" } catch { out.buffer[i] = "\(error)" }
        }
        for i in 0..<300 {
            switch i % 3 {
            case 0: XCTAssertEqual(results[i], "ok 400")
            case 1: XCTAssert(results[i].contains("not an audio file libsndfile can read"), results[i])
            default: XCTAssert(results[i].hasSuffix("missing.wav: no such file"), results[i])
            }
        }
    }
}

struct ResultsBox: @unchecked Sendable {
    let buffer: UnsafeMutableBufferPointer<String>
    init(_ buffer: UnsafeMutableBufferPointer<String>) { self.buffer = buffer }
}
