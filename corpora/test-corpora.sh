#!/usr/bin/env bash
# Self-check of the corpus scripts, quick enough for CI (about 15 s on 2 cores):
#   - make-default-text.sh: file names, PTB line shape, char files = word files spelled out,
#     non-empty splits, valid/test words all in the train vocabulary, determinism, idempotence;
#   - make-default-speech.sh --small: 16 kHz mono 16-bit 1.0 s WAVs, Speech Commands names,
#     lists that name existing files, speaker-disjoint splits, noise files >= 30 s, determinism;
#   - fetch-ptb.sh / fetch-speech-commands.sh / fetch-mnist.sh / fetch-cifar10.sh /
#     fetch-eigenworms.sh / fetch-bidmc32hr.sh: syntax, --help, and that a file failing its
#     checksum (or, where none is published, its shape) installs nothing (no network needed).
# Usage: corpora/test-corpora.sh [-h] [--keep]   (--keep: leave the temporary folder for inspection)
# Exits non-zero with a message on the first failure.
set -euo pipefail
export LC_ALL=C

prog=test-corpora.sh
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
keep=0
case "${1:-}" in
  -h|--help) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  --keep) keep=1 ;;
  "") ;;
  *) echo "$prog: unknown argument '$1' (see -h)" >&2; exit 2 ;;
esac

work=$(mktemp -d "${TMPDIR:-/tmp}/lem-corpora-test.XXXXXX")
if [ "$keep" = 1 ]; then trap 'echo "$prog: kept $work" >&2' EXIT; else trap 'rm -rf "$work"' EXIT; fi

fail() { echo "$prog: FAIL: $*" >&2; exit 1; }
pass() { echo "$prog: ok: $*"; }
tree_sums() { (cd "$1" && find . -type f ! -name SOURCE.md -print0 | sort -z | xargs -0 sha256sum); }

# --- scripts exist, parse, answer -h ---------------------------------------------------------
for s in make-default-text.sh make-default-speech.sh fetch-ptb.sh fetch-speech-commands.sh fetch-mnist.sh fetch-cifar10.sh \
         fetch-eigenworms.sh fetch-bidmc32hr.sh; do
  [ -x "$here/$s" ] || fail "$s missing or not executable"
  bash -n "$here/$s" || fail "$s has a syntax error"
  "$here/$s" -h > "$work/help.txt" || fail "$s -h exits non-zero"
  grep -q '^Usage:' "$work/help.txt" || fail "$s -h prints no usage"
done
pass "scripts parse and print usage"

# --- text corpus -----------------------------------------------------------------------------
T1="$work/text1"
T2="$work/text2"
"$here/make-default-text.sh" "$T1" > "$work/text1.out" 2> "$work/text1.err" \
  || { cat "$work/text1.err" >&2; fail "make-default-text.sh failed"; }
grep -q '^text corpus .*train [0-9]* sentences' "$work/text1.out" || fail "make-default-text.sh printed no summary"
for s in train valid test; do
  for f in "ptb.$s.txt" "ptb.char.$s.txt"; do
    [ -s "$T1/$f" ] || fail "text: $f missing or empty"
  done
done
[ -s "$T1/SOURCE.md" ] || fail "text: SOURCE.md missing"
grep -q 'common-licenses' "$T1/SOURCE.md" || fail "text: SOURCE.md does not name its sources"

for s in train valid test; do
  f="$T1/ptb.$s.txt"
  # " w1 w2 ... wn \n": a leading and a trailing space, single spaces, at least one token
  bad=$(grep -nEv '^( [^ ]+)+ $' "$f" | head -n 3 || true)
  [ -z "$bad" ] || fail "text: $s: lines not in PTB shape: $bad"
  bad=$(grep -n '[0-9]' "$f" | head -n 3 || true)
  [ -z "$bad" ] || fail "text: $s: digits left: $bad"
  bad=$(grep -n '[A-MO-Z]' "$f" | head -n 3 || true)
  [ -z "$bad" ] || fail "text: $s: upper case other than N: $bad"
  bad=$(sed 's/<unk>//g' "$f" | grep -n '[<>]' | head -n 3 || true)
  [ -z "$bad" ] || fail "text: $s: angle brackets other than <unk>: $bad"
  # the char file is the word file spelled out: characters separated by spaces, _ between words
  perl -ne 'chomp; s/^ //; s/ $//; my @w = split / /; print " ", join(" ", split(//, join("_", @w))), " \n"' "$f" \
    | cmp -s - "$T1/ptb.char.$s.txt" || fail "text: ptb.char.$s.txt does not spell out ptb.$s.txt"
done
# every valid/test word occurs in train (the vocabulary is built from train, the rest is <unk>)
oov=$(cat "$T1/ptb.valid.txt" "$T1/ptb.test.txt" | tr ' ' '\n' | grep -v '^$' | sort -u \
  | comm -23 - <(tr ' ' '\n' < "$T1/ptb.train.txt" | grep -v '^$' | sort -u) | head -n 5)
[ -z "$oov" ] || fail "text: words in valid/test but not in train: $oov"
vocab=$(tr ' ' '\n' < "$T1/ptb.train.txt" | grep -v '^$' | sort -u | wc -l)
[ "$vocab" -le 10001 ] || fail "text: vocabulary of $vocab words, more than 10,000 + <unk>"
grep -q ' <unk> ' "$T1/ptb.train.txt" || fail "text: no <unk> in train"
pass "text corpus: names, PTB shape, char files, vocabulary ($(head -c 200 "$work/text1.out"))"

"$here/make-default-text.sh" "$T2" > /dev/null 2>&1 || fail "make-default-text.sh failed on the second run"
diff <(tree_sums "$T1") <(tree_sums "$T2") > /dev/null || fail "text: two runs gave different corpora"
before=$(tree_sums "$T1"; stat -c %Y "$T1/ptb.train.txt")
"$here/make-default-text.sh" "$T1" > /dev/null 2> "$work/text3.err" || fail "text: re-run on a complete corpus failed"
grep -q 'up to date' "$work/text3.err" || fail "text: re-run on a complete corpus did not report 'up to date'"
[ "$before" = "$(tree_sums "$T1"; stat -c %Y "$T1/ptb.train.txt")" ] || fail "text: re-run changed a complete corpus"
# an unrelated non-empty folder is never replaced
mkdir -p "$work/userdir" && echo keep > "$work/userdir/file"
if "$here/make-default-text.sh" "$work/userdir" > /dev/null 2>&1; then fail "text: overwrote a folder it did not make"; fi
[ "$(cat "$work/userdir/file")" = keep ] || fail "text: touched a folder it did not make"
ls -a "$work" | grep -q '^\.text-tmp' && fail "text: temporary folder left behind"
pass "text corpus: deterministic, idempotent, leaves foreign folders alone"

# --- speech corpus (--small) -----------------------------------------------------------------
S1="$work/speech1"
S2="$work/speech2"
"$here/make-default-speech.sh" --small "$S1" > "$work/speech1.out" 2> "$work/speech1.err" \
  || { cat "$work/speech1.err" >&2; fail "make-default-speech.sh --small failed"; }
for f in validation_list.txt testing_list.txt SOURCE.md; do
  [ -s "$S1/$f" ] || fail "speech: $f missing or empty"
done
(cd "$S1" && find . -mindepth 2 -name '*.wav' ! -path './_background_noise_/*' | sed 's|^\./||' | sort) > "$work/clips.txt"
nclips=$(wc -l < "$work/clips.txt")
[ "$nclips" -gt 0 ] || fail "speech: no clips"
for w in yes no up down left right on off stop go; do
  grep -q "^$w/" "$work/clips.txt" || fail "speech: no clips for keyword '$w'"
done
bad=$(grep -Ev '^[a-z]+/[0-9a-f]{8}_nohash_[0-9]+\.wav$' "$work/clips.txt" | head -n 3 || true)
[ -z "$bad" ] || fail "speech: clip names not <word>/<8 hex>_nohash_<n>.wav: $bad"
others=$(cut -d/ -f1 "$work/clips.txt" | sort -u | grep -cvxE 'yes|no|up|down|left|right|on|off|stop|go' || true)
[ "$others" -gt 0 ] || fail "speech: no other words for _unknown_"

# format of every clip: 16 kHz, mono, 16 bit, exactly 16000 samples
cd "$S1"
for spec in "r 16000 sample rate" "c 1 channels" "b 16 bits per sample" "s 16000 samples"; do
  set -- $spec
  bad=$(tr '\n' '\0' < "$work/clips.txt" | xargs -0 soxi -"$1" | grep -cvx "$2" || true)
  [ "$bad" = 0 ] || fail "speech: $bad clips with $3 other than $2"
done
soxi -t "$(head -n 1 "$work/clips.txt")" | grep -qx wav || fail "speech: clips are not WAV files"
# background noise: at least 30 s of 16 kHz mono
nbg=0
for f in _background_noise_/*.wav; do
  [ -f "$f" ] || fail "speech: no _background_noise_/*.wav"
  nbg=$((nbg + 1))
  [ "$(soxi -r "$f")" = 16000 ] && [ "$(soxi -c "$f")" = 1 ] || fail "speech: $f is not 16 kHz mono"
  awk -v d="$(soxi -D "$f")" 'BEGIN { exit !(d >= 30) }' || fail "speech: $f shorter than 30 s"
done
cd - > /dev/null

# lists: existing files, disjoint, speaker-disjoint from each other and from training
for l in validation_list.txt testing_list.txt; do
  while IFS= read -r p; do
    [ -f "$S1/$p" ] || fail "speech: $l names a missing file: $p"
    case "$p" in _background_noise_/*) fail "speech: $l names background noise: $p" ;; esac
  done < "$S1/$l"
done
spk() { sed 's|.*/||; s|_nohash_.*||' "$@" | sort -u; }
sort "$S1/validation_list.txt" "$S1/testing_list.txt" | comm -23 "$work/clips.txt" - > "$work/train.txt"
[ -s "$work/train.txt" ] || fail "speech: no training clips"
[ -z "$(comm -12 <(spk "$S1/validation_list.txt") <(spk "$S1/testing_list.txt"))" ] \
  || fail "speech: a speaker is in both validation and testing"
[ -z "$(comm -12 <(spk "$work/train.txt") <(spk "$S1/validation_list.txt" "$S1/testing_list.txt"))" ] \
  || fail "speech: a validation/testing speaker also has training clips"
pass "speech corpus: $nclips clips of 1.0 s 16 kHz mono 16-bit, $nbg noise files, speaker-disjoint lists"

"$here/make-default-speech.sh" --small "$S2" > /dev/null 2>&1 || fail "make-default-speech.sh --small failed on the second run"
diff <(tree_sums "$S1") <(tree_sums "$S2") > /dev/null || fail "speech: two runs gave different corpora"
"$here/make-default-speech.sh" --small "$S1" > /dev/null 2> "$work/speech3.err" || fail "speech: re-run failed"
grep -q 'up to date' "$work/speech3.err" || fail "speech: re-run on a complete corpus did not report 'up to date'"
pass "speech corpus: deterministic and idempotent"

# --- fetch scripts: a bad archive installs nothing (offline) ---------------------------------
mkdir -p "$work/fake/simple-examples/data"
echo " not the ptb " > "$work/fake/simple-examples/data/ptb.train.txt"
tar -czf "$work/fake/simple-examples.tgz" -C "$work/fake" simple-examples
if "$here/fetch-ptb.sh" --archive "$work/fake/simple-examples.tgz" "$work/ptb" > /dev/null 2>&1; then
  fail "fetch-ptb.sh accepted an archive with the wrong checksum"
fi
[ ! -e "$work/ptb" ] || fail "fetch-ptb.sh installed something from a bad archive"
cp "$work/fake/simple-examples.tgz" "$work/fake/speech_commands_test_set_v0.02.tar.gz"
if "$here/fetch-speech-commands.sh" --test-only --archives "$work/fake" "$work/sc" > /dev/null 2>&1; then
  fail "fetch-speech-commands.sh accepted an archive with the wrong checksum"
fi
[ -z "$(find "$work/sc" -mindepth 1 2>/dev/null)" ] || fail "fetch-speech-commands.sh extracted a bad archive"
mkdir -p "$work/fake/mnist"
for f in train-images-idx3-ubyte.gz train-labels-idx1-ubyte.gz t10k-images-idx3-ubyte.gz t10k-labels-idx1-ubyte.gz; do
  echo "not mnist" | gzip > "$work/fake/mnist/$f"
done
if "$here/fetch-mnist.sh" --from "$work/fake/mnist" "$work/mnist" > /dev/null 2>&1; then fail "fetch-mnist.sh accepted files with the wrong checksum"; fi
[ ! -e "$work/mnist" ] || fail "fetch-mnist.sh installed something from bad files"
if "$here/fetch-cifar10.sh" --archive "$work/fake/simple-examples.tgz" "$work/cifar" > /dev/null 2>&1; then fail "fetch-cifar10.sh accepted a bad archive"; fi
[ ! -e "$work/cifar" ] || fail "fetch-cifar10.sh installed something from a bad archive"
# EigenWorms: a zip without the pinned checksum is refused; with --unverified its contents are checked.
mkdir -p "$work/fake/ew"
printf '@problemName EigenWorms\n@classLabel true 1 2 3 4 5\n@data\n1,2:1,2:1,2:1,2:1,2:1,2:3\n' > "$work/fake/ew/EigenWorms_TRAIN.ts"
cp "$work/fake/ew/EigenWorms_TRAIN.ts" "$work/fake/ew/EigenWorms_TEST.ts"
(cd "$work/fake/ew" && python3 -c 'import zipfile; z = zipfile.ZipFile("ew.zip", "w"); [z.write(f) for f in ("EigenWorms_TRAIN.ts", "EigenWorms_TEST.ts")]')
if "$here/fetch-eigenworms.sh" --archive "$work/fake/ew/ew.zip" "$work/ew" > /dev/null 2>&1; then fail "fetch-eigenworms.sh accepted an archive without the pinned checksum"; fi
if "$here/fetch-eigenworms.sh" --archive "$work/fake/ew/ew.zip" --unverified "$work/ew" > /dev/null 2> "$work/ew.err"; then
  fail "fetch-eigenworms.sh --unverified accepted series of the wrong shape"
fi
grep -q 'not 17,984 steps long' "$work/ew.err" || fail "fetch-eigenworms.sh did not name the shape problem: $(cat "$work/ew.err")"
[ ! -e "$work/ew" ] || fail "fetch-eigenworms.sh installed something from a bad archive"
# BIDMC32HR: checked against the MD5s of the record's metadata (a record.json beside the files).
mkdir -p "$work/fake/hr"
echo "not bidmc" > "$work/fake/hr/BIDMC32HR_TRAIN.ts"; echo "not bidmc" > "$work/fake/hr/BIDMC32HR_TEST.ts"
printf '{"files": [{"key": "BIDMC32HR_TRAIN.ts", "checksum": "md5:0123456789abcdef0123456789abcdef", "size": 10}, {"key": "BIDMC32HR_TEST.ts", "checksum": "md5:0123456789abcdef0123456789abcdef", "size": 10}]}' > "$work/fake/hr/record.json"
if "$here/fetch-bidmc32hr.sh" --from "$work/fake/hr" "$work/hr" > /dev/null 2> "$work/hr.err"; then fail "fetch-bidmc32hr.sh accepted files with the wrong MD5"; fi
grep -q 'MD5 .*Zenodo lists' "$work/hr.err" || fail "fetch-bidmc32hr.sh did not name the MD5 problem: $(cat "$work/hr.err")"
[ ! -e "$work/hr" ] || fail "fetch-bidmc32hr.sh installed something from bad files"
pass "fetch scripts reject archives that fail their checksums (and, without one, their shape)"

echo "$prog: all checks passed"
