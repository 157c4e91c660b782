// What the field does to a clean synthetic word before training on it (openWakeWord,
// microWakeWord): speed, room reverberation, equalisation; and where the word sits in the window.

import Foundation
import Runtime

/// The span of `x` that holds sound: from the first to the last 10 ms frame whose energy is
/// within `floorDB` of the loudest frame's (the whole clip when it is silent).
public func soundSpan(_ x: [Float], rate: Int, floorDB: Double = 40) -> Range<Int> {
    let frame = max(1, rate / 100)
    let frames = (x.count + frame - 1) / frame
    guard frames > 0 else { return 0..<0 }
    let energy = (0..<frames).map { f in x[(f * frame)..<min(x.count, (f + 1) * frame)].reduce(0.0) { $0 + Double($1 * $1) } }
    let peak = energy.max()!
    guard peak > 0 else { return 0..<x.count }
    let floor = peak * pow(10, -floorDB / 10)
    let first = energy.firstIndex { $0 >= floor }!, last = energy.lastIndex { $0 >= floor }!
    return (first * frame)..<min(x.count, (last + 1) * frame)
}

/// `x` played `factor` times faster (tempo and pitch together, as sox's `speed`): resampled.
public func changeSpeed(_ x: [Float], by factor: Double, rate: Int) throws -> [Float] {
    let target = Int((Double(rate) / factor).rounded())
    return target == rate ? x : try resample(x, from: rate, to: target)
}

/// `x` in a simulated room: convolved with an impulse response of a direct path followed by
/// exponentially decaying Gaussian noise (the energy falls by 60 dB in `rt60` seconds), the
/// reverberant part at `wet` of the direct path's level, after a `predelay`; the result keeps
/// `x`'s peak level and length plus the tail. (A statistical room model, not an image-source one.)
public func reverberate(_ x: [Float], rate: Int, rt60: Double, wet: Float, predelay: Double = 0.005, rng: inout RandomGenerator) -> [Float] {
    let length = max(1, Int(min(rt60, 1.0) * Double(rate)))
    let delay = Int(predelay * Double(rate))
    var ir = [Float](repeating: 0, count: delay + length)
    ir[0] = 1
    let decay = log(1000.0) / (rt60 * Double(rate))   // amplitude e^(−decay·n): −60 dB at rt60
    var tail: [Float] = (0..<length).map { n in rng.normal() * Float(exp(-decay * Double(n))) }
    let tailNorm = tail.reduce(0) { $0 + $1 * $1 }.squareRoot()
    if tailNorm > 0 { for i in tail.indices { tail[i] *= wet / tailNorm } }
    for i in 0..<length where delay + i > 0 { ir[delay + i] += tail[i] }
    var y = [Float](repeating: 0, count: x.count + ir.count - 1)
    for (i, v) in x.enumerated() where v != 0 {
        y.withUnsafeMutableBufferPointer { out in
            ir.withUnsafeBufferPointer { h in
                for k in 0..<h.count { out[i + k] += v * h[k] }
            }
        }
    }
    let peakIn = x.reduce(Float(0)) { max($0, abs($1)) }, peakOut = y.reduce(Float(0)) { max($0, abs($1)) }
    if peakOut > 0 { for i in y.indices { y[i] *= peakIn / peakOut } }
    return y
}

/// A peaking equaliser (RBJ's Audio EQ Cookbook biquad): `gainDB` at `frequency` Hz with
/// quality `q`, applied forward once (direct form I).
public func peakingEQ(_ x: [Float], rate: Int, frequency: Double, gainDB: Double, q: Double) -> [Float] {
    let a = pow(10, gainDB / 40), w = 2 * Double.pi * frequency / Double(rate), alpha = sin(w) / (2 * q)
    let b0 = 1 + alpha * a, b1 = -2 * cos(w), b2 = 1 - alpha * a
    let a0 = 1 + alpha / a, a1 = -2 * cos(w), a2 = 1 - alpha / a
    var (x1, x2, y1, y2) = (0.0, 0.0, 0.0, 0.0)
    return x.map { v in
        let input = Double(v)
        let out = (b0 * input + b1 * x1 + b2 * x2 - a1 * y1 - a2 * y2) / a0
        (x2, x1, y2, y1) = (x1, input, y1, out)
        return Float(out)
    }
}

/// A window of `length` samples holding `word` so that it ends at `end` (zeros around it; the
/// word's start is cut when it is longer than `end`).
public func place(_ word: [Float], endingAt end: Int, length: Int) -> [Float] {
    place(word, startingAt: min(length, end) - word.count, length: length)
}

/// A window of `length` samples with `x` from `start` on (which may be negative); whatever falls
/// outside the window is cut (a reverberant tail past its end, a word's start before it).
public func place(_ x: [Float], startingAt start: Int, length: Int) -> [Float] {
    var window = [Float](repeating: 0, count: length)
    for i in max(0, start)..<max(max(0, start), min(length, start + x.count)) { window[i] = x[i - start] }
    return window
}
