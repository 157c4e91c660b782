#!/usr/bin/env bash
# Downloads BIDMC32HR (the Monash/UEA/UCR time series extrinsic regression archive; Tan et al. 2020)
# for `seq train --task heart-rate`: BIDMC32HR_TRAIN.ts and BIDMC32HR_TEST.ts from Zenodo record
# 4001456, each checked against the MD5 and size Zenodo publishes for it in the record's metadata
# (https://zenodo.org/api/records/4001456), and both against the archive's shape (7,949 series in
# all of 4,000 steps × 2 dimensions, a numeric target each), installed into OUTDIR (default
# corpora/bidmc32hr). No other source publishes a checksum of these files. Nothing is installed
# unless everything verifies. Needs curl or wget, python3 and coreutils.
set -euo pipefail
export LC_ALL=C

prog=fetch-bidmc32hr.sh
die() { echo "$prog: error: $*" >&2; exit 1; }
note() { echo "$prog: $*" >&2; }

RECORD=${BIDMC_RECORD:-4001456}
API=https://zenodo.org/api/records/$RECORD
FILES=(BIDMC32HR_TRAIN.ts BIDMC32HR_TEST.ts)

usage() {
  cat <<USAGE
Usage: corpora/fetch-bidmc32hr.sh [--from DIR] [OUTDIR]

Downloads ${FILES[*]} from Zenodo record $RECORD, checks each against the MD5
and size in the record's metadata ($API) and the series' shape, and installs
them into OUTDIR (default: corpora/bidmc32hr next to this script).

  --from DIR   check and install the two files from DIR (downloaded by hand; with the metadata
               still fetched for their MD5s unless DIR holds record.json)
  -h, --help   show this help

Then: seq train --task heart-rate --data OUTDIR
USAGE
}

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
from=""; outdir=""
while [ $# -gt 0 ]; do
  case "$1" in
    -h|--help) usage; exit 0 ;;
    --from) [ $# -ge 2 ] || die "--from needs a folder"; from=$2; shift ;;
    -*) die "unknown option '$1' (see -h)" ;;
    *) [ -z "$outdir" ] || die "too many arguments (see -h)"; outdir=$1 ;;
  esac
  shift
done
[ -n "$outdir" ] || outdir="$here/bidmc32hr"
for tool in md5sum sha256sum python3; do command -v "$tool" >/dev/null || die "$tool not found"; done

if [ -f "$outdir/SHA256SUMS" ] && (cd "$outdir" && sha256sum --quiet -c SHA256SUMS 2>/dev/null); then
  note "already installed and verified: $outdir"; exit 0
fi
[ ! -e "$outdir" ] || [ -z "$(ls -A "$outdir" 2>/dev/null)" ] || die "$outdir exists and does not hold a verified BIDMC32HR; remove it or choose another OUTDIR"

fetch() { if command -v curl >/dev/null; then curl -fsSL --retry 3 -o "$2" "$1"; elif command -v wget >/dev/null; then wget -q -O "$2" "$1"; else die "neither curl nor wget found"; fi; }
parent=$(dirname "$outdir"); mkdir -p "$parent"
tmp=$(mktemp -d "$parent/.bidmc-tmp.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM

if [ -n "$from" ] && [ -f "$from/record.json" ]; then cp "$from/record.json" "$tmp/record.json"
else note "reading $API"; fetch "$API" "$tmp/record.json" || die "cannot read the record's metadata: $API"; fi

# key <TAB> md5 <TAB> size <TAB> download link, for each file of the record
python3 - "$tmp/record.json" > "$tmp/files.tsv" <<'PY' || die "the record's metadata is not what Zenodo publishes"
import json, sys
record = json.load(open(sys.argv[1]))
for f in record.get("files", []):
    algo, _, value = f["checksum"].partition(":")
    if algo != "md5":
        continue
    link = f.get("links", {}).get("self") or f.get("links", {}).get("content") or ""
    print(f"{f['key']}\t{value}\t{f['size']}\t{link}")
PY
for f in "${FILES[@]}"; do
  line=$(awk -F'\t' -v k="$f" '$1 == k' "$tmp/files.tsv")
  [ -n "$line" ] || die "record $RECORD lists no $f"
  md5_want=$(cut -f2 <<< "$line"); size_want=$(cut -f3 <<< "$line"); link=$(cut -f4 <<< "$line")
  if [ -n "$from" ]; then cp "$from/$f" "$tmp/$f" 2>/dev/null || die "$from/$f: not found"
  else
    [ -n "$link" ] || link="https://zenodo.org/records/$RECORD/files/$f"
    note "downloading $link"; fetch "$link" "$tmp/$f" || die "download failed: $link"
  fi
  size=$(wc -c < "$tmp/$f"); md5=$(md5sum < "$tmp/$f" | cut -d' ' -f1)
  [ "$size" = "$size_want" ] || die "$f: $size bytes, Zenodo lists $size_want; nothing installed"
  [ "$md5" = "$md5_want" ] || die "$f: MD5 $md5, Zenodo lists $md5_want; nothing installed"
  note "$f ok (MD5 $md5 as Zenodo lists)"
done

# Shape: after @data, each case is 2 dimensions of 4,000 values and a numeric target.
total=0
for f in "${FILES[@]}"; do
  n=$(awk -v f="$f" '
    /^@data/ { data = 1; next }
    data && NF {
      n++; k = split($0, d, ":")
      if (k != 3 || split(d[1], a, ",") != 4000 || split(d[2], b, ",") != 4000 || d[3] !~ /^[ ]*[-+0-9.eE]+[ \r]*$/) {
        print f ": case " n " is not 2 dimensions of 4,000 values and a target" > "/dev/stderr"; exit 1 }
    }
    END { print n + 0 }' "$tmp/$f") || die "$f does not have the archive's shape; nothing installed"
  total=$((total + n))
done
[ "$total" = 7949 ] || die "$total series in all, the archive has 7,949; nothing installed"

mkdir "$tmp/out"
for f in "${FILES[@]}"; do mv "$tmp/$f" "$tmp/out/$f"; done
(cd "$tmp/out" && sha256sum "${FILES[@]}" > SHA256SUMS)
cat > "$tmp/out/SOURCE.md" <<SRC
BIDMC32HR from the Monash, UEA & UCR Time Series Extrinsic Regression Archive (Tan, Bergmeir,
Petitjean, Webb 2020), Zenodo record $RECORD, installed by corpora/fetch-bidmc32hr.sh on
$(date -u +%Y-%m-%d): each file verified against the MD5 and size the record lists; 7,949 series
of 4,000 x 2 in all. Derived from the BIDMC PPG and Respiration Dataset (PhysioNet).
SRC
rm -rf "$outdir"; mv "$tmp/out" "$outdir"
note "installed BIDMC32HR into $outdir"
