import Foundation

/// The metrics history of a run as JSON lines (one object per line), appended as training goes
/// so an interrupted run keeps what it measured and a resumed run continues the same file.
///
/// Every line has "event" ("train" or "valid" or "test" or "stop"), "epoch", "step" and the
/// event's figures (loss, the task's metric, learning rate, throughput, elapsed seconds).
public final class MetricsLog: @unchecked Sendable {
    public let path: String
    private let handle: FileHandle?

    /// Opens (creating, or appending when `append`) the log; a log that cannot be opened only
    /// produces a warning, since losing it must not stop a training run.
    public init(path: String, append: Bool) {
        self.path = path
        let fm = FileManager.default
        if !append || !fm.fileExists(atPath: path) { _ = fm.createFile(atPath: path, contents: nil) }
        handle = FileHandle(forWritingAtPath: path)
        if handle == nil { writeStandardError("warning: cannot write the metrics log \(path)\n") }
        _ = try? handle?.seekToEnd()
    }

    /// A log that records nothing (every MPI rank but rank 0).
    public init(discardingTo path: String) {
        self.path = path
        handle = nil
    }

    deinit { try? handle?.close() }

    public func record(_ event: String, _ fields: [String: Double]) {
        var object: [String: Any] = ["event": event]
        for (k, v) in fields where v.isFinite { object[k] = v }
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) else { return }
        handle?.write(data + Data("\n".utf8))
    }

    /// All records of a log file, in order (for plotting); unreadable lines are skipped.
    public static func records(path: String) -> [[String: Any]] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap {
            (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any]
        }
    }
}
