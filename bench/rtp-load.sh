#!/usr/bin/env bash
# RTP ingest load benchmark (issue 4 item 5): N senders on loopback of
# pre-encoded 640x480 30 fps VP8 at 1 Mb/s (IVF) + Opus 64 kb/s in 20 ms frames
# (Ogg), recorded
#   (a) "ours": by rtpsource.ListenSDP + mediarecorder StartFile, all N streams
#       in ONE process (bench/rtpload record), and
#   (b) "gst": by N GStreamer processes, each
#       gst-launch-1.0 -e udpsrc ! rtpjitterbuffer ! rtpvp8depay ! webmmux
#       (+ udpsrc ! rtpjitterbuffer ! rtpopusdepay ! opusparse) ! filesink,
# one after the other (never at the same time), with the same sender
# (bench/rtpload send: one process, N streams paced in real time by pion's
# VP8/Opus packetizers, RTCP Sender Reports each second, media looped if the
# run is longer than the file).
#
# Each run: recorders start, every RTP port is bound, the sender starts; after
# -warmup the window starts and lasts -window; the sender stops at its end,
# 0.5 s later the recorders get SIGINT and finish their files.
# How it measures (bench/rtpload run):
#   CPU:  utime+stime of the recorder processes (all threads) from
#         /proc/PID/stat at the window's start and end; per stream =
#         delta / window / N, in % of one core. The sender is not counted.
#   RSS:  VmRSS of the recorder processes summed, sampled every 0.5 s during
#         the window and averaged. Per stream:
#           ours = (average RSS - baseline) / N, where baseline is the
#                  VmRSS of the same process at start-up, before any socket,
#                  track or recorder exists (Go runtime + binary: ~7 MiB);
#           gst  = sum of the N processes' RSS / N (as measured for the issue:
#                  13 MiB per stream; their shared libraries are counted in
#                  each process, so PSS is printed too).
#         Peak = VmHWM at the window's end, same formula.
# Targets: ours <= 1/10 of GStreamer's CPU per stream, < 1 MiB RSS per stream,
# and every output (both sides) decodes with `ffmpeg -v error -i F -f null -`
# printing nothing, its duration within 1 s of the time sent.
# Exit status: 0 when everything passes, 1 otherwise.
#
# Usage: bench/rtp-load.sh [-n N] [-window SECONDS] [-warmup SECONDS]
#                          [-impl ours,gst] [-cpuprofile FILE] [-memprofile FILE]
# (from anywhere; defaults: 20 streams, 30 s window, 5 s warm-up). The inputs are
# generated on demand into bench/.data (not committed), the outputs go to
# bench/.data/rtp-load/{ours,gst}, the figures to bench/.data/rtp-load/results.json.
# -cpuprofile profiles our recorder over the window (go tool pprof -top FILE);
# -memprofile writes its heap at the end, sampled every 4 KiB (which costs CPU:
# do not use it for the CPU figures). The environment (GOMAXPROCS, GOGC, ...)
# reaches our recorder and the sender.
set -euo pipefail
cd "$(dirname "$0")/.."

n=20
window=30
warmup=5
impl=ours,gst
prof=()
while [ $# -gt 0 ]; do
  case "$1" in
    -n) n=$2; shift 2 ;;
    -window) window=$2; shift 2 ;;
    -warmup) warmup=$2; shift 2 ;;
    -impl) impl=$2; shift 2 ;;
    -cpuprofile|-memprofile) prof+=("$1" "$(realpath -m "$2")"); shift 2 ;;
    *) echo "usage: $0 [-n N] [-window S] [-warmup S] [-impl ours,gst] [-cpuprofile F] [-memprofile F]" >&2; exit 2 ;;
  esac
done

need=()
command -v ffmpeg >/dev/null || need+=(ffmpeg)
if ! command -v gst-inspect-1.0 >/dev/null ||
   ! gst-inspect-1.0 udpsrc rtpjitterbuffer rtpvp8depay rtpopusdepay opusparse webmmux >/dev/null 2>&1; then
  need+=(gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-bad)
fi
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  else
    echo "rtp-load.sh: missing ${need[*]}" >&2; exit 1
  fi
fi

# The inputs: one minute each (bench/inputs.sh, the files bench/remux.sh
# -minutes 1 uses); the sender loops them for longer runs.
. bench/inputs.sh
make_inputs 1

bin=$data/rtpload
go build -o "$bin" ./bench/rtpload
out=$data/rtp-load
mkdir -p "$out"
table=$out/table.txt
"$bin" run -impl "$impl" -n "$n" -window "${window}s" -warmup "${warmup}s" \
  -video "$v" -audio "$a" -out "$out" "${prof[@]}" | tee "$table"

# Every output must decode without a single error and last as long as what
# was sent (warm-up + window), within 1 s.
sent=$((warmup + window))
check() { # FILE SENT
  local errs dur
  errs=$(ffmpeg -nostdin -v error -i "$1" -f null - 2>&1 | head -3)
  dur=$(ffprobe -v error -show_entries format=duration -of csv=p=0 "$1")
  if [ -n "$errs" ]; then
    echo "FAIL $1: decoding errors: $errs"
  elif ! awk -v d="$dur" -v s="$2" 'BEGIN { exit !(d != "" && d >= s - 1 && d <= s + 1) }'; then
    echo "FAIL $1: duration ${dur:-unknown} s, sent $2 s"
  else
    echo "ok $1 $dur"
  fi
}
export -f check
echo
status=0
grep -q FAIL "$table" && status=1
for k in ${impl//,/ }; do
  files=("$out/$k"/*.webm)
  if [ ! -e "${files[0]}" ]; then
    echo "$k: no output files"; status=1; continue
  fi
  res=$(printf '%s\n' "${files[@]}" | xargs -P 2 -I{} bash -c 'check "$1" "$2"' _ {} "$sent")
  bad=$(grep -c '^FAIL' <<<"$res" || true)
  durs=$(awk '$1 == "ok" { print $3 }' <<<"$res" | sort -n | awk 'NR == 1 { lo = $1 } { hi = $1 } END { if (NR) printf "%.2f-%.2f s", lo, hi }')
  echo "$k: ${#files[@]} files, $((${#files[@]} - bad)) decode with zero errors and last ${sent} s +-1 s (${durs:-none})"
  if [ "$bad" -gt 0 ]; then
    grep '^FAIL' <<<"$res"; status=1
  fi
  if [ "${#files[@]}" -ne "$n" ]; then
    echo "$k: $n streams but ${#files[@]} files"; status=1
  fi
done
if [ $status = 0 ]; then echo "rtp-load: PASS"; else echo "rtp-load: FAIL"; fi
exit $status
