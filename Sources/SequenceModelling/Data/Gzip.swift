import CSystemZlib

/// Whether `bytes` start with gzip's magic number.
public func isGzip(_ bytes: [UInt8]) -> Bool { bytes.count >= 2 && bytes[0] == 0x1F && bytes[1] == 0x8B }

/// The decompressed content of gzip data (zlib's inflate; several members are concatenated, as
/// `gunzip` does). `limit` bounds the output, so a small malicious file cannot exhaust memory.
public func gunzip(_ bytes: [UInt8], source: String, limit: Int = 1 << 31) throws -> [UInt8] {
    var stream = z_stream()
    guard inflateInit2_(&stream, 16 + MAX_WBITS, zlibVersion(), Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
        throw SequenceDataError(source, "zlib could not start decompressing")
    }
    defer { inflateEnd(&stream) }
    var output = [UInt8]()
    var chunk = [UInt8](repeating: 0, count: 1 << 16)
    var status = Z_OK
    try bytes.withUnsafeBufferPointer { input in
        stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress)
        stream.avail_in = UInt32(input.count)
        while true {
            let produced: Int = chunk.withUnsafeMutableBufferPointer { out in
                stream.next_out = out.baseAddress
                stream.avail_out = UInt32(out.count)
                status = inflate(&stream, Z_NO_FLUSH)
                return out.count - Int(stream.avail_out)
            }
            guard status == Z_OK || status == Z_STREAM_END || (status == Z_BUF_ERROR && produced > 0) else {
                throw SequenceDataError(source, status == Z_BUF_ERROR ? "truncated gzip data" : "corrupt gzip data (zlib error \(status))")
            }
            output += chunk[..<produced]
            guard output.count <= limit else { throw SequenceDataError(source, "decompresses to more than \(limit) bytes") }
            if status == Z_STREAM_END {
                // Another member may follow (concatenated gzip files).
                guard stream.avail_in > 0 else { break }
                guard inflateReset(&stream) == Z_OK else { throw SequenceDataError(source, "corrupt gzip data") }
            } else if produced == 0 && stream.avail_in == 0 {
                throw SequenceDataError(source, "truncated gzip data")
            }
        }
    }
    return output
}
