import Audio
import Foundation
import LEMModel
import ToolTestSupport
import XCTest

/// `kws make-stream`: reproducible by seed, and every label points at the clip inserted there.
final class KWSMakeStreamTests: XCTestCase {
    func testStreamsAreReproducibleAndLabelsPointAtTheirClips() throws {
        let dir = makeTemporaryDirectory()
        try makeToneCorpus(dir + "/data", perClass: 12)
        let common = ["make-stream", "--data", dir + "/data", "--split", "test", "--minutes", "0.5", "--gap-ms", "500"]
        for name in ["a", "b"] {
            let r = try runTool("kws", common + ["--seed", "4", "--out", "\(dir)/\(name).wav"])
            XCTAssertEqual(r.status, 0, r.stderr)
        }
        XCTAssertEqual(FileManager.default.contents(atPath: dir + "/a.wav"), FileManager.default.contents(atPath: dir + "/b.wav"), "same seed, same bytes")
        XCTAssertEqual(FileManager.default.contents(atPath: dir + "/a.csv"), FileManager.default.contents(atPath: dir + "/b.csv"))
        XCTAssertEqual(try runTool("kws", common + ["--seed", "5", "--out", dir + "/c.wav"]).status, 0)
        XCTAssertNotEqual(FileManager.default.contents(atPath: dir + "/a.wav"), FileManager.default.contents(atPath: dir + "/c.wav"))

        // Without noise (a huge SNR), the stream at each labelled span is exactly the labelled clip.
        XCTAssertEqual(try runTool("kws", common + ["--snr-db", "300", "--out", dir + "/clean.wav"]).status, 0)
        let stream = try readAudio(path: dir + "/clean.wav").samples
        XCTAssertEqual(stream.count, 30 * 16000)
        let lines = try String(contentsOfFile: dir + "/clean.csv", encoding: .utf8).split(separator: "\n").dropFirst()
        XCTAssertGreaterThan(lines.count, 10)
        var previousEnd = 0
        for line in lines {
            let f = line.split(separator: ",").map(String.init)
            XCTAssertEqual(f.count, 4, String(line))
            let (start, end) = (Int(f[1])! * 16, Int(f[2])! * 16)
            XCTAssertEqual(end - start, 16000)
            XCTAssertGreaterThanOrEqual(start, previousEnd, "clips do not overlap")
            previousEnd = end
            let clip = try loadClip(path: dir + "/data/" + f[3])
            let word = f[3].split(separator: "/")[0]
            XCTAssertEqual(f[0], word == "bed" ? "_unknown_" : String(word))
            let worst = zip(stream[start..<end], clip).map { abs($0 - $1) }.max()!
            XCTAssertLessThanOrEqual(worst, 1.0 / 32768, "\(line): the stream holds another clip here")
        }
    }

    /// `kws eval-stream` end to end: a tone model on a tone stream, one threshold and a sweep.
    func testEvalStreamReportsMissRateFalseAlarmsAndTheDETCurve() throws {
        let dir = makeTemporaryDirectory()
        try makeToneCorpus(dir + "/data", perClass: 18)
        let ckpt = dir + "/t.ckpt"
        // The settings with which KWSEndToEndTests' tone model separates the classes.
        XCTAssertEqual(try runTool("kws", ["train", "--data", dir + "/data", "--checkpoint", ckpt, "--hidden", "16", "--batch", "4", "--epochs", "25",
                                           "--lr", "0.01", "--lr-decay", "1", "--all-unknown", "--seed", "2"]).status, 0)
        XCTAssertEqual(try runTool("kws", ["make-stream", "--data", dir + "/data", "--minutes", "0.5", "--out", dir + "/s.wav"]).status, 0)
        let r = try runTool("kws", ["eval-stream", "--checkpoint", ckpt, dir + "/s.wav", "--sweep", "--json"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let object = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [String: Any]
        let missRate = try XCTUnwrap(object["miss_rate"] as? Double), fa = try XCTUnwrap(object["fa_per_hour"] as? Double)
        print("tone stream: miss rate \(missRate), \(fa) false alarms per hour at threshold \(object["threshold"] ?? "?")")
        // The tone keywords are found where they were inserted, each once (measured: none missed, none extra).
        XCTAssertLessThanOrEqual(missRate, 0.25)
        XCTAssertLessThanOrEqual(fa, 240, "at most two false alarms in the half minute")
        XCTAssertNotNil(object["target"])
        // TensorFlow's rates beside ours, under its names; --protocol tf takes its script's defaults.
        let tf = try XCTUnwrap(object["tensorflow"] as? [String: Any])
        let (correct, wrong, matched) = (tf["correct"] as! Double, tf["wrong"] as! Double, tf["matched"] as! Double)
        XCTAssertEqual(matched, correct + wrong, accuracy: 1e-9)
        XCTAssertEqual(tf["tolerance_ms"] as? Int, 1500)
        let tfRun = try runTool("kws", ["eval-stream", "--checkpoint", ckpt, dir + "/s.wav", "--protocol", "tf"])
        XCTAssertEqual(tfRun.status, 0, tfRun.stderr)
        print(tfRun.stdout)
        XCTAssertTrue(tfRun.stdout.contains("threshold 0.70"), tfRun.stdout)
        XCTAssertTrue(tfRun.stdout.contains("TensorFlow's streaming accuracy (accuracy_utils.py, tolerance 1500 ms):"), tfRun.stdout)
        XCTAssertTrue(tfRun.stdout.contains("% correct,") && tfRun.stdout.contains("% false positive"), tfRun.stdout)
        let det = try String(contentsOfFile: dir + "/s.det.csv", encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(det.count, 1 + 97, "a header and thresholds 0.30 … 0.99, then finer up to 0.99999")
        XCTAssertEqual(det[0], "threshold,miss_rate,fa_per_hour,misses,false_alarms")
        let points = try XCTUnwrap(object["operating_points"] as? [[String: Any]])
        XCTAssertEqual(points.map { $0["fa_per_hour_limit"] as? Double }, [0.1, 0.5, 1, 2, 5])
        XCTAssertEqual(Set((object["false_alarm_sources"] as? [String: Int] ?? [:]).keys), ["noise", "other_speech", "other_keyword", "repeat"])
        XCTAssertTrue(try String(contentsOfFile: dir + "/s.det.svg", encoding: .utf8).hasPrefix("<svg"))
        // Several DET curves in one chart; a broken CSV is named with its line.
        let plot = try runTool("kws", ["plot", "--det", dir + "/s.det.csv", dir + "/s.det.csv", "--out", dir + "/both.svg"])
        XCTAssertEqual(plot.status, 0, plot.stderr)
        XCTAssertTrue(try String(contentsOfFile: dir + "/both.svg", encoding: .utf8).contains("miss rate"))
        try "threshold,miss_rate,fa_per_hour\n0.30,0.5,10\n0.31,1.5,3\n".write(toFile: dir + "/bad.det.csv", atomically: true, encoding: .utf8)
        let badPlot = try runTool("kws", ["plot", "--det", dir + "/bad.det.csv", "--out", dir + "/bad.svg"])
        XCTAssertNotEqual(badPlot.status, 0)
        XCTAssertTrue(badPlot.stderr.contains("bad.det.csv:3: expected threshold,miss_rate,fa_per_hour"), badPlot.stderr)
        // A wake-word stream (Picovoice's layout) straight from make-stream into eval-stream, the
        // same samples as the file, scored Picovoice's way with a cooldown.
        let data = dir + "/data"
        let wake = ["make-stream", "--keyword-clips", data + "/yes", "--speech", data, "--speech-split", "test", "--noise", data + "/_background_noise_",
                    "--noise-range", "0.8:1", "--minutes", "1", "--seed", "3"]
        let file = try runTool("kws", wake + ["--out", dir + "/w.wav"])
        XCTAssertEqual(file.status, 0, file.stderr)
        XCTAssertTrue(file.stdout.contains("18 keywords (yes, 18 recordings)") && file.stdout.contains("range 0.8:1"), file.stdout)
        let kws = productsDirectory().appendingPathComponent("kws").path
        let pipe = Process()
        pipe.executableURL = URL(fileURLWithPath: "/bin/sh")
        pipe.arguments = ["-c", "\"$0\" \"$@\" --out - --labels \(dir)/p.csv | \"$0\" eval-stream --checkpoint \(ckpt) - --labels \(dir)/p.csv "
                          + "--sweep --det \(dir)/p.det --scoring picovoice --cooldown-ms 1000 --json", kws] + wake
        let piped = try runToCompletion(pipe)
        XCTAssertEqual(piped.status, 0, piped.stderr)
        XCTAssertEqual(FileManager.default.contents(atPath: dir + "/w.csv"), FileManager.default.contents(atPath: dir + "/p.csv"), "the same labels")
        let fromFile = try runTool("kws", ["eval-stream", "--checkpoint", ckpt, dir + "/w.wav", "--sweep", "--det", dir + "/f.det", "--scoring", "picovoice",
                                           "--cooldown-ms", "1000", "--json"])
        XCTAssertEqual(fromFile.status, 0, fromFile.stderr)
        XCTAssertEqual(try String(contentsOfFile: dir + "/f.det.csv", encoding: .utf8), try String(contentsOfFile: dir + "/p.det.csv", encoding: .utf8),
                       "the pipe carries the file's samples")
        let w = try JSONSerialization.jsonObject(with: Data(piped.stdout.utf8)) as! [String: Any]
        XCTAssertEqual(w["scoring"] as? String, "picovoice")
        XCTAssertEqual(w["cooldown_ms"] as? Double, 1000)
        print("wake-word pipe: miss rate \(w["miss_rate"] ?? "?"), \(w["fa_per_hour"] ?? "?") false alarms per hour, operating points \(w["operating_points"] ?? "?")")
        // The decision layer: thresholds chosen on the sweep for a budget, saved in the checkpoint,
        // used by listen (which keeps the audio of each detection when asked).
        let decided = try runTool("kws", ["eval-stream", "--checkpoint", ckpt, dir + "/w.wav", "--sweep", "--det", dir + "/d.det", "--target-fa-per-hour", "100000",
                                          "--cooldown-ms", "1000", "--consecutive", "2", "--energy-gate-db=-60", "--save-decision", "--json"])
        XCTAssertEqual(decided.status, 0, decided.stderr)
        let decision = try XCTUnwrap((try JSONSerialization.jsonObject(with: Data(decided.stdout.utf8)) as! [String: Any])["decision"] as? [String: Any])
        XCTAssertEqual((decision["thresholds"] as? [String: Double])?["yes"], 0.3, "any threshold meets a huge budget: the lowest swept")
        let listened = try runTool("kws", ["listen", "--checkpoint", ckpt, dir + "/w.wav", "--json", "--save-detections", dir + "/wakes"])
        XCTAssertEqual(listened.status, 0, listened.stderr)
        XCTAssertTrue(listened.stderr.contains("the checkpoint's decision layer: thresholds") && listened.stderr.contains("yes 0.3") && listened.stderr.contains("for 100000 false alarms per hour"), listened.stderr)
        let saved = try FileManager.default.contentsOfDirectory(atPath: dir + "/wakes").filter { $0.hasSuffix(".wav") }
        XCTAssertEqual(saved.count, listened.stdout.split(separator: "\n").count, "one WAV per detection")
        XCTAssertGreaterThan(saved.count, 0)
        XCTAssertEqual(try readAudio(path: dir + "/wakes/" + saved[0]).samples.count, 16000)
        // eval-stream measures the saved decision layer as listen applies it: the same figures as
        // its settings given as flags; --threshold overrides it.
        let applied = try runTool("kws", ["eval-stream", "--checkpoint", ckpt, dir + "/w.wav", "--json"])
        XCTAssertEqual(applied.status, 0, applied.stderr)
        XCTAssertTrue(applied.stderr.contains("the checkpoint's decision layer: thresholds") && applied.stderr.contains("yes 0.3"), applied.stderr)
        let flags = try runTool("kws", ["eval-stream", "--checkpoint", ckpt, dir + "/w.wav", "--threshold", "0.3", "--cooldown-ms", "1000", "--consecutive", "2",
                                        "--energy-gate-db=-60", "--json"])
        XCTAssertEqual(flags.status, 0, flags.stderr)
        let a = try JSONSerialization.jsonObject(with: Data(applied.stdout.utf8)) as! [String: Any]
        let f = try JSONSerialization.jsonObject(with: Data(flags.stdout.utf8)) as! [String: Any]
        print("decision layer applied: miss rate \(a["miss_rate"]!), \(a["fa_per_hour"]!) FA/h; as flags: \(f["miss_rate"]!), \(f["fa_per_hour"]!)")
        XCTAssertEqual((a["keyword_thresholds"] as? [String: Double])?["yes"], 0.3)
        XCTAssertTrue(f["keyword_thresholds"] is NSNull)
        for key in ["miss_rate", "fa_per_hour", "cooldown_ms", "energy_gate_db", "average_ms"] { XCTAssertEqual(a[key] as? Double, f[key] as? Double, key) }
        XCTAssertEqual(a["consecutive"] as? Int, 2)
        let noPipeLabels = try runTool("kws", ["eval-stream", "--checkpoint", ckpt, "-"])
        XCTAssertNotEqual(noPipeLabels.status, 0)
        XCTAssertTrue(noPipeLabels.stderr.contains("a stream on standard input needs --labels"), noPipeLabels.stderr)

        let bad = try runTool("kws", ["eval-stream", "--checkpoint", ckpt, dir + "/s.wav", "--labels", dir + "/missing.csv"])
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertTrue(bad.stderr.contains("missing.csv: cannot read the labels"), bad.stderr)
    }
}

/// `kws eval-stream --scores`: another detector's frames scored as ours, against hand-computed figures.
final class KWSExternalScoresTests: XCTestCase {
    func testAnotherDetectorsScoresGoThroughTheSameScoring() throws {
        let dir = makeTemporaryDirectory()
        try writeWAV(path: dir + "/s.wav", samples: [Float](repeating: 0, count: 60 * 16000), sampleRate: 16000)
        try "label,start_ms,end_ms,clip\nalexa,10000,12000,a.wav\nalexa,30000,32000,b.wav\nbed,40000,41000,c.wav\n"
            .write(toFile: dir + "/s.csv", atomically: true, encoding: .utf8)
        var rows = ["time_s,label,score"]
        for k in 1...750 {
            let t = Double(k) * 0.08
            let score = (11.0...11.2).contains(t) ? 0.95 : abs(t - 40.4) < 0.01 ? 0.7 : abs(t - 50.0) < 0.01 ? 0.99 : 0.0
            rows.append(String(format: "%.2f,alexa,%.2f", t, score))
        }
        try (rows.joined(separator: "\n") + "\n").write(toFile: dir + "/oww.csv", atomically: true, encoding: .utf8)
        let r = try runTool("kws", ["eval-stream", "--scores", dir + "/oww.csv", dir + "/s.wav", "--threshold", "0.9", "--cooldown-ms", "1000",
                                    "--scoring", "picovoice", "--json"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let o = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [String: Any]
        // The first keyword is found (once: the cooldown), the second missed; the 0.99 at 50 s is a
        // false alarm on noise; the 0.7 on "bed" stays below the threshold. One false alarm in a minute.
        print("external scores: miss rate \(o["miss_rate"]!) (expected 0.5), false alarms per hour \(o["fa_per_hour"]!) (expected 60)")
        XCTAssertEqual(o["miss_rate"] as! Double, 0.5, accuracy: 1e-12)
        XCTAssertEqual(o["fa_per_hour"] as! Double, 60, accuracy: 1e-9)
        XCTAssertEqual(o["false_alarm_sources"] as? [String: Int], ["noise": 1, "other_speech": 0, "other_keyword": 0, "repeat": 0])
        XCTAssertNil(o["tensorflow"], "no windows, no TensorFlow figures")
        try "time_s,label,score\n0.08,alexa,0.5\n0.04,alexa,0.5\n".write(toFile: dir + "/bad.csv", atomically: true, encoding: .utf8)
        let bad = try runTool("kws", ["eval-stream", "--scores", dir + "/bad.csv", dir + "/s.wav"])
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertTrue(bad.stderr.contains("bad.csv:3: expected time_s,label,score with times in order"), bad.stderr)
        // --det x writes x.csv: never over the scores it reads.
        let scores = try String(contentsOfFile: dir + "/oww.csv", encoding: .utf8)
        let clash = try runTool("kws", ["eval-stream", "--scores", dir + "/oww.csv", dir + "/s.wav", "--sweep", "--det", dir + "/oww"])
        XCTAssertEqual(clash.status, 1)
        XCTAssertTrue(clash.stderr.contains("would write the DET curve to \(dir)/oww.csv, which is --scores"), clash.stderr)
        XCTAssertEqual(try String(contentsOfFile: dir + "/oww.csv", encoding: .utf8), scores, "the scores are untouched")
    }

    /// Recordings a wake-word stream cannot decode: named, and left out only when asked.
    func testUnreadableKeywordRecordingsAreNamedOrSkipped() throws {
        let dir = makeTemporaryDirectory()
        for folder in ["hey", "speech/bed", "noise"] { try FileManager.default.createDirectory(atPath: "\(dir)/\(folder)", withIntermediateDirectories: true) }
        for k in 0..<3 { try writeWAV(path: "\(dir)/hey/\(k).wav", samples: [Float](repeating: 0.3, count: 8000), sampleRate: 16000) }
        try writeWAV(path: "\(dir)/speech/bed/0.wav", samples: [Float](repeating: -0.3, count: 4000), sampleRate: 16000)
        try writeWAV(path: "\(dir)/noise/n.wav", samples: (0..<32000).map { Float($0 % 7) / 20 }, sampleRate: 16000)
        try Data("fLaC not really".utf8).write(to: URL(fileURLWithPath: dir + "/hey/broken.flac"))
        let common = ["make-stream", "--keyword-clips", dir + "/hey", "--speech", dir + "/speech", "--noise", dir + "/noise", "--minutes", "0.2", "--out", dir + "/w.wav"]
        let stopped = try runTool("kws", common)
        XCTAssertNotEqual(stopped.status, 0)
        XCTAssertTrue(stopped.stderr.contains("1 keyword recording cannot be decoded (--skip-unreadable leaves them out)") && stopped.stderr.contains("broken.flac"), stopped.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/w.wav"))
        let skipped = try runTool("kws", common + ["--skip-unreadable"])
        XCTAssertEqual(skipped.status, 0, skipped.stderr)
        XCTAssertTrue(skipped.stderr.contains("skipping an unreadable keyword recording") && skipped.stdout.contains("3 keywords (hey, 3 recordings)")
                      && skipped.stdout.contains("1 unreadable keyword recordings left out"), skipped.stdout + skipped.stderr)
    }
}
