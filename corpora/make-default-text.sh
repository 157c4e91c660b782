#!/usr/bin/env bash
# Builds the default English corpus for `lm` from text that every Debian system has: the licence
# texts in /usr/share/common-licenses (package base-files) and the copyright files of the packages
# of a minimal Debian system (/usr/share/doc/PKG/copyright). The text is normalised the way Mikolov's Penn Treebank files are (lower
# case, numbers -> N, PTB tokenisation with most punctuation dropped, rare words -> <unk>, one
# sentence per line) and split deterministically into train/valid/test, word and char level.
#
# Usage: corpora/make-default-text.sh [--force] [OUTDIR]     (default OUTDIR: corpora/generated/text)
#
# Output (OUTDIR): ptb.{train,valid,test}.txt, ptb.char.{train,valid,test}.txt, SOURCE.md and a
# .stamp file. Idempotent: if OUTDIR already holds a complete corpus built by this version of the
# script from the same input files, nothing is done. The corpus is built in a temporary folder
# beside OUTDIR and moved into place at the end, so an interrupted run leaves no half corpus.
# Needs only bash, coreutils and perl-base (no python). For tests, LEM_LICENSES_DIR, LEM_DOC_DIR
# and LEM_COPYRIGHT_PACKAGES (a space-separated list) replace the input locations and packages.
set -euo pipefail
export LC_ALL=C

prog=make-default-text.sh
die() { echo "$prog: error: $*" >&2; exit 1; }
note() { echo "$prog: $*" >&2; }

usage() {
  cat <<'EOF'
Usage: corpora/make-default-text.sh [--force] [OUTDIR]

Builds a small English corpus in Penn Treebank (Mikolov) format from the licence texts in
/usr/share/common-licenses and the copyright files of Debian's essential packages.

  OUTDIR     where to write the corpus (default: corpora/generated/text next to this script)
  --force    rebuild even if OUTDIR already holds an up-to-date corpus
  -h, --help show this help

Writes ptb.train.txt ptb.valid.txt ptb.test.txt ptb.char.train.txt ptb.char.valid.txt
ptb.char.test.txt and SOURCE.md; prints a one-line summary.
EOF
}

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
force=0
outdir=""
while [ $# -gt 0 ]; do
  case "$1" in
    -h|--help) usage; exit 0 ;;
    --force) force=1 ;;
    --) shift; [ $# -le 1 ] || die "too many arguments (see -h)"; outdir=${1:-}; shift; break ;;
    -*) die "unknown option '$1' (see -h)" ;;
    *) [ -z "$outdir" ] || die "too many arguments (see -h)"; outdir=$1 ;;
  esac
  shift
done
[ -n "$outdir" ] || outdir="$here/generated/text"

command -v perl >/dev/null || die "perl not found (it is part of every Debian system: package perl-base)"
command -v sha256sum >/dev/null || die "sha256sum not found (package coreutils)"

# ---------------------------------------------------------------------------------------------
# Inputs, in a fixed order.
# 1. Every regular file in /usr/share/common-licenses (symlinks such as GPL -> GPL-3 skipped),
#    sorted by name in the C locale.
# 2. The copyright files of the packages of a minimal Debian system, in the (alphabetical) order
#    listed: the "Essential: yes" and "Priority: required" packages of Debian 12 and everything
#    they depend on (what `debootstrap --variant=minbase` installs). Debian policy requires every
#    package to ship /usr/share/doc/PKG/copyright, and even the slim Docker images keep them.
#    Files missing on this system (e.g. other releases rename libraries) are skipped.
# Files with identical contents (e.g. libpam-*, util-linux/mount) are used once.
licdir=${LEM_LICENSES_DIR:-/usr/share/common-licenses}
docdir=${LEM_DOC_DIR:-/usr/share/doc}
copyright_packages=(${LEM_COPYRIGHT_PACKAGES:-
  adduser apt base-files base-passwd bash bsdutils coreutils dash debconf debian-archive-keyring
  debianutils diffutils dpkg e2fsprogs findutils gcc-12-base gpgv grep gzip hostname
  init-system-helpers libacl1 libapt-pkg6.0 libattr1 libaudit-common libaudit1 libblkid1
  libbz2-1.0 libc-bin libc6 libcap-ng0 libcap2 libcom-err2 libcrypt1 libdb5.3 libdebconfclient0
  libext2fs2 libffi8 libgcc-s1 libgcrypt20 libgmp10 libgnutls30 libgpg-error0 libhogweed6
  libidn2-0 liblocale-gettext-perl liblz4-1 liblzma5 libmd0 libmount1 libnettle8 libp11-kit0
  libpam-modules libpam-modules-bin libpam-runtime libpam0g libpcre2-8-0 libseccomp2 libselinux1
  libsemanage-common libsemanage2 libsepol2 libsmartcols1 libss2 libstdc++6 libsystemd0
  libtasn1-6 libtinfo6 libudev1 libunistring2 libuuid1 libxxhash0 libzstd1 login logsave mawk
  mount ncurses-base ncurses-bin passwd perl-base sed sensible-utils sysvinit-utils tar tzdata
  util-linux util-linux-extra zlib1g
})

[ -d "$licdir" ] || die "$licdir not found: this script needs a Debian system (package base-files)"

inputs=()
while IFS= read -r f; do inputs+=("$f"); done < <(find "$licdir" -maxdepth 1 -type f | sort)
[ ${#inputs[@]} -gt 0 ] || die "no licence texts found in $licdir"
missing=()
for p in "${copyright_packages[@]}"; do
  f="$docdir/$p/copyright"
  if [ -f "$f" ]; then inputs+=("$f"); else missing+=("$p"); fi
done
[ ${#missing[@]} -eq 0 ] || note "note: no $docdir/PKG/copyright for ${#missing[@]} listed packages, skipped: ${missing[*]}"

# Drop files whose contents repeat an earlier file; record name, kind and hash of each input.
declare -A seen=()
used=()
manifest=""
for f in "${inputs[@]}"; do
  [ -r "$f" ] || die "cannot read $f"
  h=$(sha256sum < "$f" | cut -d' ' -f1)
  [ -z "${seen[$h]:-}" ] || continue
  seen[$h]=1
  used+=("$f")
  manifest+="$h  $f"$'\n'
done

self_hash=$(sha256sum < "${BASH_SOURCE[0]}" | cut -d' ' -f1)
stamp=$(printf 'make-default-text %s\n%s' "$self_hash" "$manifest" | sha256sum | cut -d' ' -f1)

files=(ptb.train.txt ptb.valid.txt ptb.test.txt ptb.char.train.txt ptb.char.valid.txt ptb.char.test.txt SOURCE.md)
complete() {
  local d=$1 f
  [ -f "$d/.stamp" ] || return 1
  for f in "${files[@]}"; do [ -s "$d/$f" ] || return 1; done
}

summary() {  # one line: sentences / tokens / vocabulary per split
  local d=$1 s line=""
  for s in train valid test; do
    line+=$(awk -v s="$s" '{ n += NF; for (i = 1; i <= NF; i++) v[$i] = 1 }
      END { printf "%s %d sentences %d tokens %d types; ", s, NR, n, length(v) }' "$d/ptb.$s.txt")
  done
  echo "text corpus $d: ${line%; }"
}

if [ -e "$outdir" ]; then
  [ -d "$outdir" ] || die "$outdir exists and is not a directory"
  if [ "$force" = 0 ] && complete "$outdir" && [ "$(cat "$outdir/.stamp")" = "$stamp" ]; then
    note "up to date: $outdir"
    summary "$outdir"
    exit 0
  fi
  # Never replace a folder this script did not make.
  if [ ! -f "$outdir/.stamp" ] && [ -n "$(ls -A "$outdir")" ]; then
    die "$outdir exists, is not empty and was not made by this script; choose another OUTDIR"
  fi
fi

parent=$(dirname "$outdir")
mkdir -p "$parent"
tmp=$(mktemp -d "$parent/.text-tmp.XXXXXX")
chmod "$(printf '%o' $(( 0777 & ~$(umask) )))" "$tmp"   # mktemp makes it 0700
cleanup() { rm -rf "$tmp"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------------------------------------
# The normaliser (perl-base only: no modules beyond strict/warnings).
#
# Per input file: split into paragraphs (blank lines; in copyright files also " ." lines and
# DEP-5 field boundaries; centred heading lines are paragraphs of their own), drop DEP-5 file
# lists and copyright-holder lists, keep only prose-like paragraphs from copyright files, split
# paragraphs into sentences, and tokenise each sentence as Mikolov's PTB files do:
#   - lower case; every run of digits (with inner , or .) becomes N; % becomes N as in PTB
#   - "'s 're 've 'll 'd 'm" and "n't" are split off ("do n't", "ca n't", "it 's"),
#     "cannot" -> "can not", a plural possessive apostrophe is a token of its own ("licensors '")
#   - $ # & are kept as tokens (& stays inside words like at&t), a slash between two words is
#     kept escaped as PTB does ("and\/or"), hyphens inside words are kept
#   - abbreviations keep their period ("e.g.", "inc.", "u.s."); all other punctuation (quotes,
#     commas, brackets, sentence-final periods, dashes, ...) is dropped
#   - URLs, e-mail addresses and file paths become <unk>
# Sentences are de-duplicated (first occurrence kept: the licences repeat each other a lot, and
# repeats would leak between the splits) and dropped if shorter than 2 tokens.
#
# Split: consecutive blocks of 10 sentences; in every run of 10 blocks, blocks 0-7 go to train,
# block 8 to valid and block 9 to test (80/10/10, every document represented in every split).
# Vocabulary: words seen at least MINCOUNT times in train, at most the 10,000 most frequent
# (ties alphabetical); every other word, in every split, becomes <unk>.
read -r -d '' NORMALISE <<'PERL' || true
use strict;
use warnings;

my ($outdir, $mincount, $maxvocab, @files) = @ARGV;

my %NOSPLIT = map { $_ => 1 } qw(mr mrs ms dr prof st e.g i.e cf vs no nos sec fig vol approx viz resp);
my %KEEP = (%NOSPLIT, map { $_ => 1 } qw(inc ltd co corp etc jr sr al u.s u.k ph.d));
my %LATIN = (
  "\x{e0}"=>'a', "\x{e1}"=>'a', "\x{e2}"=>'a', "\x{e3}"=>'a', "\x{e4}"=>'a', "\x{e5}"=>'a',
  "\x{e7}"=>'c', "\x{e8}"=>'e', "\x{e9}"=>'e', "\x{ea}"=>'e', "\x{eb}"=>'e', "\x{ec}"=>'i',
  "\x{ed}"=>'i', "\x{ee}"=>'i', "\x{ef}"=>'i', "\x{f1}"=>'n', "\x{f2}"=>'o', "\x{f3}"=>'o',
  "\x{f4}"=>'o', "\x{f5}"=>'o', "\x{f6}"=>'o', "\x{f8}"=>'o', "\x{f9}"=>'u', "\x{fa}"=>'u',
  "\x{fb}"=>'u', "\x{fc}"=>'u', "\x{fd}"=>'y', "\x{ff}"=>'y', "\x{df}"=>'ss', "\x{e6}"=>'ae',
  "\x{153}"=>'oe', "\x{2018}"=>"'", "\x{2019}"=>"'", "\x{201c}"=>'"', "\x{201d}"=>'"',
  "\x{2013}"=>' -- ', "\x{2014}"=>' -- ', "\x{2026}"=>' ... ', "\x{a0}"=>' ', "\x{a9}"=>' (c) ',
);

my @sentences;
my %seen;
for my $file (@files) {
  open(my $fh, '<:raw', $file) or die "cannot read $file: $!\n";
  my @lines = <$fh>;
  close $fh;
  utf8::decode($_) for @lines;    # a line that is not valid UTF-8 is read as Latin-1
  my $text = join('', @lines);
  $text =~ s/\r\n?/\n/g;
  for my $p (paragraphs($text, $file =~ m{/copyright$} ? 1 : 0)) {
    for my $s (split_sentences($p)) {
      my @t = tokenise($s);
      next if @t < 2;
      my $line = join(' ', @t);
      next if $seen{$line}++;
      push @sentences, \@t;
    }
  }
}
die "no sentences found in the input files\n" unless @sentences;

# split
my %split = (train => [], valid => [], test => []);
for my $i (0 .. $#sentences) {
  my $block = int($i / 10) % 10;
  my $name = $block == 8 ? 'valid' : $block == 9 ? 'test' : 'train';
  push @{ $split{$name} }, $sentences[$i];
}

# vocabulary from train
my %count;
for my $s (@{ $split{train} }) { $count{$_}++ for @$s; }
delete $count{'<unk>'};
my @words = sort { $count{$b} <=> $count{$a} || $a cmp $b } grep { $count{$_} >= $mincount } keys %count;
splice(@words, $maxvocab) if @words > $maxvocab;
my %vocab = map { $_ => 1 } @words, '<unk>';

for my $name (qw(train valid test)) {
  open(my $w, '>', "$outdir/ptb.$name.txt") or die "$outdir/ptb.$name.txt: $!\n";
  open(my $c, '>', "$outdir/ptb.char.$name.txt") or die "$outdir/ptb.char.$name.txt: $!\n";
  for my $s (@{ $split{$name} }) {
    my @t = map { $vocab{$_} ? $_ : '<unk>' } @$s;
    print $w ' ', join(' ', @t), " \n";
    print $c ' ', join(' ', split(//, join('_', @t))), " \n";
  }
  close $w or die "$!\n";
  close $c or die "$!\n";
}
open(my $v, '>', "$outdir/vocab.count") or die "$!\n";
print $v scalar(@sentences), ' ', scalar(keys %vocab), "\n";
close $v;
exit 0;

# Paragraphs of one file. $dep5: the file is a Debian copyright file.
sub paragraphs {
  my ($text, $dep5) = @_;
  my @paras;
  my @cur;
  my $skip = 0;    # inside a DEP-5 field whose value is not prose (Files, Copyright, ...)
  my $flush = sub {
    if (@cur) {
      my $p = join(' ', @cur);
      push @paras, $p if !$dep5 || prose($p);
    }
    @cur = ();
  };
  for my $line (split /\n/, $text) {
    if ($dep5) {
      if ($line =~ /^([A-Za-z][A-Za-z-]*):\s*(.*)$/) {    # a DEP-5 field starts
        my ($field, $value) = (lc $1, $2);
        $flush->();
        $skip = ($field eq 'comment' || $field eq 'disclaimer') ? 0 : ($field eq 'license') ? 2 : 1;
        # "License: GPL-2+" names the licence; the text follows on the next lines.
        push @cur, $value if $skip == 0 && $value =~ /\S/;
        $skip = 0 if $skip == 2;
        next;
      }
      next if $skip && $line =~ /^\s/;    # continuation of a Files or Copyright field
      $skip = 0;
      $line =~ s/^\s*[*#|>]+(\s|$)/ /;    # comment markers of licence headers
      if ($line =~ /^\s*\.\s*$/ || $line =~ /^\s*[-=*_~]{4,}\s*$/) { $flush->(); next; }
    }
    if ($line !~ /\S/) { $flush->(); next; }
    if ($line =~ /^\s{15,}\S/ && length($line) < 90) {    # a centred heading
      $flush->();
      push @cur, $line;
      $flush->();
      next;
    }
    push @cur, $line;
  }
  $flush->();
  for (@paras) { s/\s+/ /g; s/^ //; s/ $//; }
  return grep { length } @paras;
}

# A copyright-file paragraph is kept if it reads like prose, not like a list of names or files.
sub prose {
  my ($p) = @_;
  my @w = split ' ', $p;
  return 0 if @w < 6;
  my $words = grep { /^[("'`]*[A-Za-z][a-z]*(?:'[a-z]+)?[)"'.,;:!?]*$/ } @w;
  my $lower = grep { /^[("'`]*[a-z]+[)"'.,;:!?]*$/ } @w;
  return 0 if $p =~ /copyright\s*(\(c\)|\x{a9}|[0-9])/i && $lower < 0.6 * @w;
  return $words >= 0.75 * @w && $lower >= 0.4 * @w;
}

sub strip_enumerator {
  my ($s) = @_;
  $s =~ s/^(?:\(?(?:\d+(?:\.\d+)*|[a-zA-Z]|[ivxIVX]+)\)|\d+(?:\.\d+)*\.?|[A-Za-z]\.|[-*o+]|\x{2022})\s+//;
  return $s;
}

sub split_sentences {
  my ($p) = @_;
  my @raw = split ' ', strip_enumerator($p);
  my (@out, @cur);
  for my $i (0 .. $#raw) {
    my $tok = $raw[$i];
    push @cur, $tok;
    my $next = $i < $#raw ? $raw[$i + 1] : undef;
    next unless defined $next;
    (my $core = $tok) =~ s/[)"'\]\x{201d}\x{2019}]+$//;
    my $end = 0;
    if ($core =~ /[!?]$/) {
      $end = 1;
    } elsif ($core =~ /\.$/ && $core !~ /\.\.\.$/) {
      (my $w = lc $core) =~ s/^[("'`\[]+//;
      $w =~ s/\.$//;
      $end = 1 unless $NOSPLIT{$w} || $w =~ /^[a-z]$/ || $w =~ /^(?:[a-z]\.)+[a-z]$/;
    }
    $end = 0 unless $next =~ /^[("'`\[\x{201c}\x{2018}]*[A-Z0-9]/;
    if ($end) {
      push @out, join(' ', @cur);
      @cur = ();
    }
  }
  push @out, join(' ', @cur) if @cur;
  return map { strip_enumerator($_) } @out;
}

sub tokenise {
  my ($s) = @_;
  $s =~ s/([^\x00-\x7f])/exists $LATIN{lc $1} ? $LATIN{lc $1} : $1/ge;
  $s = lc $s;
  my @out;
  my $open = 0;    # inside '...' or `...' quotes
  for my $raw (split ' ', $s) {
    # URLs, e-mail addresses and file paths are single unknown words
    if ($raw =~ m{(?:^|[<("'`\[])(?:https?|ftp|file)://|^[<("'`\[]*www\.|\S@\S+\.[a-z]|^[<("'`\[]*~?/\S*/|\S/\S*/}) {
      push @out, '<unk>';
      next;
    }
    my $t = $raw;
    $t =~ s/``|''/ /g;                        # TeX-style quotes
    $t =~ s/\x{60}/'/g;                        # `quoted' is handled with the apostrophes
    $t =~ s/\(c\)/ /g;                         # the (C) of copyright notices
    $t =~ s/[^\x00-\x7f]+/ /g;                 # any other non-ASCII character
    $t =~ s/\d+(?:[.,]\d+)*/N/g;               # numbers
    $t =~ s/%/ N /g;                           # per cent: PTB's "N N"
    $t =~ s/\.\.\.+/ /g;                        # ellipses
    $t =~ s/--+/ /g;                           # dashes
    $t =~ s/["\x{60},;:!?()\[\]{}<>|*+=~^_\@\\]/ /g;
    $t =~ s{(?<=[a-z])/(?=[a-z])}{\x01}g;       # word/word, escaped below
    $t =~ s{/}{ }g;
    $t =~ s/\$/ \$ /g;
    $t =~ s/#/ # /g;
    $t =~ s/(?<![a-z])&|&(?![a-z])/ & /g;
    $t =~ s/\bcannot\b/can not/g;
    $t =~ s/([a-z])n't\b/$1 n't/g;
    $t =~ s/(?<=[a-z])'(s|re|ve|ll|d|m)\b/ '$1/g;
    $t =~ s/\x01/\\\//g;
    for my $w (split ' ', $t) {
      # quotes made of apostrophes and backticks
      if ($w =~ /^'/ && $w !~ /^'(?:s|re|ve|ll|d|m)$/) {
        $w =~ s/^'+//;
        $open = 1;
      }
      if ($w =~ /^(.*[^'])'+(\.*)$/) {          # ends with an apostrophe (maybe then a period)
        my ($base, $dots) = ($1, $2);
        if ($base =~ /s$/ && !$open) {          # plural possessive: a token of its own
          push_word(\@out, $base);
          push @out, "'";
          next;
        }
        $w = $base . $dots;                      # closing quote
        $open = 0;
      }
      push_word(\@out, $w);
    }
  }
  return @out;
}

sub push_word {
  my ($out, $w) = @_;
  $w =~ s/^[-.]+//;                             # leading hyphens and periods
  $w =~ s/^'+// unless $w =~ /^'(?:s|re|ve|ll|d|m)$/;
  if ($w =~ /\.$/) {
    (my $core = $w) =~ s/\.+$//;
    $w = ($KEEP{$core} || $core =~ /^[a-z]$/ || $core =~ /^(?:[a-z]\.)+[a-z]$/) ? "$core." : $core;
  }
  $w =~ s/-+$//;
  return unless length $w;
  return if $w =~ /^'+$/;
  # anything left that PTB would not have (non-ASCII, odd symbols) makes the word unknown
  $w = '<unk>' if $w =~ /[^a-zN.'&\$#\\\/-]/;
  push @$out, $w;
}
PERL

mincount=2
maxvocab=10000
perl -e "$NORMALISE" "$tmp" "$mincount" "$maxvocab" "${used[@]}" || die "normalisation failed"
read -r nsent nvocab < "$tmp/vocab.count"
rm -f "$tmp/vocab.count"

count_tokens() { awk '{ n += NF } END { print n + 0 }' "$1"; }
{
  echo "# Default text corpus for lm"
  echo
  echo "Generated by \`corpora/make-default-text.sh\` on a Debian system; not part of the lem repository."
  echo "Penn Treebank format as in Mikolov's simple-examples: one sentence per line with a leading"
  echo "and a trailing space, lower case, numbers as \`N\`, PTB tokenisation with most punctuation"
  echo "removed, words outside the vocabulary as \`<unk>\`. The \`ptb.char.*\` files spell the same lines"
  echo "character by character, separated by spaces, with \`_\` between words."
  echo
  echo "## Source"
  echo
  echo "Built from these files (sha256, path), in this order; files with the same contents as an"
  echo "earlier one were used once. These are licence texts and copyright notices, so the corpus is"
  echo "a derived work of them: see corpora/README.md."
  echo
  echo '```'
  printf '%s' "$manifest"
  echo '```'
  echo
  echo "## Processing"
  echo
  echo "- $nsent distinct sentences of at least 2 tokens (duplicates removed, first kept)."
  echo "- Split by position: blocks of 10 consecutive sentences, 8 blocks of every 10 to train,"
  echo "  then 1 to valid and 1 to test."
  echo "- Vocabulary: $((nvocab - 1)) words seen at least $mincount times in train (at most $maxvocab), plus \`<unk>\`;"
  echo "  every other word in every split is \`<unk>\`."
  echo
  echo "## Counts"
  echo
  echo "| split | sentences | tokens (words) | \`<unk>\` | characters (char files, incl. \`_\`) |"
  echo "|---|---|---|---|---|"
  for s in train valid test; do
    lines=$(wc -l < "$tmp/ptb.$s.txt")
    toks=$(count_tokens "$tmp/ptb.$s.txt")
    unks=$(tr ' ' '\n' < "$tmp/ptb.$s.txt" | grep -c '^<unk>$' || true)
    chars=$(count_tokens "$tmp/ptb.char.$s.txt")
    echo "| $s | $lines | $toks | $unks | $chars |"
  done
  echo
  echo "Stamp: $stamp"
} > "$tmp/SOURCE.md"
printf '%s\n' "$stamp" > "$tmp/.stamp"

# Move into place: the old corpus (if any) is replaced only once the new one is complete.
if [ -e "$outdir" ]; then
  old="$parent/.text-old.$$"
  mv "$outdir" "$old"
  mv "$tmp" "$outdir"
  rm -rf "$old"
else
  mv "$tmp" "$outdir"
fi
trap - EXIT
summary "$outdir"
