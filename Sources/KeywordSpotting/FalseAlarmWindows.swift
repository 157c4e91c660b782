import Audio
import Foundation
import LEMModel
import TaskSupport

/// Writes, for each false alarm, the window that fired and the two before it (`strideMs` apart)
/// as 16-bit WAVs `<prefix>-<ms>-<k>.wav` in `folder` (created if needed): the audio the model
/// mistook for a keyword, on the same 16-bit grid it scanned. A window that overlaps a keyword's
/// labelled clip (`keywordSpansMs`) is left out: it holds (part of) a keyword. The stream is read
/// once, front to back, keeping only the samples the next windows need. Returns the number of files.
package func writeFalseAlarmWindows(_ alarms: [Detection], stream path: String, sampleRate: Int, clip: Int, strideMs: Int,
                            keywordSpansMs: [(start: Double, end: Double)] = [], prefix: String = "fa", to folder: String) throws -> Int {
    do { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) } catch {
        throw ToolError(description: "\(folder): cannot create the folder (\(error.localizedDescription))")
    }
    let stride = strideMs * sampleRate / 1000
    // Every window to write, by its end sample, in time order.
    var windows: [(end: Int, name: String)] = []
    for alarm in alarms.sorted(by: { $0.time < $1.time }) {
        let end = Int((alarm.time * Double(sampleRate)).rounded())
        for k in 0..<3 {
            let windowEnd = end - k * stride
            guard windowEnd >= clip else { continue }
            let (startMs, endMs) = (Double(windowEnd - clip) * 1000 / Double(sampleRate), Double(windowEnd) * 1000 / Double(sampleRate))
            if keywordSpansMs.contains(where: { $0.start < endMs && startMs < $0.end }) { continue }
            windows.append((windowEnd, String(format: "%@/%@-%09d-%d.wav", folder, prefix, Int((alarm.time * 1000).rounded()), k)))
        }
    }
    windows.sort { $0.end < $1.end }
    guard !windows.isEmpty else { return 0 }
    let stream = try AudioStream(path: path, outputRate: sampleRate)
    var buffer: [Float] = [], position = 0   // `buffer` holds the stream's samples [position − buffer.count, position)
    var written = 0
    for w in windows {
        // Drop what no later window needs (they start at w.end − clip or later), then read up to w.end.
        let need = w.end - clip
        let held = position - buffer.count
        if need > held { buffer.removeFirst(min(buffer.count, need - held)) }
        while position < w.end {
            var block = try stream.read(maximum: w.end - position)
            if block.isEmpty { break }
            roundToPCM16Grid(&block)
            let blockStart = position
            position += block.count
            if blockStart < need { block.removeFirst(min(block.count, need - blockStart)) }   // before this window: not needed
            buffer += block
        }
        let from = need - (position - buffer.count)
        guard position >= w.end, from >= 0 else { continue }
        try writeAudio(path: w.name, interleaved: Array(buffer[from..<(from + clip)]), channels: 1, sampleRate: sampleRate)
        written += 1
    }
    return written
}
