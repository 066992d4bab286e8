#!/usr/bin/env bash
# WebRTC load benchmark (issue 4): N pion publishers on loopback send the same
# VP8 + Opus media over WHIP to the recording server, which records every
# session. Two processes (bench/whipload): `whipload server` (server.New, plus
# /debug/stats and /debug/pprof on a side port) and `whipload publish` (the
# publishers, the measurements, the file checks, the table), so that what the
# publishers cost is not counted as the server's.
#
# Phases: baseline (idle) -> N sessions connected, not recording (pion's and
# rtpsource's own cost) -> every session recorded over the API (or, with
# -autorecord, by server.Config.AutoRecord from the start) -> all sessions
# DELETEd -> goroutines, fds and heap compared with the baseline. Every file is
# checked with ffprobe (packets, holes in the timeline) and decoded with
# `ffmpeg -v error -i F -enc_time_base -1 -f null -` (mediatest.DecodeVFR: on
# the file's own time base), which must print nothing.
#
# Usage (from anywhere):
#   bench/whip-load.sh [-n N] [-seconds S] [-rate R] [-size WxH] [-kbps K]
#                      [-autorecord] [-no-decode] [-keep]
#   bench/whip-load.sh -search [-from N] [-step N] [-max N] ...
#       steps N up (default 50, 100, 150, ...) until a run loses frames of its
#       recordings (or fails to record every session) and reports the largest N
#       with zero dropped frames.
# The media is generated on demand into bench/.data (not committed); each
# run's report, server log and profiles go to bench/.data/whip-load/N<N>-<time>/.
set -euo pipefail
cd "$(dirname "$0")/.."

n=200
seconds=30
rate=10
size=640x480
kbps=1000
search=0
from=50
step=50
maxn=1000
extra=()
keep=0
while [ $# -gt 0 ]; do
  case "$1" in
    -n) n=$2; shift 2 ;;
    -seconds) seconds=$2; shift 2 ;;
    -rate) rate=$2; shift 2 ;;
    -size) size=$2; shift 2 ;;
    -kbps) kbps=$2; shift 2 ;;
    -search) search=1; shift ;;
    -from) from=$2; shift 2 ;;
    -step) step=$2; shift 2 ;;
    -max) maxn=$2; shift 2 ;;
    -autorecord) extra+=(-autorecord); shift ;;
    -no-decode) extra+=(-decode=false); shift ;;
    -keep) keep=1; shift ;;
    *) sed -n '/^# Usage/,/^# run.s report/p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
  esac
done

if ! command -v ffmpeg >/dev/null || ! command -v ffprobe >/dev/null; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ffmpeg >/dev/null
  else
    echo "whip-load.sh: ffmpeg and ffprobe are needed" >&2; exit 1
  fi
fi

data=bench/.data
mkdir -p "$data"
# 20 s of media, looped by every publisher: a key frame every second (the
# publishers jump to the next one when the server asks for a key frame, as an
# encoder would make one).
v=$data/whip-${size}-${kbps}k.ivf
a=$data/whip-opus-64k.ogg
if [ ! -s "$v" ]; then
  echo "generating $v..." >&2
  ffmpeg -v error -y -f lavfi -i "testsrc2=size=$size:rate=30:duration=20" \
    -c:v libvpx -b:v "${kbps}k" -minrate "${kbps}k" -maxrate "${kbps}k" -bufsize "$((kbps / 2))k" \
    -deadline realtime -cpu-used 8 -g 30 -keyint_min 30 -pix_fmt yuv420p "$v.tmp.ivf"
  mv "$v.tmp.ivf" "$v"
fi
if [ ! -s "$a" ]; then
  ffmpeg -v error -y -f lavfi -i "sine=frequency=440:duration=20:sample_rate=48000" -ac 2 \
    -c:a libopus -b:a 64k -vbr off -frame_duration 20 "$a.tmp.ogg"
  mv "$a.tmp.ogg" "$a"
fi

bin=$data/whipload
go build -o "$bin" ./bench/whipload

spid=
cleanup() { if [ -n "$spid" ]; then kill -TERM "$spid" 2>/dev/null || true; wait "$spid" 2>/dev/null || true; fi; }
trap cleanup EXIT

# prof_summary RUN: where the server's CPU went while recording, from its
# CPU profile (cumulative shares of the profile's samples).
prof_summary() {
  local p=$1/cpu-recording.pb.gz
  [ -s "$p" ] || return 0
  local out
  out=$(go tool pprof -top -cum -nodefraction=0 -edgefraction=0 "$bin" "$p" 2>/dev/null) || return 0
  echo
  echo "server CPU profile while recording: $(grep -o 'Duration: .*' <<<"$out")"
  echo
  echo "| share of the samples (cumulative) | where |"
  echo "|---|---|"
  awk '
    function row(name, label) { if (name in cum) printf "| %s | %s |\n", cum[name], label }
    NF >= 6 && $5 ~ /%$/ { cum[$6] = $5 }
    END {
      row("github.com/pion/ice/v4.(*candidateBase).recvLoop", "pion: UDP receive, DTLS/SRTP demultiplexing (ICE recvLoop)")
      row("github.com/gomediarecorder/mediarecorder/rtpsource.FromRemote.func3", "rtpsource read loop: pion TrackRemote.ReadRTP (SRTP decryption, interceptors) + WritePacket")
      row("github.com/pion/webrtc/v4.(*TrackRemote).ReadRTP", "  of which pion ReadRTP")
      row("github.com/gomediarecorder/mediarecorder/rtpsource.(*Track).WritePacket", "  of which rtpsource WritePacket: jitter buffer, depacketizing, fan-out to the recorder")
      row("github.com/gomediarecorder/mediarecorder.(*recording).run", "recorder goroutines: queues, WebM muxing, file writes")
      row("runtime.gcBgMarkWorker", "garbage collection (background marking)")
      row("runtime.mallocgc", "allocation (everywhere)")
    }' <<<"$out"
}

# run_one N: one server, N publishers; prints the report; its RESULT line
# goes to $last_result.
last_result=
run_one() {
  local n=$1
  local run
  run=$data/whip-load/N$n-$(date +%Y%m%d-%H%M%S)
  mkdir -p "$run"
  local srvflags=()
  for f in "${extra[@]}"; do [ "$f" = -autorecord ] && srvflags+=(-autorecord); done
  local pubflags=()
  for f in "${extra[@]}"; do [ "$f" != -autorecord ] && pubflags+=("$f"); done
  rm -f "$run/ready"
  "$bin" server -dir "$run/rec" -ready "$run/ready" "${srvflags[@]}" 2>"$run/server.log" &
  spid=$!
  local rc=0
  "$bin" publish -ready "$run/ready" -n "$n" -seconds "$seconds" -rate "$rate" \
    -video "$v" -audio "$a" -out "$run" "${pubflags[@]}" | tee "$run/report.md" || rc=$?
  kill -TERM "$spid" 2>/dev/null || true
  wait "$spid" 2>/dev/null || true
  spid=
  if [ "$keep" = 0 ]; then rm -rf "$run/rec"; fi
  prof_summary "$run" | tee -a "$run/report.md"
  echo "(report, server log, heap and goroutine profiles: $run)" >&2
  last_result=$(grep '^RESULT' "$run/report.md" || true)
  return $rc
}

if [ "$search" = 0 ]; then
  run_one "$n"
  exit
fi

best=0
best_rec=0
summary=()
for ((k = from; k <= maxn; k += step)); do
  run_one "$k" || true
  summary+=("$last_result")
  [[ "$last_result" == *" zero_drops=true"* ]] && best=$k
  if [[ "$last_result" == *"zero_drops_recorded=true"* ]]; then
    best_rec=$k
  else
    break
  fi
done
echo
echo "## whip-load search (recorded ${seconds} s each, VP8 $size ${kbps} kb/s + Opus 64 kb/s)"
echo
for l in "${summary[@]}"; do echo "$l"; done
echo
echo "largest N with zero dropped frames (none dropped or lost anywhere in the sessions): $best"
echo "largest N with every frame sent while recorded in its file: $best_rec"
