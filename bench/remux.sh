#!/usr/bin/env bash
# Remux benchmark: 10 minutes of 640x480 30 fps VP8 at 1 Mb/s (IVF) and Opus
# 64 kb/s in 20 ms frames (Ogg), remuxed into WebM by
#   mediarecorder record, ffmpeg -c copy, mkvmerge, GStreamer (ivfparse/oggdemux
#   -> webmmux), and cat of the inputs (the floor).
# The tools run in rounds: each round runs every tool once, in an order that
# rotates from round to round, so that a machine whose load drifts (a shared
# one) slows them all alike. Prints each tool's median wall time over the
# rounds, peak RSS (/usr/bin/time -v), and our ratio to each: the median of
# the per-round ratios (paired, so drift cancels). Checks every output with
# `ffmpeg -v error -i OUT -f null -`.
#
# Usage: bench/remux.sh [-runs N] [-minutes M]   (from the module root)
# (-runs: rounds, default 15.)
# The inputs are generated on demand into bench/.data (not committed).
set -euo pipefail
cd "$(dirname "$0")/.."

runs=15
minutes=10
while [ $# -gt 0 ]; do
  case "$1" in
    -runs) runs=$2; shift 2 ;;
    -minutes) minutes=$2; shift 2 ;;
    *) echo "usage: $0 [-runs N] [-minutes M]" >&2; exit 2 ;;
  esac
done

need=()
command -v ffmpeg >/dev/null || need+=(ffmpeg)
command -v mkvmerge >/dev/null || need+=(mkvtoolnix)
[ -x /usr/bin/time ] || need+=(time)
command -v gst-launch-1.0 >/dev/null || need+=(gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-bad)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  else
    echo "remux.sh: missing ${need[*]}" >&2; exit 1
  fi
fi

. bench/inputs.sh
make_inputs "$minutes"

bin=$data/mediarecorder
go build -o "$bin" ./cmd/mediarecorder
out=$data/out
mkdir -p "$out"

# Each run writes a new file (the old one is removed first, untimed):
# replacing an existing file costs extra on ext4 (auto_da_alloc flushes the
# new file's data at the rename or at close), a cost of the filesystem that
# would otherwise fall on some tools and not on others.
declare -A outs=(
  [mediarecorder]=$out/mr.webm [ffmpeg]=$out/ffmpeg.webm [mkvmerge]=$out/mkvmerge.mkv
  [gstreamer]=$out/gst.webm [cat]=$out/cat.bin
)
declare -A cmds=(
  [mediarecorder]="$bin record -o $out/mr.webm $v $a"
  [ffmpeg]="ffmpeg -v error -y -i $v -i $a -map 0 -map 1 -c copy $out/ffmpeg.webm"
  [mkvmerge]="mkvmerge -q -o $out/mkvmerge.mkv $v $a"
  [gstreamer]="gst-launch-1.0 -q webmmux name=m ! filesink location=$out/gst.webm filesrc location=$v ! ivfparse ! m. filesrc location=$a ! oggdemux ! opusparse ! m."
  [cat]="sh -c 'cat $v $a > $out/cat.bin'"
)
order=(mediarecorder ffmpeg mkvmerge gstreamer cat)

# Wall time of each command, round by round. Each run writes a new file.
times=$out/times.txt
: > "$times"
# Start clean: what earlier work left dirty in the page cache is written
# back first, or the first tool measured pays for it.
sync
for k in "${order[@]}"; do # one warm-up run each
  rm -f "${outs[$k]}"
  eval "${cmds[$k]}" >/dev/null
done
n=${#order[@]}
for ((r = 0; r < runs; r++)); do
  for ((i = 0; i < n; i++)); do
    k=${order[$(((i + r) % n))]}
    rm -f "${outs[$k]}"
    t0=$EPOCHREALTIME
    eval "${cmds[$k]}" >/dev/null
    t1=$EPOCHREALTIME
    echo "$r $k $t0 $t1" >> "$times"
  done
done

# Peak RSS of one run each.
declare -A rss
for k in "${order[@]}"; do
  rm -f "${outs[$k]}"
  rss[$k]=$( { /usr/bin/time -v sh -c "${cmds[$k]}" >/dev/null; } 2>&1 | awk -F: '/Maximum resident/ {gsub(/ /,"",$2); print $2}')
done

# Every output must decode without a single error.
for f in "$out"/mr.webm "$out"/ffmpeg.webm "$out"/mkvmerge.mkv "$out"/gst.webm; do
  errs=$(ffmpeg -v error -i "$f" -f null - 2>&1 | head -3)
  if [ -n "$errs" ]; then echo "remux.sh: $f does not decode cleanly: $errs" >&2; exit 1; fi
done

python3 - "$times" "${order[@]}" <<PY
import statistics, sys
order = sys.argv[2:]
runs = {}
for line in open(sys.argv[1]):
    r, k, t0, t1 = line.split()
    runs.setdefault(int(r), {})[k] = float(t1) - float(t0)
med = {k: statistics.median(rd[k] for rd in runs.values()) for k in order}
ratio = {k: statistics.median(rd["mediarecorder"] / rd[k] for rd in runs.values()) for k in order}
rss = {$(for k in "${order[@]}"; do printf '"%s": %s, ' "$k" "${rss[$k]:-0}"; done)}
print(f"{len(runs)} rounds")
print(f"{'tool':<14}{'median s':>10}{'peak RSS MiB':>14}{'ours / it':>11}")
for k in order:
    print(f"{k:<14}{med[k]:>10.3f}{rss[k]/1024:>14.1f}{ratio[k]:>11.2f}")
PY
