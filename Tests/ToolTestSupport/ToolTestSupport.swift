import Foundation
import LEMModel

// What the CLI tests of `lm` and `kws` share: running a built tool, temporary folders, and
// training killed at random moments until it finishes.

/// Runs a built tool (`lm`, `kws`). The test targets depend on the executables, so
/// `swift build --build-tests` builds them next to the test bundle.
public func runTool(_ name: String, _ arguments: [String], environment: [String: String] = [:]) throws -> (status: Int32, stdout: String, stderr: String) {
    let process = Process()
    process.executableURL = productsDirectory().appendingPathComponent(name)
    process.arguments = arguments
    process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    return try runToCompletion(process)
}

/// Runs a configured `process` to the end with its output going to temporary files (no pipe can
/// fill up and block the child); `feed`, if given, writes the child's standard input (through a
/// pipe that is closed afterwards) while it runs.
public func runToCompletion(_ process: Process, feed: ((FileHandle) throws -> Void)? = nil) throws -> (status: Int32, stdout: String, stderr: String) {
    let base = NSTemporaryDirectory() + "lem-run-\(getpid())-\(UInt64.random(in: 0 ... .max))"
    for suffix in [".out", ".err"] { _ = FileManager.default.createFile(atPath: base + suffix, contents: nil) }
    defer { for suffix in [".out", ".err"] { try? FileManager.default.removeItem(atPath: base + suffix) } }
    process.standardOutput = FileHandle(forWritingAtPath: base + ".out")
    process.standardError = FileHandle(forWritingAtPath: base + ".err")
    let input = feed.map { _ in Pipe() }
    if let input { process.standardInput = input }
    try process.run()
    if let feed, let input {
        try feed(input.fileHandleForWriting)
        try input.fileHandleForWriting.close()
    }
    process.waitUntilExit()
    let read = { (suffix: String) in String(decoding: FileManager.default.contents(atPath: base + suffix) ?? Data(), as: UTF8.self) }
    return (process.terminationStatus, read(".out"), read(".err"))
}

/// The folder of the built products (the .xctest bundle lives there on Linux).
public func productsDirectory() -> URL {
    for bundle in Bundle.allBundles where bundle.bundlePath.hasSuffix(".xctest") {
        return bundle.bundleURL.deletingLastPathComponent()
    }
    return Bundle.main.bundleURL
}

public func makeTemporaryDirectory() -> String {
    let path = NSTemporaryDirectory() + "lem-cli-\(getpid())-\(UInt64.random(in: 0 ... .max))"
    try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

/// What `trainKilledUntilFinished` saw.
public struct KillRecord {
    /// Whether a run finally exited 0 after training all epochs.
    public var finished = false
    /// The interruptions, e.g. "KILL@60ms".
    public var kills: [String] = []
    /// Checkpoint files that did not load after an interruption, with the reason.
    public var unreadable: [String] = []
}

/// Starts `tool train` with `arguments` plus `--checkpoint checkpoint` (and `--resume` once a
/// resumable state exists), sleeps a random time, sends SIGKILL, SIGINT or SIGTERM if it is still
/// running, and repeats until a run finishes all epochs. After every run both checkpoint files,
/// where present, must load as `kind`. Attempt k waits `minimumMs` + U[0, `spreadMs` +
/// k·`growthMs`) ms, so later attempts get further and the run always ends.
public func trainKilledUntilFinished(tool: String, arguments: [String], checkpoint: String, kind: String, workDirectory: String,
                                     minimumMs: Int, spreadMs: Int, growthMs: Int) throws -> KillRecord {
    var rng = RandomGenerator(seed: UInt64(getpid()))
    var record = KillRecord()
    for attempt in 0..<60 where !record.finished {
        let process = Process()
        process.executableURL = productsDirectory().appendingPathComponent(tool)
        process.arguments = arguments + ["--checkpoint", checkpoint] + (FileManager.default.fileExists(atPath: checkpoint + ".resume") ? ["--resume"] : [])
        let out = workDirectory + "/run\(attempt).out"
        _ = FileManager.default.createFile(atPath: out, contents: nil)
        process.standardOutput = FileHandle(forWritingAtPath: out)
        process.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try process.run()
        let delay = Double(minimumMs + rng.below(spreadMs + attempt * growthMs)) / 1000
        Thread.sleep(forTimeInterval: delay)
        if process.isRunning {
            let signal = [SIGKILL, SIGINT, SIGTERM][rng.below(3)]
            kill(process.processIdentifier, signal)
            record.kills.append("\(signal == SIGKILL ? "KILL" : signal == SIGINT ? "INT" : "TERM")@\(Int(delay * 1000))ms")
        }
        process.waitUntilExit()
        let output = String(decoding: FileManager.default.contents(atPath: out) ?? Data(), as: UTF8.self)
        record.finished = process.terminationReason == .exit && process.terminationStatus == 0 && output.contains("finished all epochs")
        for path in [checkpoint, checkpoint + ".resume"] where FileManager.default.fileExists(atPath: path) {
            do { _ = try Checkpoint.read(path: path, expectedKind: kind) } catch {
                record.unreadable.append("after \(record.kills.last ?? "exit"): \(error)")
            }
        }
    }
    return record
}

/// `mpirun` with what a test needs on a small machine as root: `--allow-run-as-root`,
/// `--oversubscribe` (more ranks than cores is fine), and optionally the TCP transport forced
/// (`--mca btl self,tcp`), which is what ranks on different machines talk over.
public func mpirunArguments(ranks: Int, tool: String, tcp: Bool = false) -> [String] {
    ["--allow-run-as-root", "--oversubscribe", "-np", "\(ranks)"] + (tcp ? ["--mca", "btl", "self,tcp"] : [])
        + [productsDirectory().appendingPathComponent(tool).path]
}

/// Runs `mpirun -np ranks tool arguments…` to the end (see `mpirunArguments`).
public func runMPI(_ tool: String, ranks: Int, _ arguments: [String], tcp: Bool = false) throws -> (status: Int32, stdout: String, stderr: String) {
    let process = Process()
    process.executableURL = try mpirunURL()
    process.arguments = mpirunArguments(ranks: ranks, tool: tool, tcp: tcp) + arguments
    return try runToCompletion(process)
}

public func mpirunURL() throws -> URL {
    for directory in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin").split(separator: ":") {
        let candidate = URL(fileURLWithPath: String(directory)).appendingPathComponent("mpirun")
        if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
    }
    throw CocoaError(.fileNoSuchFile, userInfo: [NSLocalizedDescriptionKey: "mpirun not found (scripts/install-deps installs openmpi-bin)"])
}

/// The processes whose parent is `pid` (from /proc), e.g. the ranks `mpirun` started.
public func childProcesses(of pid: Int32) -> [Int32] {
    let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
    return entries.compactMap { Int32($0) }.filter { child in
        guard let stat = try? String(contentsOfFile: "/proc/\(child)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return false }
        // After "pid (name)": state, then the parent's pid.
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        return fields.count > 1 && Int32(fields[1]) == pid
    }.sorted()
}
