// Reading long recordings piece by piece: bounded memory whatever the file's length.

@preconcurrency import Glibc
import CSndFile

/// A recording read block by block: mono, resampled to `outputRate`, never held whole.
///
/// Opens and validates like `readAudio` (missing, empty, not audio, zero-length, truncated WAV or
/// AIFF containers: errors name the file), then `read(maximum:)` hands out consecutive samples.
/// Resampling keeps one `Resampler` (the converter `resample` uses) across blocks, so a one-hour
/// 44.1 kHz file needs only the current block in memory.
public final class AudioStream {
    public let path: String
    public let sourceRate: Int
    public let channels: Int
    /// Frames the file announces (at `sourceRate`).
    public let frames: Int
    public let outputRate: Int
    private let handle: OpaquePointer
    private var resampler: Resampler?
    private var framesRead = 0
    private var inputBlock: [Float] = []        // interleaved frames from libsndfile
    private var monoBlock: [Float] = []
    private var resampleInput: [Float] = []     // mono samples not yet consumed by the resampler
    private var finished = false

    public var duration: Double { Double(frames) / Double(sourceRate) }

    /// Opens `path`; samples come out at `outputRate`, or at the file's own rate when nil.
    public init(path: String, outputRate: Int? = nil) throws {
        func fail(_ problem: String) -> AudioError { AudioError(source: path, problem: problem) }
        var status = stat()
        guard stat(path, &status) == 0 else { throw fail(errno == ENOENT ? "no such file" : "cannot access the file (\(String(cString: strerror(errno))))") }
        if (status.st_mode & S_IFMT) == S_IFDIR { throw fail("is a directory, not an audio file") }
        guard (status.st_mode & S_IFMT) == S_IFREG else { throw fail("is not a regular file") }
        guard status.st_size > 0 else { throw fail("empty file (0 bytes)") }
        if let outputRate, outputRate <= 0 { throw fail("output rate must be positive") }
        var info = SF_INFO()
        let (opened, openError) = openSoundFile(path, mode: Int32(SFM_READ), info: &info)
        guard let handle = opened else {
            throw fail(openError.contains("Format not recognised") ? "not an audio file libsndfile can read (\(openError))" : "libsndfile cannot open it: \(openError)")
        }
        self.handle = handle
        self.path = path
        channels = Int(info.channels)
        sourceRate = Int(info.samplerate)
        frames = Int(info.frames)
        self.outputRate = outputRate ?? Int(info.samplerate)
        guard channels > 0, channels <= 1024 else { sf_close(handle); throw fail("reports \(channels) channels") }
        guard sourceRate > 0 else { sf_close(handle); throw fail("reports a sample rate of \(sourceRate) Hz") }
        guard frames > 0 else { sf_close(handle); throw fail("contains no audio (zero-length: 0 frames)") }
        if let problem = checkContainerIsComplete(path: path, fileSize: Int(status.st_size)) { sf_close(handle); throw fail(problem) }
        if sourceRate != self.outputRate {
            guard let converter = try? Resampler(from: sourceRate, to: self.outputRate, source: path) else {
                sf_close(handle)
                throw fail("cannot resample \(sourceRate) Hz to \(self.outputRate) Hz")
            }
            resampler = converter
        }
    }

    deinit { sf_close(handle) }

    /// Up to `count` further mono samples at `outputRate`; an empty array once the file is done.
    public func read(maximum count: Int) throws -> [Float] {
        guard count > 0, !finished else { return [] }
        guard let resampler else {
            let mono = try readMono(count)
            if mono.isEmpty { finished = true }
            return mono
        }
        let ratio = resampler.ratio
        var out = [Float](repeating: 0, count: count)
        var produced = 0
        while produced < count {
            if resampleInput.count < 4096 && framesRead < frames {
                resampleInput += try readMono(max(4096, Int(Double(count) / ratio) + 64))
            }
            let endOfInput = framesRead >= frames
            let (used, generated) = try resampleInput.withUnsafeBufferPointer { input in
                try out.withUnsafeMutableBufferPointer {
                    try resampler.process(input, into: $0.baseAddress! + produced, capacity: count - produced, endOfInput: endOfInput)
                }
            }
            resampleInput.removeFirst(used)
            produced += generated
            if endOfInput && generated == 0 { finished = true; break }
        }
        out.removeSubrange(produced...)
        return out
    }

    /// Up to `count` frames from the file, mixed to mono; checks that the file delivers what it announced.
    private func readMono(_ count: Int) throws -> [Float] {
        let want = min(count, frames - framesRead)
        guard want > 0 else { return [] }
        if inputBlock.count < want * channels { inputBlock = [Float](repeating: 0, count: want * channels) }
        let got = inputBlock.withUnsafeMutableBufferPointer { Int(sf_readf_float(handle, $0.baseAddress!, sf_count_t(want))) }
        if sf_error(handle) != 0 {
            throw AudioError(source: path, problem: "decoding failed after \(framesRead) of \(frames) frames: \(String(cString: sf_strerror(handle)))")
        }
        guard got == want else {
            throw AudioError(source: path, problem: "truncated: only \(framesRead + max(got, 0)) of the \(frames) frames the header announces could be read")
        }
        framesRead += got
        monoBlock = [Float](repeating: 0, count: got)
        let scale = 1 / Float(channels)
        for f in 0..<got {
            var sum: Float = 0
            for c in 0..<channels { sum += inputBlock[f * channels + c] }
            let v = sum * scale
            guard v.isFinite else { throw AudioError(source: path, problem: "sample \(framesRead - got + f) is not a finite number; the file is corrupt") }
            monoBlock[f] = v
        }
        return monoBlock
    }
}
