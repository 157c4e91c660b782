#!/usr/bin/env python3
"""Make the librosa reference fixtures for the Swift `Audio` feature tests.

What it makes (in Tests/AudioTests/Fixtures/, relative to the repo root):

  chirp.wav, noise_burst.wav, vowel.wav
      1 s, 16 kHz, mono, 16-bit PCM, synthesised deterministically:
      - chirp: exponential sweep 100 Hz -> 7000 Hz, amplitude 0.5, 20 ms fades, the first
        50 ms exactly zero (exercises the amin floor and top_db clipping);
      - noise_burst: numpy RandomState(1234) Gaussian noise, 0.002 background, a 0.3 burst
        between 0.3 s and 0.6 s with 5 ms ramps;
      - vowel: 120 Hz (+-3 Hz vibrato at 5 Hz) harmonic series up to 7.5 kHz shaped by three
        formant resonances (700, 1220, 2600 Hz), peak 0.6, attack/decay envelope.

  <name>.safetensors (one per WAV), float32 tensors, time-major [frames, features]:
      mfcc          [101, 40]  librosa.feature.mfcc with FeatureSettings.mfcc's parameters
      mfcc_mel_db   [101, 40]  the power_to_db(mel) that mfcc applies its DCT to
      logmel_db     [126, 80]  LEM loader: power_to_db(melspectrogram(...), ref=np.max), padded/cut
      logmel        [126, 80]  the same after the loader's per-clip z-score
      mfcc_half, logmel_half,  the same features
      logmel_db_half
      mfcc_short, logmel_short, the same for the first 300 samples only (shorter than the
      logmel_db_short          centre padding: numpy 'reflect' repeats the reflection) for the first 8000 samples only (0.5 s):
                               MFCC has 51 STFT frames (padded with 0 to 101); log-mel has 63
                               (padded with 0 dB to 126 *before* the z-score, as the loader does)
      samples       [16000]    the samples as librosa read them (int16 / 32768)

  filterbanks.safetensors: mel_mfcc [40, 257] and mel_logmel [80, 513] (librosa.filters.mel).

Every file's metadata records the librosa / numpy / scipy / soundfile versions and the
exact calls. Run from the repo root:

    pip install librosa soundfile safetensors && python3 tools/reference/make_mfcc_fixtures.py

The outputs are deterministic (fixed seeds, no randomness elsewhere); the WAVs are written with
soundfile (libsndfile, like the Swift side) and the features computed from the WAVs as read
back, so both sides start from the same quantised samples.
"""

import os
import sys
import warnings

import numpy as np
import librosa
import scipy
import soundfile as sf
from safetensors.numpy import save_file

SR = 16000
N = SR
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "Tests", "AudioTests", "Fixtures")

MFCC_KW = dict(sr=SR, n_mfcc=40, n_fft=512, hop_length=160, win_length=480, window="hann",
               center=True, pad_mode="constant", power=2.0, n_mels=40, fmin=20.0, fmax=4000.0,
               htk=False, norm="ortho", mel_norm="slaney", dct_type=2, lifter=0)
MFCC_CALL = ("librosa.feature.mfcc(y=y, sr=16000, n_mfcc=40, n_fft=512, hop_length=160, win_length=480, "
             "window='hann', center=True, pad_mode='constant', power=2.0, n_mels=40, fmin=20.0, fmax=4000.0, "
             "htk=False, norm='ortho', mel_norm='slaney', dct_type=2, lifter=0)  # mel norm 'slaney' (librosa >= 0.10 "
             "names it mel_norm; norm is the DCT's); internally power_to_db(ref=1.0, amin=1e-10, top_db=80)")
LOGMEL_KW = dict(sr=SR, n_fft=1024, hop_length=128, power=1.0, n_mels=80, fmin=40.0, fmax=8000.0,
                 center=True, pad_mode="reflect")
LOGMEL_CALL = ("S = librosa.feature.melspectrogram(y=y, sr=16000, n_fft=1024, hop_length=128, power=1.0, n_mels=80, "
               "fmin=40.0, fmax=8000.0, center=True, pad_mode='reflect'); D = librosa.power_to_db(S, ref=np.max); "
               "pad D with zeros / cut to 126 frames; z = (D - D.mean()) / D.std(ddof=1) unless std == 0 "
               "(tk-rusch/LEM src/Google12/google12_data_loader.py spect_loader)")
LOGMEL_FRAMES = 126
MFCC_FRAMES = 101


def fade(n, ramp):
    env = np.ones(n)
    r = np.linspace(0.0, 1.0, ramp)
    env[:ramp] = r
    env[-ramp:] = r[::-1]
    return env


def chirp():
    t = np.arange(N) / SR
    f0, f1, dur = 100.0, 7000.0, 1.0
    k = np.log(f1 / f0) / dur
    phase = 2 * np.pi * f0 * (np.exp(k * t) - 1) / k
    y = 0.5 * np.sin(phase) * fade(N, int(0.02 * SR))
    y[: int(0.05 * SR)] = 0.0
    return y


def noise_burst():
    rng = np.random.RandomState(1234)
    y = 0.002 * rng.standard_normal(N)
    a, b = int(0.3 * SR), int(0.6 * SR)
    y[a:b] += 0.3 * rng.standard_normal(b - a) * fade(b - a, int(0.005 * SR))
    return np.clip(y, -0.99, 0.99)


def vowel():
    t = np.arange(N) / SR
    f0 = 120.0 + 3.0 * np.sin(2 * np.pi * 5.0 * t)
    phase = 2 * np.pi * np.cumsum(f0) / SR
    formants = [(700.0, 130.0), (1220.0, 70.0), (2600.0, 160.0)]
    y = np.zeros(N)
    h = 1
    while 120.0 * h < 7500.0:
        fh = 120.0 * h
        gain = sum(1.0 / (1.0 + ((fh - fc) / bw) ** 2) for fc, bw in formants) / h ** 0.5
        y += gain * np.sin(h * phase)
        h += 1
    env = np.minimum(1.0, t / 0.08) * np.minimum(1.0, (1.0 - t) / 0.15)
    y *= env
    return 0.6 * y / np.max(np.abs(y))


def lem_logmel(y):
    S = librosa.feature.melspectrogram(y=y, **LOGMEL_KW)
    D = librosa.power_to_db(S, ref=np.max)
    if D.shape[1] < LOGMEL_FRAMES:
        D = np.hstack((D, np.zeros((D.shape[0], LOGMEL_FRAMES - D.shape[1]), dtype=D.dtype)))
    else:
        D = D[:, :LOGMEL_FRAMES]
    D = D.astype(np.float32)
    d64 = D.astype(np.float64)
    std = d64.std(ddof=1)
    Z = (d64 - d64.mean()) / std if std != 0 else d64
    return D.T.copy(), Z.astype(np.float32).T.copy()


def mfcc(y):
    M = librosa.feature.mfcc(y=y, **MFCC_KW)
    out = np.zeros((40, MFCC_FRAMES), dtype=np.float32)
    k = min(MFCC_FRAMES, M.shape[1])
    out[:, :k] = M[:, :k]
    return out.T.copy()


def mfcc_mel_db(y):
    kw = {k: v for k, v in MFCC_KW.items() if k not in ("n_mfcc", "norm", "mel_norm", "dct_type", "lifter")}
    S = librosa.feature.melspectrogram(y=y, norm="slaney", **kw)
    return librosa.power_to_db(S, ref=1.0, amin=1e-10, top_db=80.0).astype(np.float32).T.copy()


def metadata(extra):
    meta = {
        "librosa": librosa.__version__,
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "soundfile": sf.__version__,
        "libsndfile": sf.__libsndfile_version__,
        "python": sys.version.split()[0],
        "mfcc_call": MFCC_CALL,
        "logmel_call": LOGMEL_CALL,
        "layout": "time-major [frames, features], float32",
        "half": "the *_half tensors use y[:8000] only",
        "short": "the *_short tensors use y[:300] only",
    }
    meta.update(extra)
    return meta


def save(tensors, path, meta):
    """save_file, then rewrite the JSON header with sorted keys: the Rust writer orders metadata
    keys by hash, which would make the bytes differ from run to run."""
    import json
    import struct
    save_file(tensors, path, meta)
    with open(path, "rb") as f:
        blob = f.read()
    n = struct.unpack("<Q", blob[:8])[0]
    header = json.loads(blob[8:8 + n])
    text = json.dumps(header, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()
    assert len(text) <= n
    text += b" " * (n - len(text))
    with open(path, "wb") as f:
        f.write(blob[:8] + text + blob[8 + n:])


def main():
    os.makedirs(OUT, exist_ok=True)
    for name, make in [("chirp", chirp), ("noise_burst", noise_burst), ("vowel", vowel)]:
        path = os.path.join(OUT, name + ".wav")
        sf.write(path, make(), SR, subtype="PCM_16")
        y, sr = librosa.load(path, sr=None)  # float32, int16 / 32768
        assert sr == SR and y.shape == (N,) and y.dtype == np.float32
        tensors = {"samples": y.copy(), "mfcc": mfcc(y), "mfcc_mel_db": mfcc_mel_db(y)}
        tensors["logmel_db"], tensors["logmel"] = lem_logmel(y)
        tensors["mfcc_half"] = mfcc(y[:8000].copy())
        tensors["logmel_db_half"], tensors["logmel_half"] = lem_logmel(y[:8000].copy())
        with warnings.catch_warnings():  # "n_fft=1024 is too large for input signal of length=300"
            warnings.simplefilter("ignore")
            tensors["mfcc_short"] = mfcc(y[:300].copy())
            tensors["logmel_db_short"], tensors["logmel_short"] = lem_logmel(y[:300].copy())
        save(tensors, os.path.join(OUT, name + ".safetensors"), metadata({"wav": name + ".wav"}))
        print(name, {k: v.shape for k, v in tensors.items()})
    mel_kw = {k: MFCC_KW[k] for k in ("sr", "n_fft", "n_mels", "fmin", "fmax", "htk")}
    mel_kw["norm"] = "slaney"
    log_kw = dict(sr=SR, n_fft=1024, n_mels=80, fmin=40.0, fmax=8000.0, htk=False, norm="slaney")
    banks = {"mel_mfcc": librosa.filters.mel(**mel_kw), "mel_logmel": librosa.filters.mel(**log_kw)}
    save(banks, os.path.join(OUT, "filterbanks.safetensors"),
              metadata({"mel_mfcc_call": f"librosa.filters.mel(**{mel_kw})",
                        "mel_logmel_call": f"librosa.filters.mel(**{log_kw})"}))
    print("filterbanks", {k: v.shape for k, v in banks.items()})


if __name__ == "__main__":
    main()
