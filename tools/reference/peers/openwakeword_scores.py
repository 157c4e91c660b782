#!/usr/bin/env python3
"""openWakeWord's score of every 80 ms frame of a recording, for `kws eval-stream --scores`.

Runs openWakeWord 0.5.1's pretrained model (default: `alexa_v0.1`, from the wheel, with
onnxruntime) over a 16 kHz 16-bit mono WAV in the 1280-sample chunks its `Model.predict`
takes, as a live caller would, and writes `time_s,label,score` per chunk (time: the end of the
chunk). Nothing else is done to the scores: thresholds, the cooldown and the scoring are
kws eval-stream's, the same as for our models.

    pip install openwakeword==0.5.1 onnxruntime
    python3 tools/reference/peers/openwakeword_scores.py stream.wav --out oww.csv
    kws eval-stream --scores oww.csv stream.wav --sweep --scoring picovoice --cooldown-ms 1000

Licence of the pretrained wake-word models: CC BY-NC-SA 4.0 (openWakeWord's README) -- we
run them as a reference only and ship none of their weights.
"""
import argparse
import os
import sys
import time
import wave

import numpy as np


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("wav", help="16 kHz 16-bit mono WAV")
    parser.add_argument("--model", default="alexa_v0.1", help="a model of the wheel (alexa_v0.1, hey_jarvis_v0.1, ...) or an .onnx path")
    parser.add_argument("--label", default=None, help="the label written (default: the model's name before _v)")
    parser.add_argument("--out", required=True, help="CSV to write")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()

    import onnxruntime
    import openwakeword
    from openwakeword.model import Model

    path = args.model
    if not path.endswith(".onnx"):
        path = os.path.join(os.path.dirname(openwakeword.__file__), "resources", "models", args.model + ".onnx")
    if not os.path.exists(path):
        sys.exit(f"{path}: no such model")
    label = args.label or os.path.basename(path).split("_v")[0]
    onnxruntime.set_default_logger_severity(3)
    model = Model(wakeword_models=[path], inference_framework="onnx", ncpu=args.threads)
    key = list(model.models.keys())[0]

    with wave.open(args.wav, "rb") as w:
        if w.getframerate() != 16000 or w.getnchannels() != 1 or w.getsampwidth() != 2:
            sys.exit(f"{args.wav}: need 16 kHz mono 16-bit PCM (got {w.getframerate()} Hz, {w.getnchannels()} channels, {8 * w.getsampwidth()}-bit)")
        frames = w.getnframes()
        chunk = 1280
        started = time.perf_counter()
        with open(args.out + ".partial", "w") as out:
            out.write("time_s,label,score\n")
            done = 0
            while done + chunk <= frames:
                audio = np.frombuffer(w.readframes(chunk), dtype=np.int16)
                score = model.predict(audio)[key]
                done += chunk
                out.write(f"{done / 16000:.3f},{label},{float(score):.6f}\n")
        os.replace(args.out + ".partial", args.out)
    seconds = time.perf_counter() - started
    audio_hours = frames / 16000 / 3600
    print(f"{args.wav}: {audio_hours:.2f} h, {done // chunk} frames of {label} scores in {seconds:.0f} s "
          f"({audio_hours * 3600 / max(seconds, 1e-9):.0f}x real time, {100 * seconds / (audio_hours * 3600):.2f}% of one core); {args.out}")


if __name__ == "__main__":
    main()
