// The fixed matrices of the feature pipeline, computed in Double exactly as librosa does:
// the analysis window, the mel filterbank (librosa.filters.mel) and the DCT-II (scipy.fft.dct,
// norm="ortho").

#if canImport(Glibc)
import Glibc
#endif

/// Hz → mel. Slaney: linear below 1 kHz (f / (200/3)), logarithmic above
/// (15 + ln(f/1000) / (ln 6.4 / 27)); HTK: 2595·log10(1 + f/700). As librosa `hz_to_mel`.
public func hzToMel(_ hz: Double, scale: FeatureSettings.MelScale) -> Double {
    switch scale {
    case .htk:
        return 2595 * log10(1 + hz / 700)
    case .slaney:
        let fSp = 200.0 / 3, minLogHz = 1000.0, minLogMel = minLogHz / fSp, logStep = log(6.4) / 27
        return hz >= minLogHz ? minLogMel + log(hz / minLogHz) / logStep : hz / fSp
    }
}

/// Mel → Hz, the inverse of `hzToMel` (librosa `mel_to_hz`).
public func melToHz(_ mel: Double, scale: FeatureSettings.MelScale) -> Double {
    switch scale {
    case .htk:
        return 700 * (pow(10, mel / 2595) - 1)
    case .slaney:
        let fSp = 200.0 / 3, minLogHz = 1000.0, minLogMel = minLogHz / fSp, logStep = log(6.4) / 27
        return mel >= minLogMel ? minLogHz * exp(logStep * (mel - minLogMel)) : fSp * mel
    }
}

/// numpy `linspace(start, stop, count)` (endpoint included, last value exactly `stop`).
func linspace(_ start: Double, _ stop: Double, _ count: Int) -> [Double] {
    guard count > 1 else { return count == 1 ? [start] : [] }
    let step = (stop - start) / Double(count - 1)
    var values = (0..<count).map { start + Double($0) * step }
    values[count - 1] = stop
    return values
}

/// The mel filterbank `[nMels, nFFT/2 + 1]` row-major, as librosa `filters.mel(sr, n_fft, n_mels,
/// fmin, fmax, htk, norm)`: band edges `nMels + 2` points equally spaced in mel between fmin and
/// fmax, converted to Hz; filter i is the triangle rising from edge i to edge i+1 and falling to
/// edge i+2, linear in Hz, evaluated at the bin frequencies k·sr/nFFT; with Slaney norm each
/// triangle is scaled by 2 / (edge[i+2] − edge[i]) (constant area). Computed in Double.
public func melFilterbank(_ settings: FeatureSettings) -> [Double] {
    let bins = settings.binCount, nMels = settings.nMels
    let binHz = (0..<bins).map { Double($0) * Double(settings.sampleRate) / Double(settings.nFFT) }
    let edges = linspace(hzToMel(settings.fmin, scale: settings.melScale), hzToMel(settings.fmax, scale: settings.melScale), nMels + 2)
        .map { melToHz($0, scale: settings.melScale) }
    var weights = [Double](repeating: 0, count: nMels * bins)
    for i in 0..<nMels {
        let lowerWidth = edges[i + 1] - edges[i], upperWidth = edges[i + 2] - edges[i + 1]
        let norm = settings.melNorm == .slaney ? 2 / (edges[i + 2] - edges[i]) : 1
        for k in 0..<bins {
            let lower = (binHz[k] - edges[i]) / lowerWidth      // −ramps[i] / fdiff[i]
            let upper = (edges[i + 2] - binHz[k]) / upperWidth  //  ramps[i+2] / fdiff[i+1]
            weights[i * bins + k] = max(0, min(lower, upper)) * norm
        }
    }
    return weights
}

/// The orthonormal DCT-II matrix `[count, size]` row-major (scipy `dct(type=2, norm='ortho')`):
/// `D[k][n] = s_k · cos(π k (2n + 1) / (2·size))` with `s_0 = √(1/size)`, `s_k = √(2/size)`.
/// `count ≤ size` keeps the first coefficients (librosa's `n_mfcc`).
public func dctIIOrthoMatrix(count: Int, size: Int) -> [Double] {
    var d = [Double](repeating: 0, count: count * size)
    for k in 0..<count {
        let scale = (k == 0 ? 1.0 : 2.0).squareRoot() / Double(size).squareRoot()
        for n in 0..<size {
            d[k * size + n] = scale * cos(Double.pi * Double(k) * Double(2 * n + 1) / Double(2 * size))
        }
    }
    return d
}

/// The analysis window, `nFFT` long: a periodic window of `winLength` samples centred in the FFT
/// frame with zeros on both sides (librosa `get_window(window, win_length, fftbins=True)` then
/// `util.pad_center(…, size=n_fft)`, left padding ⌊(nFFT − winLength)/2⌋).
public func analysisWindow(_ settings: FeatureSettings) -> [Double] {
    var w = [Double](repeating: 0, count: settings.nFFT)
    let offset = (settings.nFFT - settings.winLength) / 2
    for n in 0..<settings.winLength {
        switch settings.window {
        case .hann: w[offset + n] = 0.5 - 0.5 * cos(2 * Double.pi * Double(n) / Double(settings.winLength))
        }
    }
    return w
}
