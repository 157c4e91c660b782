#if canImport(Glibc)
import Glibc
#endif

/// Reads a whole text file as validated UTF-8.
///
/// Errors name the file: missing or unreadable, a directory, empty, or not UTF-8 (with the byte
/// offset of the first bad sequence, so the user can find it). The bytes are read once and decoded
/// in place; nothing is held twice beyond the decoded String.
public func readTextFile(_ path: String) throws -> String {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { throw TextError(file: path, problem: "cannot open: \(String(cString: strerror(errno)))") }
    defer { close(fd) }
    var info = stat()
    guard fstat(fd, &info) == 0 else { throw TextError(file: path, problem: "cannot read: \(String(cString: strerror(errno)))") }
    guard (info.st_mode & S_IFMT) == S_IFREG else { throw TextError(file: path, problem: "not a regular file") }
    let size = Int(info.st_size)
    guard size > 0 else { throw TextError(file: path, problem: "the file is empty") }
    var bytes = [UInt8](repeating: 0, count: size)
    var offset = 0
    while offset < size {
        let n = bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress! + offset, size - offset) }
        if n < 0 && errno == EINTR { continue }
        guard n > 0 else { throw TextError(file: path, problem: "cannot read: \(n < 0 ? String(cString: strerror(errno)) : "the file shrank while reading")") }
        offset += n
    }
    if let bad = firstInvalidUTF8(bytes) {
        throw TextError(file: path, problem: "not valid UTF-8 text (bad byte 0x\(String(bytes[bad], radix: 16)) at offset \(bad))")
    }
    return String(decoding: bytes, as: UTF8.self)
}

/// Offset of the first byte that does not start or continue a valid UTF-8 sequence, or nil.
func firstInvalidUTF8(_ bytes: [UInt8]) -> Int? {
    var i = 0
    let n = bytes.count
    while i < n {
        let b = bytes[i]
        if b < 0x80 { i += 1; continue }
        let length: Int, minimum: UInt32
        switch b {
        case 0xC2...0xDF: length = 2; minimum = 0x80
        case 0xE0...0xEF: length = 3; minimum = 0x800
        case 0xF0...0xF4: length = 4; minimum = 0x10000
        default: return i
        }
        guard i + length <= n else { return i }
        var scalar = UInt32(b) & (0xFF >> (length + 1))
        for k in 1..<length {
            let c = bytes[i + k]
            guard c & 0xC0 == 0x80 else { return i }
            scalar = scalar << 6 | UInt32(c & 0x3F)
        }
        guard scalar >= minimum, scalar <= 0x10FFFF, !(0xD800...0xDFFF).contains(scalar) else { return i }
        i += length
    }
    return nil
}
