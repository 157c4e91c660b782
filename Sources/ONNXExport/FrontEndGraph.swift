/// An audio front end as ONNX operators: the framing, window, FFT, filterbank, decibels, DCT and
/// per-clip normalisation of `Audio.FeatureExtractor` (docs/FEATURES.md), step for step, for
/// clips of a fixed length (`kws` pads or cuts every clip to 1 s before its features).
///
/// The FFT is ONNX's `STFT` (opset 17); the filterbank and DCT go in as the extractor's own
/// matrices (ONNX's `MelWeightMatrix` is HTK's mel scale, not librosa's Slaney one).
public struct ONNXFrontEndSpec: Sendable {
    public var clipSamples: Int
    public var nFFT: Int
    public var hopLength: Int
    /// nFFT values (the window centred in the FFT frame, zeros around it).
    public var window: [Float]
    /// Samples added before and after the clip (`center`: nFFT/2), and how.
    public var pad: Int
    public var reflectPad: Bool
    /// 2: power spectrum; 1: magnitude; other values |X|^power.
    public var power: Float
    /// The filterbank [nMels, bins] row-major.
    public var melFilterbank: [Float]
    public var nMels: Int
    public var amin: Float
    /// dB relative to the clip's largest mel value (else to 1).
    public var referenceIsClipMaximum: Bool
    public var topDB: Float?
    /// DCT-II [nMFCC, nMels] row-major for MFCCs; nil for log-mels.
    public var dct: [Float]?
    public var featureCount: Int
    /// Frames the model reads (the STFT's frames padded with 0 or cut to this).
    public var frames: Int
    /// z-score over the whole clip's features (unbiased std; skipped when the std is 0).
    public var perClipNormalization: Bool

    public init(clipSamples: Int, nFFT: Int, hopLength: Int, window: [Float], pad: Int, reflectPad: Bool, power: Float,
                melFilterbank: [Float], nMels: Int, amin: Float, referenceIsClipMaximum: Bool, topDB: Float?, dct: [Float]?,
                featureCount: Int, frames: Int, perClipNormalization: Bool) {
        (self.clipSamples, self.nFFT, self.hopLength, self.window, self.pad, self.reflectPad) = (clipSamples, nFFT, hopLength, window, pad, reflectPad)
        (self.power, self.melFilterbank, self.nMels, self.amin, self.referenceIsClipMaximum) = (power, melFilterbank, nMels, amin, referenceIsClipMaximum)
        (self.topDB, self.dct, self.featureCount, self.frames, self.perClipNormalization) = (topDB, dct, featureCount, frames, perClipNormalization)
    }

    var bins: Int { nFFT / 2 + 1 }
    var stftFrames: Int { 1 + (clipSamples + 2 * pad - nFFT) / hopLength }
}

extension GraphBuilder {
    /// Features [B, frames, F] of `audio` [B, clipSamples].
    mutating func frontEnd(_ s: ONNXFrontEndSpec, audio: String) throws -> String {
        guard s.window.count == s.nFFT, s.melFilterbank.count == s.nMels * s.bins, s.clipSamples + 2 * s.pad >= s.nFFT,
              !s.reflectPad || s.pad < s.clipSamples else {
            throw ONNXExportError("front end: inconsistent settings (window \(s.window.count), FFT \(s.nFFT), clip \(s.clipSamples), pad \(s.pad))")
        }
        // Centre the frames: pad both ends of the time axis ([0, p] before, [0, p] after).
        var x = op("Pad", audio, int64s("pads", [0, Int64(s.pad), 0, Int64(s.pad)]),
                   attributes: [Attribute.string("mode", s.reflectPad ? "reflect" : "constant")])
        x = op("Unsqueeze", x, int64s("axes", [-1]))                                                     // [B, N + 2p, 1]
        initializer("frontend.window", shape: [s.nFFT], floats: s.window)
        let stft = op("STFT", x, int64s("hop", [Int64(s.hopLength)], scalar: true), "frontend.window",
                      attributes: [Attribute.int("onesided", 1)])                                         // [B, frames, bins, 2]
        var spectrum = op("ReduceSum", op("Mul", stft, stft), int64s("axes", [-1]), attributes: [Attribute.int("keepdims", 0)])
        if s.power == 1 {
            spectrum = op("Sqrt", spectrum)
        } else if s.power != 2 {
            spectrum = op("Pow", spectrum, scalar("half_power", s.power / 2))
        }
        // Filterbank: [B, frames, bins] × [bins, nMels].
        var bankT = [Float](repeating: 0, count: s.melFilterbank.count)
        for m in 0..<s.nMels { for k in 0..<s.bins { bankT[k * s.nMels + m] = s.melFilterbank[m * s.bins + k] } }
        initializer("frontend.mel_filterbank_t", shape: [s.bins, s.nMels], floats: bankT)
        let mel = op("MatMul", spectrum, "frontend.mel_filterbank_t")
        // Decibels: 10·log10(max(S, amin)) − reference, then the floor top_db below the clip's maximum.
        let amin = scalar("amin", s.amin), tenOverLn10 = scalar("ten_over_ln10", Float(10 / log(10.0)))
        func decibels(_ v: String) -> String { op("Mul", op("Log", op("Max", v, amin)), tenOverLn10) }
        // ReduceSum takes its axes as an input from opset 13, ReduceMax and ReduceMean as an attribute until opset 18.
        let keep = Attribute.int("keepdims", 1), clipAxesAttribute = Attribute.ints("axes", [1, 2])
        var db = decibels(mel)
        if s.referenceIsClipMaximum { db = op("Sub", db, decibels(op("ReduceMax", mel, attributes: [clipAxesAttribute, keep]))) }
        if let topDB = s.topDB {
            db = op("Max", db, op("Sub", op("ReduceMax", db, attributes: [clipAxesAttribute, keep]), scalar("top_db", topDB)))
        }
        var features = db
        if let dct = s.dct {
            var dctT = [Float](repeating: 0, count: dct.count)
            for c in 0..<s.featureCount { for m in 0..<s.nMels { dctT[m * s.featureCount + c] = dct[c * s.nMels + m] } }
            initializer("frontend.dct_t", shape: [s.nMels, s.featureCount], floats: dctT)
            features = op("MatMul", db, "frontend.dct_t")
        }
        // Pad with 0 / cut to the model's frames (known here: the clip length is fixed).
        if s.stftFrames > s.frames {
            features = op("Slice", features, int64s("starts", [0]), int64s("ends", [Int64(s.frames)]), int64s("axes", [1]))
        } else if s.stftFrames < s.frames {
            features = op("Pad", features, int64s("pads", [0, 0, 0, 0, Int64(s.frames - s.stftFrames), 0]))
        }
        if s.perClipNormalization {
            let count = Float(s.frames * s.featureCount)
            let mean = op("ReduceMean", features, attributes: [clipAxesAttribute, keep])
            let centred = op("Sub", features, mean)
            let variance = op("Div", op("ReduceSum", op("Mul", centred, centred), int64s("axes", [1, 2]), attributes: [keep]), scalar("count_minus_1", count - 1))
            let std = op("Sqrt", variance)
            let isZero = op("Equal", std, scalar("zero", 0))
            features = op("Where", isZero, features, op("Div", centred, std))
        }
        return features
    }
}

import Foundation
