import ArgumentParser
import Foundation
import SequenceModelling
import TaskSupport
import ToolSupport

extension Seq {
    struct MakeData: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "make-data",
            abstract: "Write a synthetic task's data: fhn (FitzHugh-Nagumo, .npz files), or an endless stream for seq online (linear, switching, fhn-drift).",
            discussion: """
                fhn: the authors' FitzHugh-Nagumo sets (src/FitzHughNagumo/data.py): v' = v − v³/3
                − w + 0.5, w' = (v + 0.7 − 0.8 w)/50 from v₀ = 2·U(0,1) − 1 (NumPy's generator
                seeded --seed, drawn for train, valid, test in that order) and w₀ = 0, solved
                by SciPy's RK45 (rtol 1e-3, atol 1e-6) at 1,001 points on [0, 400]; input
                v(t₀…t₉₉₉), target the next value v(t₁…t₁₀₀₀) at every step. Writes
                train.npz, valid.npz and test.npz (x [N, 1000, 1], y [N, 1000, 1]) into --out,
                which seq train --task fhn --data DIR reads.

                Streams for seq online (text, one vector per line; --out - writes standard
                output, --steps 0 never stops):
                  linear     x' = 0.98·R(0.3)·x + 0.1·ε in 2-D (R a rotation, ε standard normal):
                             the best one-step prediction leaves 0.01 squared error per value
                  switching  the same with the angle switching between 0.3 and −0.6 every
                             --period steps
                  fhn-drift  FitzHugh-Nagumo's v every 0.4 time units, its input current
                             cycling 0.5, 1.0, 0.3 every --period steps, plus 0.1·ε
                With --labels each vector is followed by the regime that produced it (0, 1, …):
                a classification stream (seq online --classes 2 for switching, 3 for fhn-drift).

                Examples:
                  seq make-data fhn --out corpora/fhn
                  seq make-data switching --steps 200000 --out - | seq online - --cell lru
                  seq make-data fhn --out /tmp/fhn-small --train 16 --valid 8 --test 8 --seed 7
                  seq make-data switching --labels --period 2000 --out - | seq online - --classes 2
                """)

        @Argument(help: "What to write: fhn, or a stream: linear, switching, fhn-drift.") var task: String
        @Option(help: ArgumentHelp("Folder to write into (created if missing).", valueName: "dir")) var out: String
        @Option(help: "NumPy seed of the initial values (the authors': 1234).") var seed: UInt32 = 1234
        @Option(help: "Training sequences.") var train = 128
        @Option(help: "Validation sequences.") var valid = 128
        @Option(help: "Test sequences.") var test = 1024
        @Option(help: "Streams: vectors to write (0: endless).") var steps = 100_000
        @Option(help: "Streams: steps per regime (switching, fhn-drift).") var period = 5000
        @Flag(help: "Streams: follow each vector with the regime that produced it (a class, for seq online --classes).") var labels = false

        mutating func validate() throws {
            guard task == "fhn" || SyntheticStream.Kind(rawValue: task) != nil else {
                throw ValidationError("make-data writes fhn, linear, switching or fhn-drift (got \(task))")
            }
            if steps < 0 || period < 1 { throw ValidationError("--steps must be ≥ 0 and --period ≥ 1") }
            if labels && !(task == "switching" || task == "fhn-drift") {
                throw ValidationError("--labels needs a stream with regimes: switching or fhn-drift (got \(task))")
            }
            for (name, v) in [("--train", train), ("--valid", valid), ("--test", test)] where v < 1 {
                throw ValidationError("\(name) must be at least 1 (got \(v))")
            }
        }

        func run() throws {
            try reportingErrors {
                if let kind = SyntheticStream.Kind(rawValue: task) {
                    var stream = SyntheticStream(kind: kind, seed: UInt64(seed))
                    stream.period = period
                    try writeStream(&stream)
                    return
                }
                try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
                let sets = FitzHughNagumo().authorsSplits(seed: seed, sizes: (train, valid, test))
                for (name, set) in [("train", sets.train), ("valid", sets.valid), ("test", sets.test)] {
                    let path = (out as NSString).appendingPathComponent("\(name).npz")
                    try writeNumPyArchive(set.numPyArrays(), to: path)
                    print("wrote \(path): \(set.count) sequences of \(set.steps) steps")
                }
            }
        }

        /// Text lines to --out (or standard output), written block by block.
        func writeStream(_ stream: inout SyntheticStream) throws {
            let handle: FileHandle
            if out == "-" { handle = FileHandle.standardOutput } else {
                guard FileManager.default.createFile(atPath: out, contents: nil), let h = FileHandle(forWritingAtPath: out) else {
                    throw ToolError(description: "\(out): cannot create the file")
                }
                handle = h
            }
            var text = "", written = 0
            while steps == 0 || written < steps {
                text += (labels ? stream.labelled() : stream.next()).map { String(format: "%.6g", $0) }.joined(separator: ",") + "\n"
                written += 1
                if written % 4096 == 0 || written == steps {
                    do { try handle.write(contentsOf: Data(text.utf8)) } catch { return }   // a closed pipe ends the stream
                    text = ""
                }
            }
            if out != "-" { try handle.close() }
        }
    }
}
