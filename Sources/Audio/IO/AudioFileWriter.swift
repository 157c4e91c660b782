// Writing a recording block by block: a stream of any length in bounded memory.

@preconcurrency import Glibc
import CSndFile

/// A mono audio file written block by block with libsndfile (16-bit WAV unless told otherwise).
///
/// The samples go to `path.partial`, renamed to `path` by `finish()`: a run that stops half way
/// leaves no file that looks complete under the name asked for.
public final class AudioFileWriter {
    public let path: String
    public let sampleRate: Int
    public private(set) var framesWritten = 0
    private var handle: OpaquePointer?
    private var partial: String { path + ".partial" }

    public init(path: String, sampleRate: Int, format: AudioSampleFormat = .pcm16, container: AudioContainer = .wav) throws {
        (self.path, self.sampleRate) = (path, sampleRate)
        guard sampleRate > 0 else { throw AudioError(source: path, problem: "cannot write at \(sampleRate) Hz") }
        var info = SF_INFO()
        info.samplerate = Int32(sampleRate)
        info.channels = 1
        info.format = container.sndfileType | (container == .oggVorbis ? Int32(SF_FORMAT_VORBIS) : format.sndfileSubtype)
        guard sf_format_check(&info) != 0 else { throw AudioError(source: path, problem: "libsndfile cannot write \(format) samples in \(container)") }
        let (opened, openError) = openSoundFile(path + ".partial", mode: Int32(SFM_WRITE), info: &info)
        guard let opened else { throw AudioError(source: path, problem: "cannot create the file: \(openError)") }
        sf_command(opened, Int32(SFC_SET_CLIPPING), nil, Int32(SF_TRUE))
        handle = opened
    }

    /// Appends samples (nominally in [−1, 1]; integer formats clip rather than wrap).
    public func write(_ samples: [Float]) throws {
        guard let handle else { throw AudioError(source: path, problem: "already finished") }
        let written = samples.withUnsafeBufferPointer { sf_writef_float(handle, $0.baseAddress, sf_count_t($0.count)) }
        guard written == samples.count else {
            throw AudioError(source: path, problem: "wrote \(written) of \(samples.count) frames: \(String(cString: sf_strerror(handle)))")
        }
        framesWritten += samples.count
    }

    /// Closes the file and gives it its name.
    public func finish() throws {
        guard let handle else { return }
        self.handle = nil
        let status = sf_close(handle)
        guard status == 0 else { throw AudioError(source: path, problem: "closing the file failed: \(String(cString: sf_error_number(status)))") }
        guard rename(partial, path) == 0 else {
            throw AudioError(source: path, problem: "cannot rename \(partial) to it: \(String(cString: strerror(errno)))")
        }
    }

    deinit {
        if let handle {   // never finished: an error stopped the run
            sf_close(handle)
            unlink(partial)
        }
    }
}

/// Writes samples to standard output as raw 16-bit little-endian PCM (what `kws listen -` and
/// `kws eval-stream -` read), clipped to [−1, 1] and scaled as libsndfile writes a 16-bit WAV
/// (×32767, to nearest), so that the pipe carries the samples the file would.
public func writeRawPCM16ToStandardOutput(_ samples: [Float]) throws {
    var bytes = [UInt8](repeating: 0, count: samples.count * 2)
    for (i, x) in samples.enumerated() {
        let v = x.isFinite ? Int16(max(-32767, min(32767, (Double(x) * 32767).rounded(.toNearestOrEven)))) : 0
        let u = UInt16(bitPattern: v)
        bytes[2 * i] = UInt8(u & 0xFF)
        bytes[2 * i + 1] = UInt8(u >> 8)
    }
    var done = 0
    try bytes.withUnsafeBytes { raw in
        while done < raw.count {
            let n = Glibc.write(1, raw.baseAddress! + done, raw.count - done)
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw AudioError(source: "standard output", problem: "wrote \(done) of \(raw.count) bytes (\(String(cString: strerror(errno))))") }
            done += n
        }
    }
}
