#if canImport(Glibc)
@preconcurrency import Glibc
#endif
import Foundation

/// Seconds on a monotonic clock (not affected by changes of the wall clock).
public func monotonicSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
}

/// Writes `text` to standard error unbuffered (warnings, status lines; standard output stays for results).
public func writeStandardError(_ text: String) {
    var bytes = Array(text.utf8)
    bytes.withUnsafeMutableBytes { raw in
        var offset = 0
        while offset < raw.count {
            let n = write(STDERR_FILENO, raw.baseAddress! + offset, raw.count - offset)
            if n <= 0 { break }
            offset += n
        }
    }
}

/// Runs `path` (a full path) with `arguments` to its end and returns its exit status (128 + the
/// signal if a signal ended it), its standard input, output and error redirected to the given
/// files (input from /dev/null when nil; output and error this process's own when nil).
/// posix_spawn and waitpid, not Foundation's `Process`, whose `waitUntilExit` on Linux can wait
/// forever for a child that has already exited when several threads start children at once
/// (seen with `kws synthesize`'s parallel engines).
public func spawnAndWait(_ path: String, _ arguments: [String], standardInput: String? = nil,
                         standardOutput: String?, standardError: String?) throws -> Int32 {
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, standardInput ?? "/dev/null", O_RDONLY, 0)
    if let standardOutput { posix_spawn_file_actions_addopen(&actions, 1, standardOutput, O_WRONLY | O_CREAT | O_TRUNC, 0o644) }
    if let standardError { posix_spawn_file_actions_addopen(&actions, 2, standardError, O_WRONLY | O_CREAT | O_TRUNC, 0o644) }
    let argv: [UnsafeMutablePointer<CChar>?] = ([path] + arguments).map { strdup($0) } + [nil]
    defer { for arg in argv { free(arg) } }
    var pid = pid_t()
    let spawned = posix_spawn(&pid, path, &actions, nil, argv, environ)
    guard spawned == 0 else { throw SpawnError(path: path, problem: String(cString: strerror(spawned))) }
    var status: Int32 = 0
    while waitpid(pid, &status, 0) == -1 {
        guard errno == EINTR else { throw SpawnError(path: path, problem: "waitpid: " + String(cString: strerror(errno))) }
    }
    let signal = status & 0x7f
    return signal == 0 ? (status >> 8) & 0xff : 128 + signal
}

/// A program that could not be started (or waited for).
public struct SpawnError: Error, CustomStringConvertible {
    public var path: String, problem: String
    public var description: String { "\(path): cannot run it (\(problem))" }
}

/// The process's peak resident set size in MB: `VmHWM` of /proc/self/status, which belongs to this
/// program's memory map. (`getrusage`'s ru_maxrss, the fallback, survives `exec`, so a child
/// started from a large process would report its parent's size.)
public func peakResidentMegabytes() -> Double {
    if let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
       let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
       let kib = Double(line.split(separator: " ").dropFirst().first ?? "") {
        return kib / 1024
    }
    var usage = rusage()
    getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
    return Double(usage.ru_maxrss) / 1024
}
