import Foundation
#if canImport(Glibc)
@preconcurrency import Glibc
#endif

/// The live training status: a self-overwriting line on a terminal, plain periodic lines
/// otherwise (logs, pipes, CI). Always on standard error, so standard output stays for results.
public final class ProgressReporter: @unchecked Sendable {
    public let interactive: Bool
    private var lastPlain = -Double.infinity
    private var lastLive = -Double.infinity
    private let plainInterval: Double
    private var lineOpen = false

    /// `interactive` defaults to whether standard error is a terminal.
    public init(interactive: Bool? = nil, plainInterval: Double = 30) {
        self.interactive = interactive ?? (isatty(STDERR_FILENO) == 1)
        self.plainInterval = plainInterval
    }

    /// Shows `text` now (terminal: at most 10 times a second) or, without a terminal, every
    /// `plainInterval` seconds.
    public func update(_ text: String, now: Double = monotonicSeconds(), force: Bool = false) {
        if interactive {
            guard force || now - lastLive >= 0.1 else { return }
            lastLive = now
            let clipped = text.count > 150 ? String(text.prefix(150)) : text
            writeStandardError("\r\u{1B}[2K" + clipped)
            lineOpen = true
        } else {
            guard force || now - lastPlain >= plainInterval else { return }
            lastPlain = now
            writeStandardError(text + "\n")
        }
    }

    /// Prints a permanent line (an epoch summary, a warning), closing any live line first.
    public func line(_ text: String) {
        if lineOpen { writeStandardError("\r\u{1B}[2K"); lineOpen = false }
        writeStandardError(text + "\n")
    }
}

/// Seconds on a monotonic clock (not affected by changes of the wall clock).
public func monotonicSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
}

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

/// "1h02m", "3m12s", "45s".
public func formatDuration(_ seconds: Double) -> String {
    guard seconds.isFinite, seconds >= 0 else { return "?" }
    let s = Int(seconds.rounded())
    if s >= 3600 { return "\(s / 3600)h\(String(format: "%02d", (s % 3600) / 60))m" }
    if s >= 60 { return "\(s / 60)m\(String(format: "%02d", s % 60))s" }
    return "\(s)s"
}

/// "12,345" style grouping for throughput figures.
public func formatCount(_ value: Double) -> String {
    let n = Int(value.rounded())
    let digits = String(abs(n))
    var out = ""
    for (i, c) in digits.enumerated() {
        if i > 0 && (digits.count - i) % 3 == 0 { out.append(",") }
        out.append(c)
    }
    return (n < 0 ? "-" : "") + out
}
