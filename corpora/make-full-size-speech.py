#!/usr/bin/env python3
"""Builds a Speech Commands tree of the full dataset's size from a small one, for scale tests.

Speech Commands v0.02 has 105,829 clips of 35 words (84,843 training, 9,981 validation,
11,005 testing). This links every clip of a small tree in the 12-class layout (for example
../shared/data/speech_commands_dev: yes/ … go/, _unknown_/<word>_<speaker>_nohash_<n>.wav,
_silence_/) COPIES times under distinct speaker ids into the real layout: one folder per word
(the unknown words get their own folders again, as in the real dataset; _silence_/ is left out,
as the real dataset has none), names <speaker>_nohash_<n>.wav, and validation_list.txt /
testing_list.txt made by TensorFlow's which_set hash of the speaker id (10 % / 10 %), which is how
the real lists were made. _background_noise_/ is linked as is. Files are hard links (symbolic
links across file systems): the tree costs no disk space for audio.

Usage: corpora/make-full-size-speech.py SOURCE DEST [--copies 35]
"""
import argparse
import hashlib
import os
import re
import sys

MAX_NUM_WAVS_PER_CLASS = 2 ** 27 - 1  # TensorFlow's input_data.py


def which_set(filename, validation_percentage=10, testing_percentage=10):
    """TensorFlow speech_commands input_data.which_set."""
    base_name = os.path.basename(filename)
    hash_name = re.sub(r'_nohash_.*$', '', base_name)
    hash_name_hashed = hashlib.sha1(hash_name.encode('utf-8')).hexdigest()
    percentage_hash = ((int(hash_name_hashed, 16) % (MAX_NUM_WAVS_PER_CLASS + 1)) * (100.0 / MAX_NUM_WAVS_PER_CLASS))
    if percentage_hash < validation_percentage:
        return 'validation'
    if percentage_hash < (testing_percentage + validation_percentage):
        return 'testing'
    return 'training'


def link(src, dst):
    try:
        os.link(src, dst)
    except OSError:
        os.symlink(os.path.abspath(src), dst)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('source')
    parser.add_argument('dest')
    parser.add_argument('--copies', type=int, default=35)
    args = parser.parse_args()
    if not os.path.isdir(args.source):
        sys.exit(f'make-full-size-speech: {args.source}: no such directory')
    if os.path.exists(args.dest) and os.listdir(args.dest):
        sys.exit(f'make-full-size-speech: {args.dest}: exists and is not empty')
    os.makedirs(args.dest, exist_ok=True)
    clips = []  # (source path, word, speaker, utterance)
    for folder in sorted(os.listdir(args.source)):
        path = os.path.join(args.source, folder)
        if not os.path.isdir(path) or folder in ('_silence_', '_background_noise_'):
            continue
        for name in sorted(os.listdir(path)):
            if not name.endswith('.wav'):
                continue
            m = re.match(r'^(?:(?P<word>[a-z]+)_)?(?P<speaker>[0-9a-f]+)_nohash_(?P<n>\d+)\.wav$', name)
            if not m:
                continue
            word = m.group('word') if folder == '_unknown_' and m.group('word') else folder
            clips.append((os.path.join(path, name), word, m.group('speaker'), m.group('n')))
    if not clips:
        sys.exit(f'make-full-size-speech: {args.source}: no <speaker>_nohash_<n>.wav clips found')
    lists = {'validation': [], 'testing': []}
    count = 0
    for copy in range(args.copies):
        for src, word, speaker, n in clips:
            new_speaker = hashlib.sha1(f'{speaker}/{copy}'.encode()).hexdigest()[:8]
            rel = f'{word}/{new_speaker}_nohash_{n}.wav'
            os.makedirs(os.path.join(args.dest, word), exist_ok=True)
            dst = os.path.join(args.dest, rel)
            if os.path.exists(dst):  # two source speakers hashed alike: keep the first
                continue
            link(src, dst)
            count += 1
            split = which_set(rel)
            if split in lists:
                lists[split].append(rel)
    noise = os.path.join(args.source, '_background_noise_')
    if os.path.isdir(noise):
        os.makedirs(os.path.join(args.dest, '_background_noise_'), exist_ok=True)
        for name in sorted(os.listdir(noise)):
            link(os.path.join(noise, name), os.path.join(args.dest, '_background_noise_', name))
    for split, names in lists.items():
        with open(os.path.join(args.dest, f'{split}_list.txt'), 'w') as f:
            f.write(''.join(n + '\n' for n in sorted(names)))
    words = sorted({w for _, w, _, _ in clips})
    print(f'{args.dest}: {count} clips of {len(words)} words ({args.copies} copies of {len(clips)}); '
          f'validation {len(lists["validation"])}, testing {len(lists["testing"])}, '
          f'training {count - len(lists["validation"]) - len(lists["testing"])}')


if __name__ == '__main__':
    main()
