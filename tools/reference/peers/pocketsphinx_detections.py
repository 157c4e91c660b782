#!/usr/bin/env python3
"""PocketSphinx's keyword search over a recording, for `kws eval-stream --scores`.

Runs PocketSphinx (PyPI `pocketsphinx`, its bundled US English acoustic model and CMU
dictionary) in keyword-search mode over a 16 kHz 16-bit mono WAV, exactly as Picovoice's
wake-word benchmark drives it (engine.py, read with the search tool): 512-sample frames to
`process_raw`, a detection whenever `hyp()` is not empty, then the utterance is restarted;
`kws_threshold = 10 ** -s` for each sensitivity s (Picovoice sweeps s = -21, -18, ..., 15).

PocketSphinx gives detections, not scores, so there is one CSV per sensitivity: a row
`time_s,label,1` at the end of each frame that fired (nothing else). Score each with a fixed
threshold and no averaging; every file is one point of the DET curve:

    pip install pocketsphinx
    python3 tools/reference/peers/pocketsphinx_detections.py stream.wav --keyphrase alexa \\
        --sensitivity -9 -6 -3 0 3 --out ps
    for s in -9 -6 -3 0 3; do
      kws eval-stream --scores ps.s$s.csv stream.wav --threshold 0.5 --scoring picovoice --cooldown-ms 1000 --json
    done

All sensitivities run in one pass over the audio (one decoder each, fed the same frames);
the CPU figure printed is per decoder (the total divided by their number).
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
    parser.add_argument("--keyphrase", required=True, help="the phrase, in the dictionary's words (e.g. alexa, jarvis)")
    parser.add_argument("--label", default=None, help="the label written (default: the keyphrase)")
    parser.add_argument("--sensitivity", type=float, nargs="+", default=[-21, -18, -15, -12, -9, -6, -3, 0, 3, 6, 9, 12, 15],
                        help="values s of kws_threshold = 10**-s (default: Picovoice's sweep -21..15 by 3)")
    parser.add_argument("--out", required=True, help="prefix: writes PREFIX.s{S}.csv per sensitivity")
    args = parser.parse_args()

    from pocketsphinx import Decoder, get_model_path

    words = {}
    model = get_model_path("en-us")  # pocketsphinx 5: model/en-us/{en-us, cmudict-en-us.dict}
    dictionary = os.path.join(model, "cmudict-en-us.dict")
    with open(dictionary, encoding="utf-8") as f:
        for line in f:
            words[line.split(" ", 1)[0]] = True
    missing = [w for w in args.keyphrase.lower().split() if w not in words]
    if missing:
        sys.exit(f"{dictionary}: no pronunciation for {', '.join(missing)}")

    label = args.label or args.keyphrase.replace(" ", "_")
    decoders = []
    for s in args.sensitivity:
        decoder = Decoder(hmm=os.path.join(model, "en-us"), dict=dictionary,
                          keyphrase=args.keyphrase.lower(), kws_threshold=10 ** -s, logfn="/dev/null")
        decoder.start_utt()
        decoders.append(decoder)

    with wave.open(args.wav, "rb") as w:
        if w.getframerate() != 16000 or w.getnchannels() != 1 or w.getsampwidth() != 2:
            sys.exit(f"{args.wav}: need 16 kHz mono 16-bit PCM (got {w.getframerate()} Hz, {w.getnchannels()} channels, {8 * w.getsampwidth()}-bit)")
        frames = w.getnframes()
        frame = 512
        outputs = []
        for s in args.sensitivity:
            path = f"{args.out}.s{s:g}.csv"
            out = open(path + ".partial", "w")
            out.write("time_s,label,score\n")
            outputs.append((path, out))
        counts = [0] * len(decoders)
        started = time.perf_counter()
        done = 0
        while done + frame <= frames:
            pcm = np.frombuffer(w.readframes(frame), dtype=np.int16).tobytes()
            done += frame
            for k, decoder in enumerate(decoders):
                decoder.process_raw(pcm, False, False)
                if decoder.hyp() is not None:
                    decoder.end_utt()
                    decoder.start_utt()
                    outputs[k][1].write(f"{done / 16000:.3f},{label},1\n")
                    counts[k] += 1
        seconds = time.perf_counter() - started
        for (path, out) in outputs:
            out.close()
            os.replace(path + ".partial", path)
    audio_s = frames / 16000
    per = seconds / len(decoders)
    print(f"{args.wav}: {audio_s / 3600:.2f} h, {len(decoders)} sensitivities in {seconds:.0f} s "
          f"({100 * per / audio_s:.2f}% of one core per decoder)")
    for s, c, (path, _) in zip(args.sensitivity, counts, outputs):
        print(f"  s = {s:g} (kws_threshold 1e{-s:+g}): {c} detections -> {path}")


if __name__ == "__main__":
    main()
