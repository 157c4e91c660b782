#if canImport(Glibc)
import Glibc
#endif

/// Calls `body` with every token of a text file at `level`, reading the file in chunks of whole
/// lines: memory stays at about one chunk (1 MiB, or the longest line) however large the file is,
/// and the bytes are never held twice. Tokens are exactly those of `tokenize(wholeFile, level:)`.
///
/// Errors name the file: missing or unreadable, not a regular file, empty, or not UTF-8 (with the
/// byte offset of the first bad sequence).
public func forEachToken(inFile path: String, level: TextLevel, chunkSize: Int = 1 << 20, _ body: (String) throws -> Void) throws {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { throw TextError(file: path, problem: "cannot open: \(String(cString: strerror(errno)))") }
    defer { close(fd) }
    var info = stat()
    guard fstat(fd, &info) == 0 else { throw TextError(file: path, problem: "cannot read: \(String(cString: strerror(errno)))") }
    guard (info.st_mode & S_IFMT) == S_IFREG else { throw TextError(file: path, problem: "not a regular file") }
    guard info.st_size > 0 else { throw TextError(file: path, problem: "the file is empty") }

    var pending: [UInt8] = []       // bytes read but not yet tokenised (an incomplete last line)
    var pendingOffset = 0           // file offset of pending[0]
    var chunk = [UInt8](repeating: 0, count: max(chunkSize, 4096))

    func emit(_ bytes: ArraySlice<UInt8>, at offset: Int) throws {
        if let bad = firstInvalidUTF8(Array(bytes)) {
            let byte = bytes[bytes.startIndex + bad]
            throw TextError(file: path, problem: "not valid UTF-8 text (bad byte 0x\(String(byte, radix: 16)) at offset \(offset + bad))")
        }
        for token in tokenize(String(decoding: bytes, as: UTF8.self), level: level) { try body(token) }
    }

    while true {
        let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress!, $0.count) }
        if n < 0 {
            if errno == EINTR { continue }
            throw TextError(file: path, problem: "cannot read: \(String(cString: strerror(errno)))")
        }
        if n == 0 { break }
        pending.append(contentsOf: chunk[0..<n])
        // Tokenise up to the last line end; keep the rest for the next chunk.
        guard let lastNewline = pending.lastIndex(of: 0x0A) else { continue }
        try emit(pending[...lastNewline], at: pendingOffset)
        pendingOffset += lastNewline + 1
        pending.removeSubrange(...lastNewline)
    }
    if !pending.isEmpty { try emit(pending[...], at: pendingOffset) }
}
