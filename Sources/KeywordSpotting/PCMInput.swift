import Foundation

/// Raw PCM read from standard input in whatever chunks the pipe delivers, mixed to mono.
package final class PCMInput {
    package enum Format: String, CaseIterable, Sendable { case s16, f32 }
    package let format: Format, channels: Int
    private var pending: [UInt8] = []
    private var ended = false
    package private(set) var framesRead = 0

    package init(format: Format, channels: Int) { (self.format, self.channels) = (format, channels) }

    package var frameBytes: Int { channels * (format == .s16 ? 2 : 4) }

    /// Up to `count` further mono samples; empty at the end of the input. Throws if the input ends
    /// inside a frame (a cut-off sample, or a channel count that does not match the data).
    package func read(maximum count: Int) throws -> [Float] {
        while pending.count < count * frameBytes && !ended {
            let chunk = FileHandle.standardInput.readData(ofLength: max(4096, count * frameBytes - pending.count))
            if chunk.isEmpty { ended = true } else { pending += chunk }
        }
        let frames = min(count, pending.count / frameBytes)
        if frames == 0 && ended && !pending.isEmpty {
            throw KWSStreamError("standard input: the stream ends inside a frame (\(pending.count) bytes left over; --format \(format.rawValue) with --channels \(channels) needs frames of \(frameBytes) bytes)")
        }
        var out = [Float](repeating: 0, count: frames)
        pending.withUnsafeBytes { raw in
            for f in 0..<frames {
                var sum: Float = 0
                for c in 0..<channels {
                    let offset = (f * channels + c) * (format == .s16 ? 2 : 4)
                    sum += format == .s16 ? Float(Int16(littleEndian: raw.loadUnaligned(fromByteOffset: offset, as: Int16.self))) / 32768
                        : Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: offset, as: UInt32.self)))
                }
                out[f] = sum / Float(channels)
            }
        }
        pending.removeFirst(frames * frameBytes)
        if let bad = out.firstIndex(where: { !$0.isFinite }) { throw KWSStreamError("standard input: sample \(framesRead + bad + 1) is not a finite number") }
        framesRead += frames
        return out
    }
}
