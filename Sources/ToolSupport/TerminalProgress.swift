#if canImport(Glibc)
@preconcurrency import Glibc
#endif
import LEMModel
import TaskSupport

/// The live training status: a self-overwriting line on a terminal, plain periodic lines
/// otherwise (logs, pipes, CI). Always on standard error, so standard output stays for results.
public final class TerminalProgress: ProgressSink, @unchecked Sendable {
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
    public func update(_ text: String, force: Bool) {
        let now = monotonicSeconds()
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
