// ToolSupport: what the two executables share and the model library must not depend on: the
// terminal progress line, the benchmark table runner, the default-corpus lookup and the
// learning-curve plot. Depends on LEMModel (BLAS, buffers, the metrics log) and Foundation; nothing
// in LEMModel, Audio or Text depends on it.

import Foundation
import LEMModel
import TaskSupport
#if canImport(Glibc)
import Glibc
#endif

/// Measurement helpers shared by `lm bench` and `kws bench`.
public enum Benchmarking {
    /// The process's peak resident set size in MB: `VmHWM` of /proc/self/status, which belongs
    /// to this program's memory map. (`getrusage`'s ru_maxrss survives `exec`, so a child started
    /// from a large process would report its parent's size.)
    public static func peakRSSMegabytes() -> Double { peakResidentMegabytes() }

    /// Runs `body` `warmup` times untimed, then until `minimumSeconds` have passed (at least
    /// `minimumRuns` times); returns the mean seconds per run.
    public static func time(warmup: Int = 1, minimumRuns: Int = 3, minimumSeconds: Double = 2, _ body: () -> Void) -> Double {
        for _ in 0..<warmup { body() }
        var runs = 0
        let t0 = monotonicSeconds()
        while runs < minimumRuns || monotonicSeconds() - t0 < minimumSeconds {
            body()
            runs += 1
        }
        return (monotonicSeconds() - t0) / Double(runs)
    }

    /// `time` for a benchmark that runs on every MPI rank of `group` and synchronises them (an
    /// allreduce per run): rank 0's clock decides when to stop, and every rank learns it each
    /// run, so all of them run `body` the same number of times. Without MPI it is `time`.
    public static func time(group: ProcessGroup, warmup: Int = 1, minimumRuns: Int = 3, minimumSeconds: Double = 2,
                            _ body: () -> Void) -> Double {
        guard group.isDistributed else { return time(warmup: warmup, minimumRuns: minimumRuns, minimumSeconds: minimumSeconds, body) }
        for _ in 0..<warmup { body() }
        var runs = 0
        let t0 = monotonicSeconds()
        while true {
            var more = [group.isLeader && (runs < minimumRuns || monotonicSeconds() - t0 < minimumSeconds) ? 1.0 : 0]
            group.maximum(&more)
            guard more[0] > 0 else { break }
            body()
            runs += 1
        }
        return (monotonicSeconds() - t0) / Double(max(runs, 1))
    }

    /// Runs this executable again with `arguments` (one bench configuration, `--json`) and returns
    /// the JSON objects it printed: each configuration in a fresh process, so its peak resident
    /// memory is its own and no caches are warm.
    ///
    /// With `ranks`, the child is `mpirun -np ranks` of this executable (on this machine, more
    /// ranks than cores allowed; as root, `--allow-run-as-root`), for the data-parallel rows.
    public static func runChild(_ arguments: [String], ranks: Int? = nil) throws -> [[String: Any]] {
        let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().path
        let (path, argv) = ranks.map { ("/usr/bin/env", ["mpirun"] + (getuid() == 0 ? ["--allow-run-as-root"] : []) + ["--oversubscribe", "-np", "\($0)", executable]
                                         + arguments) } ?? (executable, arguments)
        // The child's JSON lines go to a file (posix_spawn and waitpid: Foundation's Process can
        // hang in waitUntilExit on Linux; see spawnAndWait).
        let output = NSTemporaryDirectory() + "lem-bench-\(getpid())-\(UInt64.random(in: 0 ... .max)).jsonl"
        defer { try? FileManager.default.removeItem(atPath: output) }
        let status = try spawnAndWait(path, argv, standardOutput: output, standardError: nil)
        guard status == 0 else {
            throw ToolError(description: "benchmark \(arguments.joined(separator: " ")) failed (exit \(status))")
        }
        let data = FileManager.default.contents(atPath: output) ?? Data()
        return String(decoding: data, as: UTF8.self).split(separator: "\n").compactMap {
            (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any]
        }
    }

    /// The whole table of a bench command: every configuration in its own child process
    /// (`runChild`), each result printed as a JSON line or through `describe`, then each training
    /// configuration's GFLOP/s as a share of the sgemm peak measured in the same run.
    ///
    /// With `ranks`, each configuration of `distributable` runs a second time right after the
    /// first, as `mpirun -np ranks` with one thread per rank (rows with a "ranks" field), so the
    /// two are measured side by side.
    public static func runAll(tool: String, configurations: [String], seconds: Double, short: Bool, json: Bool,
                              arguments extra: [String] = [], ranks: Int? = nil, distributable: Set<String> = [],
                              describe: ([String: Any]) -> String) throws {
        if !json { print("\(tool) bench — \(machineDescription())") }
        var results: [[String: Any]] = []
        for config in configurations {
            var arguments = ["bench", "--config", config, "--json", "--seconds", String(seconds)] + extra
            if short { arguments.append("--short") }
            let mpiRanks: [Int] = distributable.contains(config) ? (ranks.map { [$0] } ?? []) : []
            let rankCounts: [Int?] = [nil] + mpiRanks.map { Optional($0) }
            for rankCount in rankCounts {
                for line in try runChild(arguments, ranks: rankCount) {
                    results.append(line)
                    print(json ? jsonLine(line) : describe(line))
                }
            }
        }
        guard !json, let sgemm = results.first(where: { $0["config"] as? String == "sgemm" })?["gflops"] as? Double else { return }
        for r in results where r["config"] as? String != "sgemm" {
            if let name = r["config"] as? String, let gflops = r["gflops"] as? Double {
                let label = name + ((r["ranks"] as? Int).map { " ×\($0) ranks" } ?? "")
                print(String(format: "  %@: %.0f%% of the measured sgemm peak (%.0f GFLOP/s)", label, 100 * gflops / sgemm, sgemm))
            }
        }
    }

    /// A one-line description of the machine: CPU model, cores, BLAS kernels and threads, load.
    public static func machineDescription() -> String {
        var cpu = "unknown CPU"
        if let info = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
           let line = info.split(separator: "\n").first(where: { $0.hasPrefix("model name") }),
           let name = line.split(separator: ":", maxSplits: 1).last {
            cpu = name.trimmingCharacters(in: .whitespaces)
        }
        var load = [Double](repeating: 0, count: 3)
        getloadavg(&load, 3)
        return String(format: "%@, %d cores; OpenBLAS %@ kernels, %d threads; load average %.2f", cpu, workerCount,
                      blasCoreName(), blasThreadCount(), load[0])
    }
}

/// One JSON object per line, keys sorted (the `--json` output of the bench and classify commands).
public func jsonLine(_ object: [String: Any]) -> String {
    let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
    return String(decoding: data, as: UTF8.self)
}

/// With LEM_REPORT_PEAK_RSS=1 in the environment, prints the process's peak resident memory to
/// stderr (used by the tests that check long recordings are processed in bounded memory).
public func reportPeakMemoryIfAsked() {
    if Environment.reportsPeakMemory {
        writeStandardError(String(format: "peak RSS %.1f MB\n", Benchmarking.peakRSSMegabytes()))
    }
}
