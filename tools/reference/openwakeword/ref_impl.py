"""Pure-numpy reference of openWakeWord 0.5.1 front end (melspectrogram.onnx + embedding_model.onnx),
written from the spec in FRONTEND-SPEC.md (this folder), and checked against onnxruntime."""
import numpy as np, onnx
from onnx import numpy_helper
P = "/root/.pyenv/versions/3.11.7/lib/python3.11/site-packages/openwakeword/resources/models/"

# ---------- melspectrogram ----------
def dft_kernels(dtype=np.float32):
    N, L = 512, 400
    win = np.zeros(N); win[56:56+L] = 0.5 - 0.5*np.cos(2*np.pi*np.arange(L)/L)   # periodic Hann(400), centred in 512
    n = np.arange(N); k = np.arange(257)[:, None]
    ang = 2*np.pi*((k*n) % N)/N
    return (win*np.cos(ang)).astype(dtype), (-win*np.sin(ang)).astype(dtype)

def slaney_mel_fb(sr=16000, n_fft=512, n_mels=32, fmin=60.0, fmax=3800.0):
    # == librosa.filters.mel(sr=16000, n_fft=512, n_mels=32, fmin=60, fmax=3800, htk=False, norm='slaney'), shape (32,257)
    def hz_to_mel(f):
        f = np.asanyarray(f, dtype=np.float64); f_sp = 200.0/3; mels = f/f_sp
        min_log_hz = 1000.0; min_log_mel = min_log_hz/f_sp; logstep = np.log(6.4)/27.0
        return np.where(f >= min_log_hz, min_log_mel + np.log(np.maximum(f, 1e-12)/min_log_hz)/logstep, mels)
    def mel_to_hz(m):
        m = np.asanyarray(m, dtype=np.float64); f_sp = 200.0/3; freqs = f_sp*m
        min_log_hz = 1000.0; min_log_mel = min_log_hz/f_sp; logstep = np.log(6.4)/27.0
        return np.where(m >= min_log_mel, min_log_hz*np.exp(logstep*(m-min_log_mel)), freqs)
    fftfreqs = np.fft.rfftfreq(n_fft, 1.0/sr)
    mel_f = mel_to_hz(np.linspace(hz_to_mel(fmin), hz_to_mel(fmax), n_mels+2))
    fdiff = np.diff(mel_f); ramps = mel_f[:, None] - fftfreqs[None, :]
    W = np.zeros((n_mels, len(fftfreqs)), dtype=np.float32)  # librosa stores float32 rows, then scales in place
    for i in range(n_mels):
        lower = -ramps[i]/fdiff[i]; upper = ramps[i+2]/fdiff[i+1]
        W[i] = np.maximum(0, np.minimum(lower, upper))
    enorm = 2.0/(mel_f[2:n_mels+2] - mel_f[:n_mels]); W *= enorm[:, None]
    return W.astype(np.float32)

def melspec_ref(x, raw_model_output=False, dtype=np.float64):
    """x: 1-D float array of int16-valued samples (NOT scaled to [-1,1]). Returns [frames,32]."""
    x = np.asarray(x, dtype=dtype)
    Kr, Ki = dft_kernels(np.float32)
    T = (len(x) - 512)//160 + 1
    idx = np.arange(T)[:, None]*160 + np.arange(512)[None, :]
    frames = x[idx]                                   # [T,512], no centre padding
    re = frames @ Kr.T.astype(dtype); im = frames @ Ki.T.astype(dtype)
    power = re*re + im*im                             # [T,257]  |X|^2
    mel = power @ slaney_mel_fb().T.astype(dtype)     # [T,32]
    db = 10.0*np.log(np.maximum(mel, 1e-10))/np.float32(2.3025851249694824)   # 10*log10
    db = np.maximum(db, db.max() - 80.0)              # top_db=80 over the WHOLE call (all frames, all bins)
    if raw_model_output: return db
    return db/10.0 + 2.0                              # openwakeword's melspec_transform

# ---------- embedding ----------
_m = onnx.load(P+"embedding_model.onnx")
_W = {t.name: numpy_helper.to_array(t) for t in _m.graph.initializer}
def _conv(x, w, b, pad_w):
    # x [C,H,W] ; w [O,C,kh,kw] ; valid along H, 'pad_w' zeros each side along W, stride 1
    C, H, Wd = x.shape; O, _, kh, kw = w.shape
    xp = np.pad(x, ((0,0),(0,0),(pad_w,pad_w)))
    Ho, Wo = H-kh+1, Wd+2*pad_w-kw+1
    out = np.zeros((O, Ho, Wo))
    for i in range(kh):
        for j in range(kw):
            out += np.einsum('oc,chw->ohw', w[:,:,i,j].astype(np.float64), xp[:, i:i+Ho, j:j+Wo])
    if b is not None: out += b[:, None, None]
    return out
def _act(x): return np.maximum(np.where(x >= 0, x, 0.2*x), -0.4)
def _pool(x, ph, pw):
    C, H, Wd = x.shape; Ho, Wo = H//ph, Wd//pw
    return x[:, :Ho*ph, :Wo*pw].reshape(C, Ho, ph, Wo, pw).max(axis=(2, 4))
LAYERS = [  # (initializer prefix, kernel (kh,kw), pad along mel axis, maxpool after (ph,pw) or None)
    ("conv2d",    (3,3), 1, None), ("conv2d_1", (1,3), 1, None), ("conv2d_2", (3,1), 0, (2,2)),
    ("conv2d_3",  (1,3), 1, None), ("conv2d_4", (3,1), 0, None), ("conv2d_5", (1,3), 1, None), ("conv2d_6", (3,1), 0, (1,2)),
    ("conv2d_7",  (1,3), 1, None), ("conv2d_8", (3,1), 0, None), ("conv2d_9", (1,3), 1, None), ("conv2d_10", (3,1), 0, (2,2)),
    ("conv2d_11", (1,3), 1, None), ("conv2d_12", (3,1), 0, None), ("conv2d_13", (1,3), 1, None), ("conv2d_14", (3,1), 0, (1,2)),
    ("conv2d_15", (1,3), 1, None), ("conv2d_16", (3,1), 0, None), ("conv2d_17", (1,3), 1, None), ("conv2d_18", (3,1), 0, (2,2)),
]
def embed_ref(window):
    """window [76,32] (post-transform mel) -> [96]"""
    x = np.asarray(window, dtype=np.float64)[None]    # [1,76,32]  C=1, H=time, W=mel
    for name, k, pad, pool in LAYERS:
        x = _act(_conv(x, _W[f"model/{name}/Conv2D_weights_fused_bn"], _W[f"model/{name}/Conv2D_bias_fused_bn"], pad))
        if pool: x = _pool(x, *pool)
    x = _conv(x, _W["model/conv2d_19/Conv2D/ReadVariableOp:0"], None, 0)   # [96,3,1] -> [96,1,1], no bias, no activation
    return x.reshape(96)
