// The checkpoint files' POSIX I/O: a whole file read with its kind and size checked, and an
// atomic, durable write (temporary file, fsync, rename, fsync of the directory). Errors name the
// path and the system's reason.

#if canImport(Glibc)
@preconcurrency import Glibc
#elseif canImport(Musl)
import Musl
#else
import Darwin
#endif

/// The bytes of the regular file at `path` (directories, FIFOs and devices are refused).
package func readWholeFile(_ path: String) throws -> [UInt8] {
    func fail(_ what: String, _ code: Int32) -> SafeTensorsError {
        SafeTensorsError(source: path, problem: "\(what): \(systemMessage(code))")
    }
    // O_NONBLOCK: opening a FIFO must not hang; it is rejected below as not a regular file.
    let descriptor = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
    guard descriptor >= 0 else { throw fail("cannot open", errno) }
    defer { close(descriptor) }
    var info = stat()
    guard fstat(descriptor, &info) == 0 else { throw fail("cannot stat", errno) }
    let kind = info.st_mode & S_IFMT
    if kind == S_IFDIR { throw fail("cannot open", EISDIR) }
    guard kind == S_IFREG else {
        throw SafeTensorsError(source: path, problem: "cannot open: not a regular file")
    }
    let size = Int(info.st_size)
    var readError: Int32 = 0
    let bytes = [UInt8](unsafeUninitializedCapacity: size) { buffer, initialized in
        var done = 0
        while done < size {
            let result = systemRead(descriptor, buffer.baseAddress! + done, size - done)
            if result > 0 {
                done += result
            } else if result == 0 {
                break
            } else if errno != EINTR {
                readError = errno
                break
            }
        }
        initialized = done
    }
    if readError != 0 { throw fail("cannot read", readError) }
    guard bytes.count == size else {
        throw SafeTensorsError(source: path, problem: "cannot read: the file shrank from \(size) to "
                               + "\(bytes.count) bytes while being read")
    }
    return bytes
}

/// The folder part of `path` ("." when it has none).
func directoryName(_ path: String) -> String {
    guard let slash = path.lastIndex(of: "/") else { return "." }
    let directory = path[..<slash]
    return directory.isEmpty ? "/" : String(directory)
}

/// Writes `bytes` to `path` so that a reader never sees a half-written file there.
///
/// Steps: write to `<path>.tmp-<pid>` in the same directory, `fsync` it, `rename` it over
/// `path` (replacing any existing file), then `fsync` the directory so the rename is durable.
/// On failure the temporary file is removed and an error naming `path` and the system's reason
/// is thrown; an existing file at `path` is then unchanged. Two threads of one process must not
/// write the same path at the same time (they would share the temporary name).
package func writeFileAtomically(_ bytes: [UInt8], to path: String) throws {
    let temporary = "\(path).tmp-\(getpid())"
    func fail(_ what: String, _ code: Int32) -> SafeTensorsError {
        SafeTensorsError(source: path, problem: "\(what): \(systemMessage(code))")
    }

    let descriptor = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
    guard descriptor >= 0 else { throw fail("cannot create temporary file \(temporary)", errno) }
    var failure: SafeTensorsError?
    bytes.withUnsafeBytes { raw in
        var written = 0
        while written < raw.count {
            let result = systemWrite(descriptor, raw.baseAddress! + written, raw.count - written)
            if result > 0 {
                written += result
            } else if result < 0 && errno == EINTR {
                continue
            } else {
                failure = fail("cannot write temporary file \(temporary)", result < 0 ? errno : EIO)
                return
            }
        }
    }
    if failure == nil && fsync(descriptor) != 0 { failure = fail("cannot sync temporary file \(temporary)", errno) }
    if close(descriptor) != 0 && failure == nil { failure = fail("cannot close temporary file \(temporary)", errno) }
    if failure == nil && rename(temporary, path) != 0 { failure = fail("cannot rename \(temporary) to \(path)", errno) }
    if let failure {
        unlink(temporary)
        throw failure
    }

    // Make the rename itself durable. Some file systems cannot sync directories (EINVAL); the
    // data is already in place then, so only real I/O errors are reported.
    let directory = directoryName(path)
    let directoryDescriptor = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
    guard directoryDescriptor >= 0 else { throw fail("written, but cannot open directory \(directory) to sync it", errno) }
    defer { close(directoryDescriptor) }
    if fsync(directoryDescriptor) != 0 && errno != EINVAL && errno != EROFS {
        throw fail("written, but cannot sync directory \(directory)", errno)
    }
}

private func systemMessage(_ code: Int32) -> String {
    guard let message = strerror(code) else { return "error \(code)" }
    return String(cString: message)
}

private func systemRead(_ descriptor: Int32, _ buffer: UnsafeMutableRawPointer, _ count: Int) -> Int {
    #if canImport(Glibc)
    return Glibc.read(descriptor, buffer, count)
    #elseif canImport(Musl)
    return Musl.read(descriptor, buffer, count)
    #else
    return Darwin.read(descriptor, buffer, count)
    #endif
}

private func systemWrite(_ descriptor: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int {
    #if canImport(Glibc)
    return Glibc.write(descriptor, buffer, count)
    #elseif canImport(Musl)
    return Musl.write(descriptor, buffer, count)
    #else
    return Darwin.write(descriptor, buffer, count)
    #endif
}
