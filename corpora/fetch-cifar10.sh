#!/usr/bin/env bash
# Downloads CIFAR-10's binary version (Krizhevsky, 2009) for `seq train --task ncifar`: the tarball
# from its official home, checked against its published size, SHA-256 and MD5, and the six batch
# files inside against their published SHA-256s, installed into OUTDIR (default corpora/cifar10).
# Nothing is installed unless everything verifies. Needs curl or wget, tar, gzip and coreutils.
# test_batch.bin is the standard test set: seq reads it only to score the best checkpoint at the
# end of a run; validation is cut from the training batches.
set -euo pipefail
export LC_ALL=C

prog=fetch-cifar10.sh
die() { echo "$prog: error: $*" >&2; exit 1; }
note() { echo "$prog: $*" >&2; }

URL=${CIFAR10_URL:-https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz}

# --- Expected checksums. Every value below was copied from the source named beside it. -------
# The tarball: MD5 from the dataset's page, https://www.cs.toronto.edu/~kriz/cifar.html (download
# table, "CIFAR-10 binary version"); size and SHA-256 from tensorflow/datasets,
# tensorflow_datasets/url_checksums/cifar10.txt (commit 333639b3), the same SHA-256 in
# ankane/torchvision-ruby lib/torchvision/datasets/cifar10.rb.
ARCHIVE_MD5=c32a1d4ab5d03f1284b67883e8d87530
ARCHIVE_SIZE=170052171
ARCHIVE_SHA256=c4a38c50a1bc5f3a1c5537f2155ab9d68f9f25eb1ed8d9ddda3db29a59bca1dd
# The batch files (cifar-10-batches-bin/*.bin): SHA-256 from ankane/torchvision-ruby
# lib/torchvision/datasets/cifar10.rb (commit 9bf22501, train_list / test_list); each holds
# 10,000 records of 3,073 bytes.
declare -A SHA256=(
  [data_batch_1.bin]=cee916563c9f80d84e3cc88e17fdc0941787f1244f00a67874d45b261883ada5
  [data_batch_2.bin]=a591ca11fa1708a91ee40f54b3da4784ccd871ecf2137de63f51ada8b3fa57ed
  [data_batch_3.bin]=bbe8596564c0f86427f876058170b84dac6670ddf06d79402899d93ceea26f67
  [data_batch_4.bin]=014e562d6e23c72197cc727519169a60359f5eccd8945ad5a09d710285ff4e48
  [data_batch_5.bin]=755304fc0b379caeae8c14f0dac912fbc7d6cd469eb67a1029a08a39453a9add
  [test_batch.bin]=8e2eb146ae340b09e24670f29cabc6326dba54da8789dab6768acf480273f65b
)
BATCHES=(data_batch_1.bin data_batch_2.bin data_batch_3.bin data_batch_4.bin data_batch_5.bin test_batch.bin)
# ----------------------------------------------------------------------------------------------

usage() {
  cat <<USAGE
Usage: corpora/fetch-cifar10.sh [--archive FILE] [OUTDIR]

Downloads cifar-10-binary.tar.gz ($URL), checks its size, SHA-256 and MD5 and the SHA-256 of
each batch file, and installs data_batch_1..5.bin, test_batch.bin and batches.meta.txt into
OUTDIR (default: corpora/cifar10 next to this script).

  --archive FILE  use an already downloaded cifar-10-binary.tar.gz instead of downloading
  -h, --help      show this help

Environment: CIFAR10_URL overrides the download URL (a mirror; the same checksums apply).
Then: seq train --task ncifar --data OUTDIR
USAGE
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
[ -n "$outdir" ] || outdir="$here/cifar10"
for tool in tar gzip sha256sum md5sum; do command -v "$tool" >/dev/null || die "$tool not found"; done

check_batch() {
  local f=$1 name sha
  name=$(basename "$f")
  [ -f "$f" ] || { note "$name: missing"; return 1; }
  [ "$(wc -c < "$f")" = 30730000 ] || { note "$name: $(wc -c < "$f") bytes, expected 30730000"; return 1; }
  sha=$(sha256sum < "$f" | cut -d' ' -f1)
  [ "$sha" = "${SHA256[$name]}" ] || { note "$name: SHA-256 $sha, expected ${SHA256[$name]}"; return 1; }
}

if [ -d "$outdir" ]; then
  ok=1
  for f in "${BATCHES[@]}"; do check_batch "$outdir/$f" 2>/dev/null || ok=0; done
  if [ "$ok" = 1 ]; then note "already installed and verified: $outdir"; exit 0; fi
  [ -z "$(ls -A "$outdir" 2>/dev/null)" ] || die "$outdir exists and does not hold a verified CIFAR-10; remove it or choose another OUTDIR"
fi

parent=$(dirname "$outdir")
mkdir -p "$parent"
tmp=$(mktemp -d "$parent/.cifar10-tmp.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM
if [ -z "$archive" ]; then
  archive="$tmp/cifar-10-binary.tar.gz"
  note "downloading $URL (170 MB)"
  if command -v curl >/dev/null; then curl -fL --retry 3 -o "$archive" "$URL" || die "download failed: $URL"
  elif command -v wget >/dev/null; then wget -O "$archive" "$URL" || die "download failed: $URL"
  else die "neither curl nor wget found (apt-get install curl)"; fi
fi
[ -f "$archive" ] || die "$archive not found"
size=$(wc -c < "$archive")
[ "$size" = "$ARCHIVE_SIZE" ] || die "$archive: $size bytes, expected $ARCHIVE_SIZE; nothing installed"
sha=$(sha256sum < "$archive" | cut -d' ' -f1)
[ "$sha" = "$ARCHIVE_SHA256" ] || die "$archive: SHA-256 $sha, expected $ARCHIVE_SHA256; nothing installed"
md5=$(md5sum < "$archive" | cut -d' ' -f1)
[ "$md5" = "$ARCHIVE_MD5" ] || die "$archive: MD5 $md5, expected $ARCHIVE_MD5; nothing installed"
note "archive verified (SHA-256 ${sha:0:16}…, MD5 $md5)"

mkdir "$tmp/x"
tar -xzf "$archive" -C "$tmp/x" cifar-10-batches-bin || die "$archive: cannot extract cifar-10-batches-bin/"
mkdir "$tmp/out"
for f in "${BATCHES[@]}" batches.meta.txt; do
  mv "$tmp/x/cifar-10-batches-bin/$f" "$tmp/out/$f" 2>/dev/null || die "$archive: no cifar-10-batches-bin/$f"
done
for f in "${BATCHES[@]}"; do check_batch "$tmp/out/$f" || die "$f does not verify; nothing installed"; done
cat > "$tmp/out/SOURCE.md" <<SRC
CIFAR-10, binary version (Alex Krizhevsky, Learning Multiple Layers of Features from Tiny Images,
2009), from $URL, installed by corpora/fetch-cifar10.sh on $(date -u +%Y-%m-%d): the tarball
verified against its size, SHA-256 and MD5, each batch file against its SHA-256.
SRC
rm -rf "$outdir"
mv "$tmp/out" "$outdir"
note "installed CIFAR-10 into $outdir"
