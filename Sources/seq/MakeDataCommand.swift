import ArgumentParser
import Foundation
import SequenceModelling
import ToolSupport

extension Seq {
    struct MakeData: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "make-data",
            abstract: "Write a synthetic task's data as .npz files: fhn (FitzHugh-Nagumo).",
            discussion: """
                fhn: the authors' FitzHugh-Nagumo sets (src/FitzHughNagumo/data.py): v' = v − v³/3
                − w + 0.5, w' = (v + 0.7 − 0.8 w)/50 from v₀ = 2·U(0,1) − 1 (NumPy's generator
                seeded --seed, drawn for train, valid, test in that order) and w₀ = 0, solved
                by SciPy's RK45 (rtol 1e-3, atol 1e-6) at 1,001 points on [0, 400]; input
                v(t₀…t₉₉₉), target the next value v(t₁…t₁₀₀₀) at every step. Writes
                train.npz, valid.npz and test.npz (x [N, 1000, 1], y [N, 1000, 1]) into --out,
                which seq train --task fhn --data DIR reads.

                Examples:
                  seq make-data fhn --out corpora/fhn
                  seq make-data fhn --out /tmp/fhn-small --train 16 --valid 8 --test 8 --seed 7
                """)

        @Argument(help: "The task whose data to write: fhn.") var task: String
        @Option(help: ArgumentHelp("Folder to write into (created if missing).", valueName: "dir")) var out: String
        @Option(help: "NumPy seed of the initial values (the authors': 1234).") var seed: UInt32 = 1234
        @Option(help: "Training sequences.") var train = 128
        @Option(help: "Validation sequences.") var valid = 128
        @Option(help: "Test sequences.") var test = 1024

        mutating func validate() throws {
            guard task == "fhn" else { throw ValidationError("make-data knows one synthetic task: fhn (got \(task))") }
            for (name, v) in [("--train", train), ("--valid", valid), ("--test", test)] where v < 1 {
                throw ValidationError("\(name) must be at least 1 (got \(v))")
            }
        }

        func run() throws {
            try reportingErrors {
                try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
                let sets = FitzHughNagumo().authorsSplits(seed: seed, sizes: (train, valid, test))
                for (name, set) in [("train", sets.train), ("valid", sets.valid), ("test", sets.test)] {
                    let path = (out as NSString).appendingPathComponent("\(name).npz")
                    try writeNumPyArchive(set.numPyArrays(), to: path)
                    print("wrote \(path): \(set.count) sequences of \(set.steps) steps")
                }
            }
        }
    }
}
