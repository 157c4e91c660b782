import Foundation
import LEMModel

/// The built-in default corpora, made on the user's machine by the scripts in `corpora/`:
/// `text` (PTB-normalised English from Debian's licence texts, `make-default-text.sh`) and
/// `speech` (Speech Commands layout synthesised with espeak-ng, `make-default-speech.sh`).
public enum DefaultCorpus: String, Sendable {
    case text
    case speech

    package var script: String { self == .text ? "make-default-text.sh" : "make-default-speech.sh" }
    /// A file that exists once the corpus is complete.
    package var marker: String { self == .text ? "ptb.train.txt" : "testing_list.txt" }

    /// The corpus directory, building it first (once) if needed.
    ///
    /// Looked up in `$LEM_CORPORA/<name>`, else in `corpora/generated/<name>` of the checkout this
    /// binary was built in (found from the executable's path), else of the current directory.
    public func directory() throws -> String {
        let fm = FileManager.default
        if let env = Environment.corpora {
            let dir = env + "/" + rawValue
            guard fm.fileExists(atPath: dir + "/" + marker) else {
                throw ToolError(description: "\(dir): LEM_CORPORA is set, but the default \(rawValue) corpus is not there (run corpora/\(script) \(dir))")
            }
            return dir
        }
        guard let root = Self.checkoutRoot() else {
            throw ToolError(description: "no default \(rawValue) corpus found: run the tool from the lem checkout, or pass --data DIR")
        }
        let dir = root + "/corpora/generated/" + rawValue
        if !fm.fileExists(atPath: dir + "/" + marker) {
            writeStandardError("building the default \(rawValue) corpus (corpora/\(script), once)…\n")
            let status = try spawnAndWait("/bin/bash", [root + "/corpora/" + script, dir], standardOutput: nil, standardError: nil)
            guard status == 0, fm.fileExists(atPath: dir + "/" + marker) else {
                throw ToolError(description: "\(root)/corpora/\(script): failed to build the default \(rawValue) corpus (exit \(status))")
            }
        }
        return dir
    }

    /// The nearest directory above the executable (or the current directory) that has `corpora/`.
    package static func checkoutRoot() -> String? {
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
