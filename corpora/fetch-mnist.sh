#!/usr/bin/env bash
# Downloads MNIST (LeCun, Cortes, Burges) for `seq train --task smnist|psmnist`: the four official
# gzip files, each checked against its published size, SHA-256 and MD5, installed into OUTDIR
# (default corpora/mnist). Nothing is installed unless every file verifies. Needs curl or wget and
# coreutils. The t10k files are the standard test set: seq reads them only to score the best
# checkpoint at the end of a run; validation is cut from the training files.
set -euo pipefail
export LC_ALL=C

prog=fetch-mnist.sh
die() { echo "$prog: error: $*" >&2; exit 1; }
note() { echo "$prog: $*" >&2; }

# yann.lecun.com has answered 403/404 since 2024 (pytorch/vision#8568, pytorch/pytorch#164238):
# torchvision's own mirror first, then TensorFlow Datasets' mirror, then the original page.
MIRRORS=(${MNIST_URL:-} https://ossci-datasets.s3.amazonaws.com/mnist/ https://storage.googleapis.com/cvdf-datasets/mnist/ http://yann.lecun.com/exdb/mnist/)

# --- Expected checksums. Every value below was copied from the source named beside it. -------
# MD5: pytorch/vision, torchvision/datasets/mnist.py, MNIST.resources (commit 01977a18).
# Size and SHA-256: tensorflow/datasets, tensorflow_datasets/url_checksums/mnist.txt (commit
# 31f1255e); the same SHA-256 values in ankane/torchvision-ruby lib/torchvision/datasets/mnist.rb.
FILES=(train-images-idx3-ubyte.gz train-labels-idx1-ubyte.gz t10k-images-idx3-ubyte.gz t10k-labels-idx1-ubyte.gz)
declare -A SIZE=(
  [train-images-idx3-ubyte.gz]=9912422
  [train-labels-idx1-ubyte.gz]=28881
  [t10k-images-idx3-ubyte.gz]=1648877
  [t10k-labels-idx1-ubyte.gz]=4542
)
declare -A SHA256=(
  [train-images-idx3-ubyte.gz]=440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609
  [train-labels-idx1-ubyte.gz]=3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c
  [t10k-images-idx3-ubyte.gz]=8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6
  [t10k-labels-idx1-ubyte.gz]=f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6
)
declare -A MD5=(
  [train-images-idx3-ubyte.gz]=f68b3c2dcbeaaa9fbdd348bbdeb94873
  [train-labels-idx1-ubyte.gz]=d53e105ee54ea40749a09fcbcd1e9432
  [t10k-images-idx3-ubyte.gz]=9fb629c4189551a2d022fa330f9573f3
  [t10k-labels-idx1-ubyte.gz]=ec29112dd5afa0611ce80d1b7f02629c
)
# ----------------------------------------------------------------------------------------------

usage() {
  cat <<USAGE
Usage: corpora/fetch-mnist.sh [--from DIR] [OUTDIR]

Downloads the four MNIST files (${FILES[*]})
from the first mirror that has them, checks each file's size, SHA-256 and MD5, and installs them
into OUTDIR (default: corpora/mnist next to this script).

  --from DIR   take the files from DIR (already downloaded) instead of the network
  -h, --help   show this help

Environment: MNIST_URL, a mirror tried first (the same checksums apply).
Then: seq train --task smnist --data OUTDIR
USAGE
}

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
from=""
outdir=""
while [ $# -gt 0 ]; do
  case "$1" in
    -h|--help) usage; exit 0 ;;
    --from) [ $# -ge 2 ] || die "--from needs a folder"; from=$2; shift ;;
    -*) die "unknown option '$1' (see -h)" ;;
    *) [ -z "$outdir" ] || die "too many arguments (see -h)"; outdir=$1 ;;
  esac
  shift
done
[ -n "$outdir" ] || outdir="$here/mnist"
for tool in sha256sum md5sum; do command -v "$tool" >/dev/null || die "$tool not found"; done

check() {
  local f=$1 name size sha md5
  name=$(basename "$f")
  [ -f "$f" ] || { note "$name: missing"; return 1; }
  size=$(wc -c < "$f"); sha=$(sha256sum < "$f" | cut -d' ' -f1); md5=$(md5sum < "$f" | cut -d' ' -f1)
  [ "$size" = "${SIZE[$name]}" ] || { note "$name: size $size, expected ${SIZE[$name]}"; return 1; }
  [ "$sha" = "${SHA256[$name]}" ] || { note "$name: SHA-256 $sha, expected ${SHA256[$name]}"; return 1; }
  [ "$md5" = "${MD5[$name]}" ] || { note "$name: MD5 $md5, expected ${MD5[$name]}"; return 1; }
}

if [ -d "$outdir" ]; then
  ok=1
  for f in "${FILES[@]}"; do check "$outdir/$f" 2>/dev/null || ok=0; done
  if [ "$ok" = 1 ]; then note "already installed and verified: $outdir"; exit 0; fi
  [ -z "$(ls -A "$outdir" 2>/dev/null)" ] || die "$outdir exists and does not hold a verified MNIST; remove it or choose another OUTDIR"
fi

fetch() {  # url file
  if command -v curl >/dev/null; then curl -fsSL --retry 2 -o "$2" "$1"
  elif command -v wget >/dev/null; then wget -q -O "$2" "$1"
  else die "neither curl nor wget found (apt-get install curl)"; fi
}

parent=$(dirname "$outdir")
mkdir -p "$parent"
tmp=$(mktemp -d "$parent/.mnist-tmp.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM
for f in "${FILES[@]}"; do
  if [ -n "$from" ]; then
    cp "$from/$f" "$tmp/$f" 2>/dev/null || die "$from/$f: not found"
  else
    got=0
    for m in "${MIRRORS[@]}"; do
      note "downloading $m$f"
      if fetch "$m$f" "$tmp/$f" && check "$tmp/$f"; then got=1; break; fi
      note "$m$f: failed or did not verify; trying the next mirror"
    done
    [ "$got" = 1 ] || die "$f: no mirror gave a file that verifies; nothing installed"
  fi
  check "$tmp/$f" || die "$f does not verify; nothing installed"
  note "$f ok (SHA-256 ${SHA256[$f]:0:16}…)"
done
cat > "$tmp/SOURCE.md" <<SRC
MNIST (Yann LeCun, Corinna Cortes, Christopher J. C. Burges), the four official files, installed by
corpora/fetch-mnist.sh on $(date -u +%Y-%m-%d); each verified against its size and SHA-256
(tensorflow_datasets url_checksums/mnist.txt) and MD5 (torchvision datasets/mnist.py).
SRC
rm -rf "$outdir"
mv "$tmp" "$outdir"
trap - EXIT
note "installed MNIST into $outdir"
