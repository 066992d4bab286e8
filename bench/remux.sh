#!/usr/bin/env bash
# Remux benchmark: 10 minutes of 640x480 30 fps VP8 at 1 Mb/s (IVF) and Opus
# 64 kb/s in 20 ms frames (Ogg), remuxed into WebM by
#   mediarecorder record, ffmpeg -c copy, mkvmerge, GStreamer (ivfparse/oggdemux
#   -> webmmux), and cat of the inputs (the floor).
# Prints each tool's median wall time (hyperfine, or repeated runs), peak RSS
# (/usr/bin/time -v) and our ratio to each; checks every output with
# `ffmpeg -v error -i OUT -f null -`.
#
# Usage: bench/remux.sh [-runs N] [-minutes M]   (from the module root)
# The inputs are generated on demand into bench/.data (not committed).
set -euo pipefail
cd "$(dirname "$0")/.."

runs=11
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
command -v hyperfine >/dev/null || need+=(hyperfine)
[ -x /usr/bin/time ] || need+=(time)
command -v gst-launch-1.0 >/dev/null || need+=(gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-bad)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  else
    echo "remux.sh: missing ${need[*]}" >&2; exit 1
  fi
fi

data=bench/.data
mkdir -p "$data"
secs=$((minutes * 60))
v=$data/v-${minutes}m.ivf
a=$data/a-${minutes}m.ogg
if [ ! -s "$v" ]; then
  echo "generating $v (${minutes} min VP8, takes a while)..." >&2
  ffmpeg -v error -y -f lavfi -i "testsrc2=size=640x480:rate=30:duration=$secs" \
    -c:v libvpx -b:v 1M -deadline realtime -cpu-used 8 -g 60 -pix_fmt yuv420p "$v.tmp.ivf"
  mv "$v.tmp.ivf" "$v"
fi
if [ ! -s "$a" ]; then
  ffmpeg -v error -y -f lavfi -i "sine=frequency=440:duration=$secs:sample_rate=48000" \
    -c:a libopus -b:a 64k -frame_duration 20 "$a.tmp.ogg"
  mv "$a.tmp.ogg" "$a"
fi

bin=$data/mediarecorder
go build -o "$bin" ./cmd/mediarecorder
out=$data/out
mkdir -p "$out"

# Each run writes a new file (hyperfine --prepare removes the old one):
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

# Median wall time of each command (hyperfine runs them side by side).
json=$out/hyperfine.json
args=()
for k in "${order[@]}"; do args+=(--prepare "rm -f ${outs[$k]}"); done
for k in "${order[@]}"; do args+=(-n "$k" "${cmds[$k]}"); done
# Start clean: what earlier work left dirty in the page cache is written
# back first, or the first tool measured pays for it.
sync
hyperfine -N --warmup 1 --runs "$runs" --export-json "$json" "${args[@]}" >&2 2>/dev/null || \
  hyperfine --warmup 1 --runs "$runs" --export-json "$json" "${args[@]}" >&2

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

python3 - "$json" "${order[@]}" <<PY
import json, sys
d = json.load(open(sys.argv[1]))
order = sys.argv[2:]
med = {r["command"]: r["median"] for r in d["results"]}
rss = {$(for k in "${order[@]}"; do printf '"%s": %s, ' "$k" "${rss[$k]:-0}"; done)}
ours = med["mediarecorder"]
print(f"{'tool':<14}{'median s':>10}{'peak RSS MiB':>14}{'ours / it':>11}")
for k in order:
    print(f"{k:<14}{med[k]:>10.3f}{rss[k]/1024:>14.1f}{ours/med[k]:>11.2f}")
PY
