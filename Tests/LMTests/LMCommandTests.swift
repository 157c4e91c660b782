import Foundation
import XCTest

/// Runs the built `lm` binary. The test target depends on the executable, so `swift build
/// --build-tests` builds it next to the test bundle.
func runTool(_ name: String, _ arguments: [String], environment: [String: String] = [:]) throws -> (status: Int32, stdout: String, stderr: String) {
    let binary = productsDirectory().appendingPathComponent(name)
    let process = Process()
    process.executableURL = binary
    process.arguments = arguments
    var env = ProcessInfo.processInfo.environment
    for (k, v) in environment { env[k] = v }
    process.environment = env
    // Output goes to files: no pipe can fill up and block the child.
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

func productsDirectory() -> URL {
    // The .xctest bundle (or binary) lives in the products directory on Linux.
    for bundle in Bundle.allBundles where bundle.bundlePath.hasSuffix(".xctest") {
        return bundle.bundleURL.deletingLastPathComponent()
    }
    return Bundle.main.bundleURL
}

func makeTemporaryDirectory() -> String {
    let path = NSTemporaryDirectory() + "lem-cli-\(getpid())-\(UInt64.random(in: 0 ... .max))"
    try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}
