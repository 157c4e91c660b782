import Foundation
import LEMModel
import Text

/// The built-in default corpus: English text every Debian system has, normalised to PTB
/// conventions by `corpora/make-default-text.sh` (run on first use).
enum DefaultCorpus {
    /// The directory of the default word/char corpus, building it first if needed.
    ///
    /// Looked up in `$LEM_CORPORA/text`, else in `corpora/generated/text` of the checkout this
    /// binary was built in (found from the executable's path), else of the current directory.
    static func textDirectory() throws -> String {
        let fm = FileManager.default
        if let env = ProcessInfo.processInfo.environment["LEM_CORPORA"], !env.isEmpty {
            let dir = env + "/text"
            guard fm.fileExists(atPath: dir + "/ptb.train.txt") else {
                throw TextError(file: dir, problem: "LEM_CORPORA is set, but the default text corpus is not there (run corpora/make-default-text.sh \(dir))")
            }
            return dir
        }
        guard let root = checkoutRoot() else {
            throw TextError(file: "corpora/generated/text", problem: "no default corpus found: run lm from the lem checkout, or pass --data DIR")
        }
        let dir = root + "/corpora/generated/text"
        if !fm.fileExists(atPath: dir + "/ptb.train.txt") {
            writeStandardError("lm: building the default corpus (corpora/make-default-text.sh, once)…\n")
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/bin/bash")
            process.arguments = [root + "/corpora/make-default-text.sh", dir]
            try process.run()
            process.waitUntilExit()
            guard process.terminationStatus == 0, fm.fileExists(atPath: dir + "/ptb.train.txt") else {
                throw TextError(file: root + "/corpora/make-default-text.sh", problem: "failed to build the default corpus (exit \(process.terminationStatus))")
            }
        }
        return dir
    }

    /// The nearest directory above the executable (or the current directory) that holds
    /// corpora/make-default-text.sh.
    static func checkoutRoot() -> String? {
        let fm = FileManager.default
        var candidates: [URL] = []
        if let exe = try? fm.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            candidates.append(URL(fileURLWithPath: exe).deletingLastPathComponent())
        }
        candidates.append(URL(fileURLWithPath: fm.currentDirectoryPath))
        for start in candidates {
            var dir = start
            for _ in 0..<8 {
                if fm.fileExists(atPath: dir.appendingPathComponent("corpora/make-default-text.sh").path) { return dir.path }
                dir = dir.deletingLastPathComponent()
            }
        }
        return nil
    }
}
