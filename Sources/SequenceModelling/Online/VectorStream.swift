import Foundation

/// Vectors read one at a time from a file or standard input, for `seq online`: text (one vector
/// per line, its values separated by commas, spaces or tabs; empty lines and lines starting with
/// `#` skipped) or raw little-endian float32 (`features` values per vector). Nothing is read
/// ahead beyond one block, so an endless pipe is fine. A bad line or value is an error naming the
/// source, the line and the problem.
public final class VectorStream {
    public enum Format: String, CaseIterable, Sendable { case text, f32 }
    public let source: String, format: Format
    /// Values per vector (text: nil until the first line says it).
    public private(set) var features: Int?
    private let handle: FileHandle
    private var buffer: [UInt8] = [], position = 0, finished = false
    private var line = 0

    /// `path` "-" reads standard input.
    public init(path: String, format: Format, features: Int?) throws {
        if path == "-" { handle = FileHandle.standardInput; source = "standard input" } else {
            guard let h = FileHandle(forReadingAtPath: path) else { throw SequenceDataError(path, "cannot open it for reading") }
            handle = h
            source = path
        }
        self.format = format
        self.features = features
        if format == .f32 && features == nil { throw SequenceDataError(source, "raw float32 needs --features (values per vector)") }
    }

    private func fill() {
        if position > 0 && position == buffer.count { buffer.removeAll(keepingCapacity: true); position = 0 }
        let data = handle.readData(ofLength: 1 << 16)
        if data.isEmpty { finished = true } else {
            if position > 0 { buffer.removeFirst(position); position = 0 }
            buffer += data
        }
    }

    /// The next vector, or nil at the end of the stream.
    /// The class a labelled stream's vector ends with (`seq online --classes`): its last value
    /// when that is an integer from 0 to `classes` − 1, else nil.
    public static func label(of vector: [Float], classes: Int) -> Int? {
        guard let last = vector.last, last >= 0, last < Float(classes), last == last.rounded() else { return nil }
        return Int(last)
    }

    public func next() throws -> [Float]? {
        switch format {
        case .f32:
            let bytes = features! * 4
            while buffer.count - position < bytes && !finished { fill() }
            if buffer.count - position < bytes {
                if buffer.count > position { throw SequenceDataError(source, "ends inside a vector (\(buffer.count - position) of \(bytes) bytes)") }
                return nil
            }
            var v = [Float](repeating: 0, count: features!)
            for i in 0..<features! {
                let o = position + 4 * i
                let bits = UInt32(buffer[o]) | UInt32(buffer[o + 1]) << 8 | UInt32(buffer[o + 2]) << 16 | UInt32(buffer[o + 3]) << 24
                v[i] = Float(bitPattern: bits)
                guard v[i].isFinite else { throw SequenceDataError(source, "vector \(line + 1): value \(i + 1) is not finite") }
            }
            position += bytes
            line += 1
            return v
        case .text:
            while true {
                var end = buffer[position...].firstIndex(of: 10)
                while end == nil && !finished { fill(); end = buffer[position...].firstIndex(of: 10) }
                if end == nil && position == buffer.count { return nil }
                let stop = end ?? buffer.count
                let text = String(decoding: buffer[position..<stop], as: UTF8.self)
                position = min(stop + 1, buffer.count)
                line += 1
                let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
                if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
                let fields = trimmed.split(whereSeparator: { $0 == "," || $0 == " " || $0 == "\t" })
                var v: [Float] = []
                v.reserveCapacity(fields.count)
                for (i, f) in fields.enumerated() {
                    guard let x = Float(f), x.isFinite else {
                        throw SequenceDataError(source, "line \(line): value \(i + 1) \"\(f.prefix(20))\" is not a finite number")
                    }
                    v.append(x)
                }
                if features == nil { features = v.count }
                guard v.count == features else {
                    throw SequenceDataError(source, "line \(line): \(v.count) values, expected \(features!) (as the first line)")
                }
                return v
            }
        }
    }
}
