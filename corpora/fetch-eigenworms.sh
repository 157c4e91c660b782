#!/usr/bin/env bash
# Downloads EigenWorms (UEA multivariate archive; Bagnall et al. 2018) for `seq train --task
# eigenworms`: EigenWorms.zip, checked, and its EigenWorms_TRAIN.ts and EigenWorms_TEST.ts
# installed into OUTDIR (default corpora/eigenworms). Nothing is installed unless it verifies.
# Needs curl or wget, unzip (or python3) and coreutils.
#
# Verification: the only published, pinned checksum of this file we found is the SHA-256 of the
# copy sktime mirrors (sktime/sktime-datasets, TSC/EigenWorms.zip, its Git LFS pointer, commit
# 305428d2): that mirror is tried first and must match it. The archive's own home,
# timeseriesclassification.com, publishes no checksum: a zip from there is accepted only with
# --unverified, and then only if its contents have the archive's shape (128 training and 131
# test series of 17,984 steps × 6 dimensions, classes 1-5), which this script checks in every case.
set -euo pipefail
export LC_ALL=C

prog=fetch-eigenworms.sh
die() { echo "$prog: error: $*" >&2; exit 1; }
note() { echo "$prog: $*" >&2; }

PINNED_URL=https://github.com/sktime/sktime-datasets/raw/main/TSC/EigenWorms.zip
PINNED_SHA256=38db21f136e9694f4d4b76f97b196029cd186a7fc476de825c09f11557874779
PINNED_SIZE=328347284
HOME_URL=https://timeseriesclassification.com/aeon-toolkit/EigenWorms.zip

usage() {
  cat <<USAGE
Usage: corpora/fetch-eigenworms.sh [--archive FILE] [--unverified] [OUTDIR]

Downloads EigenWorms.zip from sktime's mirror ($PINNED_URL),
checks its size and SHA-256 (the pinned Git LFS values), and the series counts and shapes of
EigenWorms_TRAIN.ts and EigenWorms_TEST.ts, and installs the two files into OUTDIR (default:
corpora/eigenworms next to this script).

  --archive FILE  use an already downloaded EigenWorms.zip
  --unverified    if the mirror fails, accept the archive's home ($HOME_URL),
                  which publishes no checksum (contents still checked)
  -h, --help      show this help

Then: seq train --task eigenworms --data OUTDIR
USAGE
}

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
archive=""; outdir=""; unverified=0
while [ $# -gt 0 ]; do
  case "$1" in
    -h|--help) usage; exit 0 ;;
    --archive) [ $# -ge 2 ] || die "--archive needs a file"; archive=$2; shift ;;
    --unverified) unverified=1 ;;
    -*) die "unknown option '$1' (see -h)" ;;
    *) [ -z "$outdir" ] || die "too many arguments (see -h)"; outdir=$1 ;;
  esac
  shift
done
[ -n "$outdir" ] || outdir="$here/eigenworms"
command -v sha256sum >/dev/null || die "sha256sum not found"

# The .ts file's shape: cases after @data, values per dimension, dimensions, labels in 1..5.
check_ts() {  # file expected_cases
  awk -v want="$2" -v f="$1" '
    /^@data/ { data = 1; next }
    data && NF {
      n++; k = split($0, dims, ":")
      if (k != 7) { print f ": case " n " has " k - 1 " dimensions, expected 6"; bad = 1; exit }
      for (d = 1; d <= 6; d++) if (split(dims[d], v, ",") != 17984) { print f ": case " n " is not 17,984 steps long"; bad = 1; exit }
      if (dims[7] !~ /^[ ]*[1-5][ \r]*$/) { print f ": case " n " has label " dims[7] ", expected 1-5"; bad = 1; exit }
    }
    END { if (!bad && n != want) { print f ": " n " cases, expected " want; bad = 1 } exit bad }' "$1" >&2
}

if [ -f "$outdir/EigenWorms_TRAIN.ts" ] && [ -f "$outdir/EigenWorms_TEST.ts" ] && [ -f "$outdir/SHA256SUMS" ] \
   && (cd "$outdir" && sha256sum --quiet -c SHA256SUMS); then
  note "already installed and verified: $outdir"; exit 0
fi
[ ! -e "$outdir" ] || [ -z "$(ls -A "$outdir" 2>/dev/null)" ] || die "$outdir exists and does not hold a verified EigenWorms; remove it or choose another OUTDIR"

fetch() { if command -v curl >/dev/null; then curl -fL --retry 3 -o "$2" "$1"; elif command -v wget >/dev/null; then wget -O "$2" "$1"; else die "neither curl nor wget found"; fi; }
parent=$(dirname "$outdir"); mkdir -p "$parent"
tmp=$(mktemp -d "$parent/.eigenworms-tmp.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM

pinned=0
if [ -z "$archive" ]; then
  archive="$tmp/EigenWorms.zip"
  note "downloading $PINNED_URL (313 MiB)"
  if fetch "$PINNED_URL" "$archive"; then :; else
    [ "$unverified" = 1 ] || die "download failed: $PINNED_URL (--unverified would try $HOME_URL, which publishes no checksum)"
    note "mirror failed; downloading $HOME_URL (no published checksum: contents checked only)"
    fetch "$HOME_URL" "$archive" || die "download failed: $HOME_URL"
  fi
fi
[ -f "$archive" ] || die "$archive not found"
size=$(wc -c < "$archive"); sha=$(sha256sum < "$archive" | cut -d' ' -f1)
if [ "$size" = "$PINNED_SIZE" ] && [ "$sha" = "$PINNED_SHA256" ]; then
  pinned=1; note "archive matches the pinned SHA-256 ($sha)"
elif [ "$unverified" = 1 ]; then
  note "archive SHA-256 $sha ($size bytes) is not the pinned one; accepted unverified (--unverified), contents checked below"
else
  die "$archive: $size bytes, SHA-256 $sha; expected $PINNED_SIZE bytes, $PINNED_SHA256; nothing installed"
fi

mkdir "$tmp/x"
if command -v unzip >/dev/null; then unzip -q -o "$archive" -d "$tmp/x" || die "$archive: not a zip archive"
else python3 -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])' "$archive" "$tmp/x" || die "$archive: not a zip archive"; fi
mkdir "$tmp/out"
for s in TRAIN TEST; do
  f=$(find "$tmp/x" -name "EigenWorms_$s.ts" | head -n 1)
  [ -n "$f" ] || die "$archive holds no EigenWorms_$s.ts; nothing installed"
  mv "$f" "$tmp/out/EigenWorms_$s.ts"
done
check_ts "$tmp/out/EigenWorms_TRAIN.ts" 128 || die "EigenWorms_TRAIN.ts does not have the archive's shape; nothing installed"
check_ts "$tmp/out/EigenWorms_TEST.ts" 131 || die "EigenWorms_TEST.ts does not have the archive's shape; nothing installed"
(cd "$tmp/out" && sha256sum EigenWorms_TRAIN.ts EigenWorms_TEST.ts > SHA256SUMS)
cat > "$tmp/out/SOURCE.md" <<SRC
EigenWorms (UEA multivariate time series classification archive, Bagnall et al. 2018; Yemini et
al. 2013), installed by corpora/fetch-eigenworms.sh on $(date -u +%Y-%m-%d) from
$( [ "$pinned" = 1 ] && echo "sktime's mirror, matching its pinned SHA-256 $PINNED_SHA256" || echo "an archive that does not match the pinned SHA-256 (--unverified): SHA-256 $sha" ).
Contents checked: 128 training and 131 test series of 17,984 steps x 6 dimensions, classes 1-5.
SRC
rm -rf "$outdir"; mv "$tmp/out" "$outdir"
note "installed EigenWorms into $outdir"
