import Foundation
import LEMModel

// What the CLI tests of `lm` and `kws` share: running a built tool, temporary folders, and
// training killed at random moments until it finishes.

/// Runs a built tool (`lm`, `kws`). The test targets depend on the executables, so
/// `swift build --build-tests` builds them next to the test bundle. Output goes to files: no
/// pipe can fill up and block the child.
public func runTool(_ name: String, _ arguments: [String], environment: [String: String] = [:]) throws -> (status: Int32, stdout: String, stderr: String) {
    let process = Process()
    process.executableURL = productsDirectory().appendingPathComponent(name)
    process.arguments = arguments
    process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    let base = NSTemporaryDirectory() + "lem-run-\(getpid())-\(UInt64.random(in: 0 ... .max))"
    _ = FileManager.default.createFile(atPath: base + ".out", contents: nil)
    _ = FileManager.default.createFile(atPath: base + ".err", contents: nil)
    defer { try? FileManager.default.removeItem(atPath: base + ".out"); try? FileManager.default.removeItem(atPath: base + ".err") }
    process.standardOutput = FileHandle(forWritingAtPath: base + ".out")
    process.standardError = FileHandle(forWritingAtPath: base + ".err")
    try process.run()
    process.waitUntilExit()
    let outData = FileManager.default.contents(atPath: base + ".out") ?? Data()
    let errData = FileManager.default.contents(atPath: base + ".err") ?? Data()
    return (process.terminationStatus, String(decoding: outData, as: UTF8.self), String(decoding: errData, as: UTF8.self))
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
