// Reading and writing audio files with libsndfile.
//
// Everything the keyword spotter reads goes through `readAudio(path:)`: any format libsndfile
// opens (WAV PCM 8/16/24/32-bit, float, AIFF, FLAC, OGG, …), returned as mono Float samples
// (libsndfile's default normalisation: integer PCM / 2^(bits−1), so 16-bit data lies in [−1, 1)).
// Failures are `AudioError`s naming the file; nothing here traps on bad input.

@preconcurrency import Glibc
import CSndFile
import Synchronization

// MARK: - Public types

/// A decoded audio file.
public struct AudioClip: Sendable, Equatable {
    /// Mono samples: the average of all channels. Integer PCM is scaled by libsndfile to [−1, 1);
    /// float files are returned as stored (values outside [−1, 1] are kept).
    public var samples: [Float]
    /// Sample rate of the file in Hz (no resampling is done here; see `resample(_:from:to:)`).
    public var sampleRate: Int
    /// Number of channels in the file (before the mixdown to mono).
    public var channels: Int
    /// Number of frames (samples per channel) in the file; equals `samples.count`.
    public var frames: Int

    public init(samples: [Float], sampleRate: Int, channels: Int, frames: Int) {
        self.samples = samples
        self.sampleRate = sampleRate
        self.channels = channels
        self.frames = frames
    }

    /// Duration in seconds.
    public var duration: Double { sampleRate > 0 ? Double(frames) / Double(sampleRate) : 0 }
}

/// A failure to read, write or convert audio. `description` is `"<source>: <problem>"`, where
/// `source` is the file path (or the operation, e.g. `"resample"`), e.g.
/// `"/data/yes/a.wav: truncated: the WAV data chunk declares 32000 bytes but only 956 are in the file"`.
public struct AudioError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The file path, or the name of the operation for errors that have no file.
    public let source: String
    /// What went wrong, in plain words.
    public let problem: String

    public init(source: String, problem: String) {
        self.source = source
        self.problem = problem
    }

    public var description: String { "\(source): \(problem)" }
}

/// File containers `writeAudio` can produce.
public enum AudioContainer: String, Sendable, CaseIterable {
    /// RIFF WAVE.
    case wav
    /// Apple/SGI AIFF (big-endian).
    case aiff
    /// FLAC (lossless compressed; PCM 8/16/24-bit only).
    case flac
    /// Ogg Vorbis (lossy; the sample format is ignored).
    case oggVorbis

    var sndfileType: Int32 {
        switch self {
        case .wav: return Int32(SF_FORMAT_WAV)
        case .aiff: return Int32(SF_FORMAT_AIFF)
        case .flac: return Int32(SF_FORMAT_FLAC)
        case .oggVorbis: return Int32(SF_FORMAT_OGG)
        }
    }
}

/// Sample encodings `writeAudio` can produce.
public enum AudioSampleFormat: String, Sendable, CaseIterable {
    /// 8-bit unsigned PCM (the only 8-bit PCM WAV allows; use `.pcmS8` for AIFF and FLAC).
    case pcmU8
    /// 8-bit signed PCM.
    case pcmS8
    /// 16-bit signed PCM (Speech Commands' format).
    case pcm16
    /// 24-bit signed PCM.
    case pcm24
    /// 32-bit signed PCM.
    case pcm32
    /// 32-bit IEEE float.
    case float32
    /// 64-bit IEEE float.
    case float64

    var sndfileSubtype: Int32 {
        switch self {
        case .pcmU8: return Int32(SF_FORMAT_PCM_U8)
        case .pcmS8: return Int32(SF_FORMAT_PCM_S8)
        case .pcm16: return Int32(SF_FORMAT_PCM_16)
        case .pcm24: return Int32(SF_FORMAT_PCM_24)
        case .pcm32: return Int32(SF_FORMAT_PCM_32)
        case .float32: return Int32(SF_FORMAT_FLOAT)
        case .float64: return Int32(SF_FORMAT_DOUBLE)
        }
    }
}

// MARK: - Reading

/// Rounds samples to the nearest multiple of 2⁻¹⁵ (16-bit PCM), in place.
///
/// Why: the models are trained on 16-bit recordings (Speech Commands), and per-clip log-mel
/// features, whose floor is relative to the clip's loudest bin (`top_db` 80), see the 16-bit
/// quantisation noise in the bands where a clip has no other energy. A float decode of a lossy
/// file (Ogg Vorbis cuts the top of the spectrum) has no such noise, so those bands drop to the
/// floor, up to 31 dB below what the same audio gives as 16-bit PCM, and the classification
/// changes (one test clip: `go 0.52` from the Ogg file against `_unknown_ 0.94` from its 16-bit
/// decode). Rounding every decoded input to the grid its training data lives on removes the
/// difference; 8- and 16-bit sources are unchanged by it (their values are already on the grid).
public func roundToPCM16Grid(_ samples: inout [Float]) {
    for i in samples.indices { samples[i] = (samples[i] * 32768).rounded() * (1 / 32768) }
}

/// `sf_open` with a nil handle reports its failure through libsndfile's *global* error state
/// (`sf_error(nil)` / `sf_strerror(nil)`), so opening a file and reading that state happen under
/// one lock. Reading from an open handle is per-handle and needs no lock, so files can be decoded
/// on several threads at once.
private let libsndfileOpenLock = Mutex<Void>(())

/// Opens `path` with libsndfile, returning the handle or the library's error text.
func openSoundFile(_ path: String, mode: Int32, info: inout SF_INFO) -> (OpaquePointer?, String) {
    libsndfileOpenLock.withLock { _ in
        guard let handle = sf_open(path, mode, &info) else {
            return (nil, String(cString: sf_strerror(nil)))
        }
        return (handle, "")
    }
}

/// Reads an audio file and mixes it down to mono.
///
/// Checks, each reported as an `AudioError` naming `path`:
/// - the path does not exist, is not a regular file, or is empty (0 bytes);
/// - libsndfile cannot open it ("not an audio file libsndfile can read"), or reports another error;
/// - it holds no audio (zero frames, e.g. a WAV whose data chunk is empty);
/// - it is **truncated**: see `checkContainerIsComplete` — libsndfile opens a WAV whose data
///   chunk was cut short without any error and simply reports fewer frames, so the container's
///   declared data size is compared with the bytes actually present;
/// - fewer frames can be decoded than libsndfile announced, or a decoded sample is NaN/infinite.
public func readAudio(path: String) throws -> AudioClip {
    // Read block by block: memory grows with the audio actually decoded, never with what a
    // (possibly lying) header announces.
    let stream = try AudioStream(path: path)
    var mono: [Float] = []
    while true {
        let block = try stream.read(maximum: 1 << 16)
        if block.isEmpty { break }
        mono += block
    }
    return AudioClip(samples: mono, sampleRate: stream.sourceRate, channels: stream.channels, frames: mono.count)
}

/// Detects truncated WAV (RIFF, RIFX, RF64) and AIFF/AIFC files, which libsndfile opens without
/// an error (it logs "data : 32000 (should be 956)" and reports fewer frames; docs/SWIFT_NOTES.md §4).
///
/// Method: walk the container's chunk list ourselves and compare the audio chunk's *declared*
/// size with the bytes that follow it in the file. This is exact and does not depend on the
/// wording of libsndfile's log (`SFC_GET_LOG_INFO` also prints "should be" for harmless things,
/// such as a RIFF size that is off by the pad byte). Declared sizes of 0 and 0xFFFFFFFF are the
/// "unknown length" markers streaming writers use; libsndfile then reads to the end of the file,
/// and so do we. Other formats (FLAC, OGG, …) carry no such size; a cut-off stream there shows up
/// as a decoding error or as fewer frames than announced, which `readAudio` checks separately.
///
/// Returns a description of the problem, or nil when the file is complete or not a RIFF/AIFF file.
func checkContainerIsComplete(path: String, fileSize: Int) -> String? {
    let fd = open(path, O_RDONLY)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    func bytes(at offset: Int, _ count: Int) -> [UInt8]? {
        var out = [UInt8](repeating: 0, count: count)
        let n = out.withUnsafeMutableBytes { pread(fd, $0.baseAddress, count, off_t(offset)) }
        return n == count ? out : nil
    }
    func le32(_ b: [UInt8], _ i: Int) -> Int { Int(b[i]) | Int(b[i + 1]) << 8 | Int(b[i + 2]) << 16 | Int(b[i + 3]) << 24 }
    func be32(_ b: [UInt8], _ i: Int) -> Int { Int(b[i]) << 24 | Int(b[i + 1]) << 16 | Int(b[i + 2]) << 8 | Int(b[i + 3]) }
    func le64(_ b: [UInt8], _ i: Int) -> Int {
        var v = 0
        for k in (0..<8).reversed() { v = v << 8 | Int(b[i + k]) }
        return v
    }
    guard let head = bytes(at: 0, 12) else { return nil }
    let magic = String(decoding: head[0..<4], as: UTF8.self), form = String(decoding: head[8..<12], as: UTF8.self)

    let isRIFF = (magic == "RIFF" || magic == "RIFX" || magic == "RF64") && form == "WAVE"
    let isAIFF = magic == "FORM" && (form == "AIFF" || form == "AIFC")
    guard isRIFF || isAIFF else { return nil }
    let bigEndian = magic == "RIFX" || isAIFF
    let dataID = isAIFF ? "SSND" : "data"
    var rf64DataSize: Int? = nil

    var offset = 12
    var chunksSeen = 0
    while offset + 8 <= fileSize, chunksSeen < 10_000 {
        chunksSeen += 1
        guard let header = bytes(at: offset, 8) else { return nil }
        let id = String(decoding: header[0..<4], as: UTF8.self)
        let size = bigEndian ? be32(header, 4) : le32(header, 4)
        if id == "ds64", magic == "RF64", let ds64 = bytes(at: offset + 8, 16) {
            rf64DataSize = le64(ds64, 8)
        }
        if id == dataID {
            var declared = size
            if magic == "RF64", size == 0xFFFF_FFFF, let real = rf64DataSize { declared = real }
            if declared == 0 || declared == 0xFFFF_FFFF { return nil }  // streaming "unknown length"
            let available = fileSize - (offset + 8)
            if declared > available {
                let kind = isAIFF ? "AIFF SSND" : "WAV data"
                return "truncated: the \(kind) chunk declares \(declared) bytes but only \(available) are in the file"
            }
            return nil
        }
        offset += 8 + size + (size & 1)  // chunks are padded to an even length
    }
    return nil  // no data chunk found by us: libsndfile accepted it, so leave the verdict to it
}

// MARK: - Writing

/// Writes interleaved samples as an audio file with libsndfile (WAV unless told otherwise;
/// clipping to [−1, 1] for integer formats rather than wrapping around).
///
/// - Parameters:
///   - samples: interleaved frames, `channels` values per frame, nominally in [−1, 1].
///   - format: the sample encoding; 16-bit PCM unless told otherwise.
public func writeAudio(path: String, interleaved samples: [Float], channels: Int, sampleRate: Int,
                       format: AudioSampleFormat = .pcm16, container: AudioContainer = .wav) throws {
    func fail(_ problem: String) -> AudioError { AudioError(source: path, problem: problem) }
    guard channels > 0 else { throw fail("cannot write \(channels) channels") }
    guard sampleRate > 0 else { throw fail("cannot write at \(sampleRate) Hz") }
    guard samples.count % channels == 0 else {
        throw fail("\(samples.count) samples are not a whole number of \(channels)-channel frames")
    }
    var info = SF_INFO()
    info.samplerate = Int32(sampleRate)
    info.channels = Int32(channels)
    info.format = container.sndfileType | (container == .oggVorbis ? Int32(SF_FORMAT_VORBIS) : format.sndfileSubtype)
    guard sf_format_check(&info) != 0 else { throw fail("libsndfile cannot write \(format) samples in \(container)") }
    let (opened, openError) = openSoundFile(path, mode: Int32(SFM_WRITE), info: &info)
    guard let handle = opened else { throw fail("cannot create the file: \(openError)") }
    sf_command(handle, Int32(SFC_SET_CLIPPING), nil, Int32(SF_TRUE))
    let frames = samples.count / channels
    let written = samples.withUnsafeBufferPointer { sf_writef_float(handle, $0.baseAddress, sf_count_t(frames)) }
    let writeError = written == frames ? nil : String(cString: sf_strerror(handle))
    let closeStatus = sf_close(handle)
    if let writeError { throw fail("wrote \(written) of \(frames) frames: \(writeError)") }
    guard closeStatus == 0 else { throw fail("closing the file failed: \(String(cString: sf_error_number(closeStatus)))") }
}

/// Writes mono samples as a 16-bit PCM WAV file (libsndfile scales by 32767 and clips to [−1, 1]).
public func writeWAV(path: String, samples: [Float], sampleRate: Int) throws {
    try writeAudio(path: path, interleaved: samples, channels: 1, sampleRate: sampleRate, format: .pcm16)
}
