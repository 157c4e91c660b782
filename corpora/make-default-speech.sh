#!/usr/bin/env bash
# Synthesises the default keyword-spotting corpus for `kws` in the layout of Google's Speech
# Commands: one folder per word holding 1-second 16 kHz mono 16-bit WAVs named
# <speaker>_nohash_<n>.wav, validation_list.txt and testing_list.txt (speaker-disjoint), and
# _background_noise_/ with long noise recordings. The speech comes from espeak-ng (many accents,
# voice variants, speeds and pitches), sox trims it, sets its level, places it at a random offset
# in the second and adds low-level noise.
#
# Usage: corpora/make-default-speech.sh [--small] [--force] [--jobs N] [OUTDIR]
#        (default OUTDIR: corpora/generated/speech)
#
# Deterministic: every "random" choice comes from a hash of the file's name, and sox runs in
# repeatable mode (-R) without dither (-D); the same espeak-ng and sox versions give the same
# bytes. Idempotent: a complete corpus made by this version of the script (same mode, same tool
# versions) is left alone. Built in a temporary folder beside OUTDIR and moved into place.
set -euo pipefail
export LC_ALL=C

prog=make-default-speech.sh
die() { echo "$prog: error: $*" >&2; exit 1; }
note() { echo "$prog: $*" >&2; }

usage() {
  cat <<'EOF'
Usage: corpora/make-default-speech.sh [--small] [--force] [--jobs N] [OUTDIR]

Synthesises a keyword-spotting corpus in the Speech Commands layout with espeak-ng and sox:
the keywords yes no up down left right on off stop go, 20 other words for _unknown_, 96
synthetic speakers (8 English accents x 12 voice variants), _background_noise_/ and
speaker-disjoint validation_list.txt / testing_list.txt.

  OUTDIR     where to write the corpus (default: corpora/generated/speech next to this script)
  --small    a tiny corpus for tests: 10 speakers, 1 take per keyword, 4 other words
  --force    rebuild even if OUTDIR already holds an up-to-date corpus
  --jobs N   parallel workers (default: number of cores)
  -h, --help show this help

Needs espeak-ng and sox (Debian: apt-get install espeak-ng sox, or scripts/install-deps).
EOF
}

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
small=0
force=0
jobs=$(nproc 2>/dev/null || echo 2)
outdir=""
while [ $# -gt 0 ]; do
  case "$1" in
    -h|--help) usage; exit 0 ;;
    --small) small=1 ;;
    --force) force=1 ;;
    --jobs) [ $# -ge 2 ] || die "--jobs needs a number"; jobs=$2; shift ;;
    --jobs=*) jobs=${1#--jobs=} ;;
    -*) die "unknown option '$1' (see -h)" ;;
    *) [ -z "$outdir" ] || die "too many arguments (see -h)"; outdir=$1 ;;
  esac
  shift
done
[ -n "$outdir" ] || outdir="$here/generated/speech"
[[ "$jobs" =~ ^[1-9][0-9]*$ ]] || die "--jobs must be a positive number, not '$jobs'"

missing=()
for tool in espeak-ng sox soxi perl sha256sum xargs; do
  command -v "$tool" >/dev/null || missing+=("$tool")
done
if [ ${#missing[@]} -gt 0 ]; then
  die "not found: ${missing[*]}. Install with: sudo apt-get install espeak-ng sox (or run scripts/install-deps)"
fi

# ---------------------------------------------------------------------------------------------
# What is synthesised.
KEYWORDS="yes no up down left right on off stop go"
# The other words of Speech Commands v0.02 (minus the newer backward/forward/follow/learn/visual).
OTHERS="bed bird cat dog eight five four happy house marvin nine one seven sheila six three tree two wow zero"
# espeak-ng voices (accents). "en" is British English: "en-gb" ignores the +variant suffix.
ACCENTS="en en-us en-gb-scotland en-gb-x-gbclan en-gb-x-gbcwmd en-gb-x-rp en-029 en-us-nyc"
VARIANTS="m1 m2 m3 m4 m5 m7 f1 f2 f3 f4 f5 klatt"
TAKES=2          # takes of every keyword per speaker (_nohash_0, _nohash_1)
OTHERS_PER=5     # other words per speaker, one take each
NOISE_SECONDS=60
if [ "$small" = 1 ]; then
  OTHERS="bed cat dog marvin"
  ACCENTS="en en-us"
  VARIANTS="m1 m3 f1 f2 klatt"
  TAKES=1
  OTHERS_PER=2
  NOISE_SECONDS=30
fi

tool_versions="$(espeak-ng --version 2>&1 | head -n 1) / $(sox --version 2>&1 | head -n 1)"
self_hash=$(sha256sum < "${BASH_SOURCE[0]}" | cut -d' ' -f1)
stamp=$(printf 'make-default-speech %s small=%s\n%s\n' "$self_hash" "$small" "$tool_versions" | sha256sum | cut -d' ' -f1)

complete() {
  local d=$1
  [ -f "$d/.stamp" ] && [ -s "$d/validation_list.txt" ] && [ -s "$d/testing_list.txt" ] \
    && [ -f "$d/SOURCE.md" ] && [ -d "$d/_background_noise_" ]
}

summary() {  # clips per class and split
  local d=$1
  (cd "$d" && find . -mindepth 2 -name '*.wav' ! -path './_background_noise_/*' | sed 's|^\./||' | sort) \
    | awk -v kw="$KEYWORDS" -v V="$d/validation_list.txt" -v T="$d/testing_list.txt" '
      BEGIN { while ((getline l < V) > 0) s[l] = "valid"; while ((getline l < T) > 0) s[l] = "test"
              n = split(kw, k, " "); for (i = 1; i <= n; i++) iskw[k[i]] = 1 }
      { w = $0; sub(/\/.*/, "", w); c = (w in iskw) ? w : "_unknown_"; sp = ($0 in s) ? s[$0] : "train"
        cnt[c, sp]++; tot[sp]++; cls[c] = 1 }
      END { printf "%-10s %6s %6s %6s\n", "class", "train", "valid", "test"
            n = split(kw " _unknown_", order, " ")
            for (i = 1; i <= n; i++) { c = order[i]; if (c in cls) printf "%-10s %6d %6d %6d\n", c, cnt[c, "train"], cnt[c, "valid"], cnt[c, "test"] }
            printf "%-10s %6d %6d %6d\n", "total", tot["train"], tot["valid"], tot["test"] }'
  echo "background noise: $(ls "$d/_background_noise_"/*.wav | wc -l) files; size $(du -sh "$d" | cut -f1)"
}

if [ -e "$outdir" ]; then
  [ -d "$outdir" ] || die "$outdir exists and is not a directory"
  if [ "$force" = 0 ] && complete "$outdir" && [ "$(cat "$outdir/.stamp")" = "$stamp" ]; then
    note "up to date: $outdir"
    summary "$outdir"
    exit 0
  fi
  if [ ! -f "$outdir/.stamp" ] && [ -n "$(ls -A "$outdir")" ]; then
    die "$outdir exists, is not empty and was not made by this script; choose another OUTDIR"
  fi
fi

parent=$(dirname "$outdir")
mkdir -p "$parent"
tmp=$(mktemp -d "$parent/.speech-tmp.XXXXXX")
chmod "$(printf '%o' $(( 0777 & ~$(umask) )))" "$tmp"   # mktemp makes it 0700
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM
start=$(date +%s)

# ---------------------------------------------------------------------------------------------
# Background noise: 16 kHz mono 16-bit, NOISE_SECONDS long, peak-normalised. sox -R seeds its
# noise generator with a fixed value, so these files are the same on every run.
bg="$tmp/_background_noise_"
mkdir -p "$bg"
S="sox -R -D"
$S -n -r 16000 -b 16 -c 1 "$bg/white_noise.wav" synth "$NOISE_SECONDS" whitenoise gain -n -6
$S -n -r 16000 -b 16 -c 1 "$bg/pink_noise.wav" synth "$NOISE_SECONDS" pinknoise gain -n -6
$S -n -r 16000 -b 16 -c 1 "$bg/brown_noise.wav" synth "$NOISE_SECONDS" brownnoise gain -n -6
# mains hum: 50 Hz and harmonics with a little pink noise
$S -m -v 1 "|$S -r 16000 -c 3 -n -p synth $NOISE_SECONDS sine 50 sine 150 sine 250 remix -" \
   -v 0.2 "|$S -r 16000 -c 1 -n -p synth $NOISE_SECONDS pinknoise" \
   -r 16000 -b 16 -c 1 "$bg/mains_hum.wav" gain -n -10
# a running tap / shower: band-passed white noise with a slow, irregular swell
$S -n -r 16000 -b 16 -c 1 "$bg/running_tap.wav" synth "$NOISE_SECONDS" whitenoise \
   band 2500 1500 tremolo 0.37 30 tremolo 0.11 20 gain -n -6
# a fan: low-passed brown noise with a blade-rate wobble
$S -n -r 16000 -b 16 -c 1 "$bg/fan.wav" synth "$NOISE_SECONDS" brownnoise \
   lowpass 600 tremolo 13 15 gain -n -6
cat > "$bg/README.md" <<'EOF'
Synthetic background noise made with sox (white, pink and brown noise, mains hum, a running tap,
a fan); 16 kHz mono 16-bit. Use it for the _silence_ class and for noise augmentation.
EOF

# ---------------------------------------------------------------------------------------------
# The plan: one line per clip, all choices derived from FNV-1a hashes of names (perl-base only).
#   relpath | voice | speed | pitch | level dB | offset fraction | noise file | noise start | noise gain | text
# Speakers are accent+variant pairs; the speaker id is the 8-hex-digit hash of that name, as in
# Speech Commands. Every speaker has a base speed and pitch; each take varies around them.
# Split: speakers sorted by id; ranks 0, 10, 20, ... -> validation, ranks 1, 11, 21, ... -> testing.
read -r -d '' PLAN <<'PERL' || true
use strict;
use warnings;
my ($keywords, $others, $accents, $variants, $takes, $others_per, $noise_seconds, $out) = @ARGV;
my @kw = split ' ', $keywords;
my @ot = split ' ', $others;
my @noise = qw(white_noise pink_noise brown_noise mains_hum running_tap fan);

# FNV-1a 32-bit followed by MurmurHash3's finaliser (FNV alone mixes the last bytes poorly).
sub fnv {
  my $h = 0x811c9dc5;
  for my $c (unpack('C*', $_[0])) { $h ^= $c; $h = ($h * 0x01000193) % 4294967296; }
  $h ^= $h >> 16; $h = ($h * 0x85ebca6b) % 4294967296;
  $h ^= $h >> 13; $h = ($h * 0xc2b2ae35) % 4294967296;
  $h ^= $h >> 16;
  return $h;
}
sub u { return fnv(join('|', @_)) / 4294967296; }                   # uniform in [0, 1)
sub between { my ($lo, $hi, @key) = @_; return $lo + ($hi - $lo) * u(@key); }

my @speakers;
my %seen_id;
for my $a (split ' ', $accents) {
  for my $v (split ' ', $variants) {
    my $name = "$a+$v";
    my $id = sprintf('%08x', fnv("speaker:$name"));
    die "speaker id collision: $name\n" if $seen_id{$id}++;
    push @speakers, [$id, $name];
  }
}
@speakers = sort { $a->[0] cmp $b->[0] } @speakers;
my (%split, @plan);
for my $r (0 .. $#speakers) {
  my ($id, $voice) = @{ $speakers[$r] };
  $split{$id} = $r % 10 == 0 ? 'validation' : $r % 10 == 1 ? 'testing' : 'training';
  my $speed0 = between(135, 185, $id, 'speed');
  my $pitch0 = between(30, 70, $id, 'pitch');
  my @words = map { [$_, $_] } @kw;
  my @pool = sort { u($id, 'other', $a) <=> u($id, 'other', $b) || $a cmp $b } @ot;
  my $n_other = $others_per < @pool ? $others_per : scalar(@pool);
  for my $w (@words) {
    for my $t (0 .. $takes - 1) { push @plan, clip($w->[0], $id, $t, $voice, $speed0, $pitch0); }
  }
  for my $w (@pool[0 .. $n_other - 1]) { push @plan, clip($w, $id, 0, $voice, $speed0, $pitch0); }
}
sub clip {
  my ($word, $id, $take, $voice, $speed0, $pitch0) = @_;
  my $rel = "$word/${id}_nohash_$take.wav";
  my $speed = int($speed0 + between(-15, 15, $rel, 'speed') + 0.5);
  my $pitch = int($pitch0 + between(-10, 10, $rel, 'pitch') + 0.5);
  my $level = sprintf('%.1f', between(-20, -3, $rel, 'level'));
  my $offset = sprintf('%.3f', u($rel, 'offset'));
  my $noise = $noise[int(u($rel, 'noise') * @noise)];
  my $nstart = int(u($rel, 'nstart') * ($noise_seconds - 1) * 16000);
  my $ngain = sprintf('%.5f', 10 ** (between(-50, -30, $rel, 'ngain') / 20));
  return join('|', $rel, $voice, $speed, $pitch, $level, $offset, "$noise.wav", $nstart, $ngain, $word);
}
open(my $p, '>', "$out/plan.txt") or die "$out/plan.txt: $!\n";
print $p "$_\n" for @plan;
close $p;
open(my $sp, '>', "$out/speakers.txt") or die "$!\n";
printf $sp "%s  %-22s %s\n", $_->[0], $_->[1], $split{$_->[0]} for @speakers;
close $sp;
for my $s (qw(validation testing)) {
  open(my $f, '>', "$out/${s}_list.txt") or die "$!\n";
  print $f "$_\n" for sort grep { my ($id) = m{/([0-9a-f]{8})_nohash_}; $split{$id} eq $s } map { (split /\|/)[0] } @plan;
  close $f;
}
PERL
mkdir -p "$tmp/.work"
perl -e "$PLAN" "$KEYWORDS" "$OTHERS" "$ACCENTS" "$VARIANTS" "$TAKES" "$OTHERS_PER" "$NOISE_SECONDS" "$tmp/.work" \
  || die "planning failed"
mv "$tmp/.work/validation_list.txt" "$tmp/.work/testing_list.txt" "$tmp/"
nclips=$(wc -l < "$tmp/.work/plan.txt")
for w in $KEYWORDS $OTHERS; do mkdir -p "$tmp/$w"; done

# ---------------------------------------------------------------------------------------------
# One clip: espeak-ng -> trim silence, 16 kHz, peak level -> pad to exactly 16000 samples with
# the word at the planned offset -> mix in an excerpt of a background-noise file.
make_clip() {
  local line=$1 rel voice speed pitch level offset nfile nstart ngain text
  IFS='|' read -r rel voice speed pitch level offset nfile nstart ngain text <<< "$line"
  local base="$CLIP_ROOT/.work/${rel//\//_}"
  rm -f "$base.raw.wav"
  espeak-ng -v "$voice" -s "$speed" -p "$pitch" -w "$base.raw.wav" "$text" 2> "$base.err" \
    || { echo "espeak-ng failed for $rel: $(cat "$base.err")" >&2; return 1; }
  [ -s "$base.raw.wav" ] && [ ! -s "$base.err" ] \
    || { echo "espeak-ng failed for $rel ($voice): $(cat "$base.err")" >&2; return 1; }
  sox -R -D "$base.raw.wav" -r 16000 -b 16 -c 1 "$base.word.wav" \
    silence 1 0.005 0.1% reverse silence 1 0.005 0.1% reverse norm "$level"
  local n
  n=$(soxi -s "$base.word.wav")
  if [ "$n" -gt 15200 ]; then   # longer than 0.95 s: speed it up to fit (rare)
    sox -R -D "$base.word.wav" "$base.fit.wav" tempo -s "$(awk -v n="$n" 'BEGIN { printf "%.4f", n / 15200 }')"
    mv "$base.fit.wav" "$base.word.wav"
    n=$(soxi -s "$base.word.wav")
    [ "$n" -le 16000 ] || { echo "clip too long: $rel" >&2; return 1; }
  fi
  local pre=$(( (16000 - n) * 10#${offset/./} / 1000 ))   # offset is 0.ddd
  local post=$(( 16000 - n - pre ))
  sox -R -D -m -v 1 "|sox -R -D '$base.word.wav' -p pad ${pre}s ${post}s" \
    -v "$ngain" "|sox -R -D '$CLIP_ROOT/_background_noise_/$nfile' -p trim ${nstart}s 16000s" \
    -r 16000 -b 16 -c 1 "$CLIP_ROOT/$rel" trim 0s 16000s
  rm -f "$base.raw.wav" "$base.word.wav" "$base.err"
}
make_clips() { local l; for l in "$@"; do make_clip "$l" || return 1; done; }
export -f make_clip make_clips
export CLIP_ROOT="$tmp"

note "synthesising $nclips clips with $jobs workers ..."
xargs -a "$tmp/.work/plan.txt" -d '\n' -P "$jobs" -n 25 bash -c 'make_clips "$@"' _ \
  || die "synthesis failed"

# Every clip must be 16000 samples of 16 kHz mono 16-bit.
bad=$(cd "$tmp" && find . -mindepth 2 -name '*.wav' ! -path './_background_noise_/*' -print0 \
  | xargs -0 soxi -s | grep -vcx 16000 || true)
[ "$bad" = 0 ] || die "$bad clips do not have 16000 samples"
elapsed=$(( $(date +%s) - start ))

{
  echo "# Default speech corpus for kws"
  echo
  echo "Synthesised by \`corpora/make-default-speech.sh\`$([ "$small" = 1 ] && echo ' --small') on this machine in ${elapsed} s with"
  echo "$tool_versions. Not part of the lem repository. Layout as Google's Speech Commands:"
  echo "one folder per word, 1-second 16 kHz mono 16-bit WAVs named \`<speaker>_nohash_<n>.wav\`,"
  echo "\`validation_list.txt\` and \`testing_list.txt\` (whole speakers, about 10% each; every other"
  echo "clip is training data) and \`_background_noise_/\` (synthetic noise, $NOISE_SECONDS s each)."
  echo
  echo "- Keywords (Google12 classes): $KEYWORDS; $TAKES take(s) per speaker."
  echo "- Other words (\`_unknown_\`): $OTHERS; $OTHERS_PER per speaker, chosen by hash."
  echo "- Speakers: espeak-ng voice+variant pairs, accents $ACCENTS; variants $VARIANTS."
  echo "  Each speaker has a base speed (135-185 words/min) and pitch (30-70); each take varies"
  echo "  them by +-15 and +-10. The speaker id is a hash (FNV-1a + Murmur3 finaliser) of \"speaker:<voice>+<variant>\"."
  echo "- Each clip: leading/trailing silence trimmed, peak level -20..-3 dBFS, placed at a random"
  echo "  offset in the second, plus an excerpt of one background-noise file at -50..-30 dB."
  echo "- All random choices are hashes of the file names; sox runs with -R -D (repeatable, no dither)."
  echo
  echo "## Speakers (id, espeak-ng voice, split)"
  echo
  echo '```'
  cat "$tmp/.work/speakers.txt"
  echo '```'
  echo
  echo "## Clips per class and split"
  echo
  echo '```'
  summary "$tmp"
  echo '```'
} > "$tmp/SOURCE.md"
rm -rf "$tmp/.work"
printf '%s\n' "$stamp" > "$tmp/.stamp"

if [ -e "$outdir" ]; then
  old="$parent/.speech-old.$$"
  mv "$outdir" "$old"
  mv "$tmp" "$outdir"
  rm -rf "$old"
else
  mv "$tmp" "$outdir"
fi
trap - EXIT
note "done in ${elapsed} s: $outdir"
summary "$outdir"
