#!/usr/bin/env bash
# Downloads Google's Speech Commands v0.02 (Warden 2018, CC BY 4.0) and its canonical test set,
# verifies both archives (byte size and SHA-256) and extracts them into OUTDIR (default
# corpora/speech_commands):
#   OUTDIR/speech_commands_v0.02/           one folder per word, validation_list.txt,
#                                           testing_list.txt, _background_noise_/
#   OUTDIR/speech_commands_test_set_v0.02/  the 12 Google12 classes incl. _unknown_, _silence_
# The main archive is 2.4 GB (up to about 3.4 GB extracted); the test set 113 MB. Needs curl or wget,
# tar, gzip and coreutils. Nothing is extracted from an archive that does not verify.
set -euo pipefail
export LC_ALL=C

prog=fetch-speech-commands.sh
die() { echo "$prog: error: $*" >&2; exit 1; }
note() { echo "$prog: $*" >&2; }

BASE=${SPEECH_COMMANDS_BASE_URL:-http://download.tensorflow.org/data}

# --- Expected sizes and SHA-256, copied from TensorFlow Datasets,
# tensorflow_datasets/url_checksums/speech_commands.txt:
#   http://download.tensorflow.org/data/speech_commands_test_set_v0.02.tar.gz  112563277
#     cc2a00c1147c2254e9be3fa0f779d8c17421dc349b86366567a8edfa9acd51df
#   http://download.tensorflow.org/data/speech_commands_v0.02.tar.gz  2428923189
#     af14739ee7dc311471de98f5f9d2c9191b18aedfe957f4a6ff791c709868ff58
# (torchaudio's torchaudio/datasets/speechcommands.py lists the same SHA-256 for v0.02 in its
# _CHECKSUMS table.)
declare -A SIZE=(
  [speech_commands_v0.02.tar.gz]=2428923189
  [speech_commands_test_set_v0.02.tar.gz]=112563277
)
declare -A SHA256=(
  [speech_commands_v0.02.tar.gz]=af14739ee7dc311471de98f5f9d2c9191b18aedfe957f4a6ff791c709868ff58
  [speech_commands_test_set_v0.02.tar.gz]=cc2a00c1147c2254e9be3fa0f779d8c17421dc349b86366567a8edfa9acd51df
)
# -----------------------------------------------------------------------------------------------

usage() {
  cat <<EOF
Usage: corpora/fetch-speech-commands.sh [--test-only] [--archives DIR] [--keep-archives] [OUTDIR]

Downloads speech_commands_v0.02.tar.gz (2.4 GB) and speech_commands_test_set_v0.02.tar.gz
(113 MB) from $BASE, verifies size and SHA-256 of each, and extracts them into
OUTDIR/speech_commands_v0.02 and OUTDIR/speech_commands_test_set_v0.02
(default OUTDIR: corpora/speech_commands next to this script). Re-running skips what is done;
an interrupted download is resumed.

  --test-only      only the canonical test set (113 MB)
  --archives DIR   take the .tar.gz files from DIR if they are there (no download)
  --keep-archives  keep the downloaded archives in OUTDIR/downloads (default: delete them)
  -h, --help       show this help

Then: kws train --data OUTDIR/speech_commands_v0.02 ...
      kws eval --data OUTDIR/speech_commands_test_set_v0.02 --split all ...
EOF
}

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
outdir=""
archdir=""
test_only=0
keep=0
while [ $# -gt 0 ]; do
  case "$1" in
    -h|--help) usage; exit 0 ;;
    --test-only) test_only=1 ;;
    --keep-archives) keep=1 ;;
    --archives) [ $# -ge 2 ] || die "--archives needs a folder"; archdir=$2; shift ;;
    -*) die "unknown option '$1' (see -h)" ;;
    *) [ -z "$outdir" ] || die "too many arguments (see -h)"; outdir=$1 ;;
  esac
  shift
done
[ -n "$outdir" ] || outdir="$here/speech_commands"

for tool in tar gzip sha256sum; do
  command -v "$tool" >/dev/null || die "$tool not found"
done

names=(speech_commands_test_set_v0.02.tar.gz)
[ "$test_only" = 1 ] || names+=(speech_commands_v0.02.tar.gz)

verify() {  # verify FILE NAME: size first (cheap), then SHA-256
  local f=$1 name=$2 size sha
  size=$(wc -c < "$f")
  [ "$size" = "${SIZE[$name]}" ] || { note "$name: $size bytes, expected ${SIZE[$name]}"; return 1; }
  note "$name: size ok, computing SHA-256 ..."
  sha=$(sha256sum < "$f" | cut -d' ' -f1)
  [ "$sha" = "${SHA256[$name]}" ] || { note "$name: SHA-256 $sha, expected ${SHA256[$name]}"; return 1; }
}

download() {  # download NAME -> OUTDIR/downloads/NAME (resuming a partial file)
  local name=$1 url="$BASE/$1" part="$outdir/downloads/$1.part"
  mkdir -p "$outdir/downloads"
  note "downloading $url"
  if command -v curl >/dev/null; then
    curl -fL --retry 3 -C - -o "$part" "$url" || die "download failed: $url (run again to resume)"
  elif command -v wget >/dev/null; then
    wget -c -O "$part" "$url" || die "download failed: $url (run again to resume)"
  else
    die "neither curl nor wget found (apt-get install curl)"
  fi
  mv "$part" "$outdir/downloads/$name"
}

trap 'exit 130' INT TERM
for name in "${names[@]}"; do
  dir="$outdir/${name%.tar.gz}"
  if [ -f "$dir/.verified" ]; then
    note "already extracted: $dir"
    continue
  fi
  if [ -n "$archdir" ] && [ -f "$archdir/$name" ]; then
    arch="$archdir/$name"
  else
    arch="$outdir/downloads/$name"
    [ -f "$arch" ] || download "$name"
  fi
  if ! verify "$arch" "$name"; then
    if [ "$arch" = "$outdir/downloads/$name" ]; then
      rm -f "$arch"
      die "$name does not verify; nothing extracted; the download was deleted, run again"
    fi
    die "$arch does not verify; nothing extracted"
  fi
  # Extract into a temporary folder and rename it, so an interrupted run leaves no half tree.
  rm -rf "$dir.tmp"
  mkdir "$dir.tmp"
  note "extracting $name ..."
  tar -xzf "$arch" -C "$dir.tmp" || { rm -rf "$dir.tmp"; die "cannot extract $arch"; }
  printf '%s  %s\n' "${SHA256[$name]}" "$name" > "$dir.tmp/.verified"
  rm -rf "$dir"
  mv "$dir.tmp" "$dir"
  if [ "$keep" = 0 ] && [ "$arch" = "$outdir/downloads/$name" ]; then rm -f "$arch"; fi
  note "ok: $dir ($(find "$dir" -name '*.wav' | wc -l) WAV files)"
done
rmdir "$outdir/downloads" 2>/dev/null || true
