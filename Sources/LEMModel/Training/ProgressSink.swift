/// Where the training loop's status goes. The trainer only formats lines; showing them (a live
/// line on a terminal, plain lines in a log, nothing at all in a test or on a non-zero MPI rank)
/// is the caller's choice. The tools' terminal implementation is `TerminalProgress` (ToolSupport).
public protocol ProgressSink: AnyObject {
    /// The live status (epoch, batch, loss, throughput, ETA), many times a second: the sink decides
    /// how often to show it. `force` asks for it to be shown now.
    func update(_ text: String, force: Bool)
    /// A permanent line (an epoch summary, a resume or stop notice).
    func line(_ text: String)
}

extension ProgressSink {
    public func update(_ text: String) { update(text, force: false) }
}

/// Shows nothing: tests, and every MPI rank but rank 0.
public final class SilentProgress: ProgressSink {
    public init() {}
    public func update(_ text: String, force: Bool) {}
    public func line(_ text: String) {}
}

/// "2d04h", "1h02m", "3m12s", "45s".
public func formatDuration(_ seconds: Double) -> String {
    guard seconds.isFinite, seconds >= 0 else { return "?" }
    let s = Int(seconds.rounded())
    let twoDigits = { (n: Int) in n < 10 ? "0\(n)" : "\(n)" }
    if s >= 86400 { return "\(s / 86400)d\(twoDigits((s % 86400) / 3600))h" }
    if s >= 3600 { return "\(s / 3600)h\(twoDigits((s % 3600) / 60))m" }
    if s >= 60 { return "\(s / 60)m\(twoDigits(s % 60))s" }
    return "\(s)s"
}

/// "12,345" style grouping for throughput figures (fixed, not the locale's: logs stay comparable).
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
