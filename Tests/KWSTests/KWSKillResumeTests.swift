import Foundation
import LEMModel
import XCTest

/// kws training killed at arbitrary moments (SIGINT, SIGTERM, SIGKILL) and resumed until it
/// finishes ends with the same model as an uninterrupted run, with fresh augmentation draws.
final class KWSKillResumeTests: XCTestCase {
    func testKilledAndResumedRunsEndBitIdentical() throws {
        let dir = temporaryDirectory()
        try makeToneCorpus(dir + "/data", perClass: 12)
        let common = ["train", "--data", dir + "/data", "--hidden", "8", "--batch", "4", "--epochs", "6", "--reaugment-every", "2",
                      "--all-unknown", "--seed", "3", "--save-every-steps", "4"]
        let straight = try runTool("kws", common + ["--checkpoint", dir + "/straight.ckpt"])
        XCTAssertEqual(straight.status, 0, straight.stderr)

        var binary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for bundle in Bundle.allBundles where bundle.bundlePath.hasSuffix(".xctest") { binary = bundle.bundleURL.deletingLastPathComponent() }
        let ckpt = dir + "/killed.ckpt"
        var rng = RandomGenerator(seed: UInt64(getpid()))
        var kills: [String] = []
        var finished = false
        for attempt in 0..<60 where !finished {
            let process = Process()
            process.executableURL = binary.appendingPathComponent("kws")
            process.arguments = common + ["--checkpoint", ckpt] + (FileManager.default.fileExists(atPath: ckpt + ".resume") ? ["--resume"] : [])
            let out = dir + "/run\(attempt).out"
            _ = FileManager.default.createFile(atPath: out, contents: nil)
            process.standardOutput = FileHandle(forWritingAtPath: out)
            process.standardError = FileHandle(forWritingAtPath: "/dev/null")
            try process.run()
            let delay = Double(150 + rng.below(200 + attempt * 60)) / 1000
            Thread.sleep(forTimeInterval: delay)
            if process.isRunning {
                let signal = [SIGKILL, SIGINT, SIGTERM][rng.below(3)]
                kill(process.processIdentifier, signal)
                kills.append("\(signal == SIGKILL ? "KILL" : signal == SIGINT ? "INT" : "TERM")@\(Int(delay * 1000))ms")
            }
            process.waitUntilExit()
            let output = String(decoding: FileManager.default.contents(atPath: out) ?? Data(), as: UTF8.self)
            finished = process.terminationReason == .exit && process.terminationStatus == 0 && output.contains("finished all epochs")
            for path in [ckpt, ckpt + ".resume"] where FileManager.default.fileExists(atPath: path) {
                XCTAssertNoThrow(try Checkpoint.read(path: path, expectedKind: "kws"), "after \(kills.last ?? "exit"): \(path) unreadable")
            }
        }
        print("kws kill/resume: \(kills.count) interruptions: \(kills.joined(separator: ", "))")
        XCTAssertTrue(finished, "the run never finished")
        XCTAssertGreaterThan(kills.count, 0)
        XCTAssertEqual(FileManager.default.contents(atPath: dir + "/straight.ckpt"), FileManager.default.contents(atPath: ckpt),
                       "best checkpoint differs from the uninterrupted run")
        let a = try Checkpoint.read(path: dir + "/straight.ckpt.resume", expectedKind: "kws")
        let b = try Checkpoint.read(path: ckpt + ".resume", expectedKind: "kws")
        for name in a.file.names { XCTAssertEqual(a.file.tensors[name], b.file.tensors[name], "\(name) differs") }
        XCTAssertEqual(a.training?.bestMetric, b.training?.bestMetric)
    }
}
