#!/usr/bin/env bash
# RTP loss benchmark (issue 10 point 7): what a recording keeps of plain RTP
# (an SDP input, no RTCP feedback, so no key frame can be asked for) sent
# through a lossy relay on loopback, by
#   (a) "ours": rtpsource.ListenSDP + mediarecorder (bench/rtploss record),
#   (b) "gst":  gst-launch-1.0 udpsrc ! rtpjitterbuffer latency=150 !
#               rtp{vp8,vp9,h264}depay [! vp9parse | h264parse] !
#               {webm,matroska}mux (vp9parse: ffmpeg sends no VP9 scalability
#               structure, so the depayloader alone gives webmmux no size),
# both listening at the same time to the same relay (bench/rtploss relay),
# which loses each packet with probability 1 % or 5 %, delays the rest by
# 50±20 ms (uniform: packets overtake each other) and sends every packet it
# keeps to both. The sender is ffmpeg (-re -c copy -f rtp, pkt_size 1200)
# of 20 s (600 frames) of 640x480 30 fps at 1 Mb/s, pre-encoded as:
#   vp8          libvpx realtime, key frame every 60 frames: every frame is
#                a reference (the issue's stream)
#   vp8-layers   the same with two temporal layers (-ts-parameters mode 2)
#                in error-resilient mode: odd frames are discardable
#   vp9-layers   libvpx-vp9, the same layers, error-resilient
#   h264         libx264 -preset veryfast, defaults: 3 B-frames, B-pyramid
#                (one B of three is a reference), key frame every 60 frames
#   h264-nopyr   the same with b-pyramid=none: every B-frame non-reference
#   vp8-gst-layers  not ffmpeg but GStreamer (bench/gst-vp8-layers.py, live
#                vp8enc, two temporal layers, error-resilient, rtpvp8pay):
#                a sender that writes TID, Y and TL0PICIDX
# (add vp8-gst-layers to -codecs; it needs python3-gi)
# For each: frames kept (ffprobe -count_frames) and decode errors (lines
# that `ffmpeg -v error -i F -f null -` prints, but for the timestamp
# complaints counted in tserr) of each output; for ours also the track's
# counters (nonref: losses that cost only the frames lost).
# intact: decoded pictures identical to one of the sender's pictures (by
# MD5 of the decoded picture): a frame decoded against a missing or wrong
# reference is not, whether or not the decoder says a word.
# Pass: ours decodes with zero errors and every picture intact, everywhere.
# Exit status 0 or 1.
#
# Usage: [BEFORE_BIN=...] bench/rtp-loss.sh [-codecs vp8,vp8-layers,...] [-loss 1,5] [-seed N]
# Inputs go to bench/.data (not committed), outputs to bench/.data/rtp-loss.
set -euo pipefail
cd "$(dirname "$0")/.."

codecs=vp8,vp8-layers,vp9-layers,h264,h264-nopyr
losses=1,5
seed=1
while [ $# -gt 0 ]; do
  case "$1" in
    -codecs) codecs=$2; shift 2 ;;
    -loss) losses=$2; shift 2 ;;
    -seed) seed=$2; shift 2 ;;
    *) echo "usage: $0 [-codecs LIST] [-loss 1,5] [-seed N]" >&2; exit 2 ;;
  esac
done
for t in ffmpeg ffprobe gst-launch-1.0; do
  command -v $t >/dev/null || { echo "rtp-loss.sh: $t is missing" >&2; exit 1; }
done

data=bench/.data
out=$data/rtp-loss
mkdir -p "$out"
bin=$out/rtploss
go build -o "$bin" ./bench/rtploss
# BEFORE_BIN: a bench/rtploss binary built against an earlier rtpsource
# (e.g. before the loss rule: every loss drops up to the next key frame);
# it records from the same relay too, in the column "before".
before=${BEFORE_BIN:-}

layers="ts_number_layers=2:ts_target_bitrate=600,1000:ts_rate_decimator=2,1:ts_periodicity=2:ts_layer_id=0,1:ts_layering_mode=2"
src=(-f lavfi -i "testsrc2=size=640x480:rate=30:duration=20" -pix_fmt yuv420p)
input() { # CODEC -> path of the pre-encoded input
  local f
  case $1 in
    vp8) f=$data/loss-vp8.ivf
      [ -s "$f" ] || ffmpeg -nostdin -v error -y "${src[@]}" -c:v libvpx -b:v 1M -deadline realtime -cpu-used 8 -g 60 "$f" ;;
    vp8-layers) f=$data/loss-vp8-layers.ivf
      [ -s "$f" ] || ffmpeg -nostdin -v error -y "${src[@]}" -c:v libvpx -b:v 1M -deadline realtime -cpu-used 8 -g 60 \
        -error-resilient default -ts-parameters "$layers" "$f" ;;
    vp9-layers) f=$data/loss-vp9-layers.ivf
      # ffmpeg 5.1 gives libvpx-vp9 no layer bitrates: without -qmin it
      # makes 5 Mb/s of this; with -qmin 40, about 1 Mb/s.
      [ -s "$f" ] || ffmpeg -nostdin -v error -y "${src[@]}" -c:v libvpx-vp9 -b:v 1M -deadline realtime -cpu-used 8 -g 60 \
        -error-resilient default -ts-parameters "$layers" -qmin 40 -qmax 56 "$f" ;;
    # In Matroska, not raw H.264: ffmpeg -c copy of a raw stream sends every
    # packet with one RTP timestamp.
    h264) f=$data/loss-h264.mkv
      [ -s "$f" ] || ffmpeg -nostdin -v error -y "${src[@]}" -c:v libx264 -preset veryfast -b:v 1M -g 60 "$f" ;;
    h264-nopyr) f=$data/loss-h264-nopyr.mkv
      [ -s "$f" ] || ffmpeg -nostdin -v error -y "${src[@]}" -c:v libx264 -preset veryfast -b:v 1M -g 60 -x264-params b-pyramid=none "$f" ;;
    vp8-gst-layers) f= ;; # encoded live by the sender
    *) echo "unknown codec $1" >&2; exit 2 ;;
  esac
  echo "$f"
}

relay=41000 ours=41010 gstp=41020 oldp=41030
frames() { { ffprobe -v error -count_frames -select_streams v:0 -show_entries stream=nb_read_frames -of csv=p=0 "$1" 2>/dev/null || true; } | head -1; }
# Decoding errors: what ffmpeg -v error prints, but for the null muxer's
# "non monotonically increasing dts" (H.264 with B-frames: rtpsource
# publishes in decoding order, and clamps presentation times that go back
# to the previous frame's: a timestamp matter, counted apart in tserr).
errors() { { ffmpeg -nostdin -v error -i "$1" -f null - 2>&1 || true; } | grep -vc 'non monotonically increasing dts' || true; }
tserrors() { { ffmpeg -nostdin -v error -i "$1" -f null - 2>&1 || true; } | grep -c 'non monotonically increasing dts' || true; }

# md5s FILE: the MD5 of each decoded picture, one a line.
md5s() { { ffmpeg -nostdin -v quiet -i "$1" -fps_mode passthrough -f framemd5 - 2>/dev/null || true; } | awk -F, '!/^#/ { gsub(/ /, "", $NF); print $NF }'; }
# intact FILE REF: how many decoded pictures of FILE are pictures of the
# sender's stream (REF: its MD5s), i.e. were decoded from the references
# they were encoded against.
intact() { md5s "$1" | awk 'NR == FNR { ref[$1]++; next } ($1 in ref) { n++ } END { print n + 0 }' "$2" -; }

status=0
table=$out/table.txt
printf '%-14s %5s %6s | %-6s %6s %6s %5s %6s %9s | %-6s %6s %6s | %-6s %6s %6s\n' codec loss sent ours intact errors tserr nonref "lost pkts" before intact errors gst intact errors | tee "$table"
for c in ${codecs//,/ }; do
  in=$(input "$c")
  if [ -n "$in" ]; then
    sent=$(frames "$in")
    md5s "$in" >"$out/$c.md5"
  fi
  case $c in
    vp8*) enc=VP8 depay=rtpvp8depay mux=webmmux ext=webm ;;
    vp9*) enc=VP9 depay="rtpvp9depay ! vp9parse" mux=webmmux ext=webm ;;
    h264*) enc=H264 depay="rtph264depay ! h264parse" mux=matroskamux ext=mkv ;;
  esac
  fmtp=
  [ $enc = H264 ] && fmtp="a=fmtp:96 packetization-mode=1"$'\r\n'
  for l in ${losses//,/ }; do
    dir=$out/$c-$l
    rm -rf "$dir"; mkdir -p "$dir"
    sdp() { printf 'v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=rtp-loss\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=video %d RTP/AVP 96\r\na=rtpmap:96 %s/90000\r\n%s' \
      "$1" $enc "$fmtp"; }
    sdp $ours >"$dir/in.sdp"
    sdp $oldp >"$dir/before.sdp"
    to=$ours,$gstp
    if [ -n "$before" ]; then
      "$before" record -sdp "$dir/before.sdp" -out "$dir/before.$ext" -idle 6s >"$dir/before.json" 2>"$dir/before.log" &
      bpid=$!
      to=$to,$oldp
    fi
    # The receivers.
    "$bin" record -sdp "$dir/in.sdp" -out "$dir/ours.$ext" -idle 6s >"$dir/ours.json" 2>"$dir/ours.log" &
    opid=$!
    # shellcheck disable=SC2086
    gst-launch-1.0 -e -q udpsrc port=$gstp \
      caps="application/x-rtp,media=video,encoding-name=$enc,clock-rate=90000,payload=96" \
      ! rtpjitterbuffer latency=150 ! $depay ! $mux ! filesink location="$dir/gst.$ext" >"$dir/gst.log" 2>&1 &
    gpid=$!
    "$bin" relay -listen $relay -to $to -loss "0.0$l" -delay 50ms -jitter 20ms -seed "$seed" -idle 2s >"$dir/relay.json" &
    rpid=$!
    sleep 1
    # The sender.
    ref=$out/$c.md5
    if [ -z "$in" ]; then
      /usr/bin/python3 bench/gst-vp8-layers.py $relay 600 "$dir/sent.webm"
      sent=$(frames "$dir/sent.webm")
      ref=$dir/sent.md5
      md5s "$dir/sent.webm" >"$ref"
    else
      bsf=(); [ $enc = H264 ] && bsf=(-bsf:v h264_mp4toannexb) # SPS and PPS in-band, before each key frame
      ffmpeg -nostdin -v error -re -i "$in" -c copy "${bsf[@]}" -strict experimental \
        -f rtp -payload_type 96 "rtp://127.0.0.1:$relay?pkt_size=1200" >/dev/null
    fi
    wait $rpid
    sleep 1
    kill -INT $gpid 2>/dev/null || true
    wait $gpid || echo "gst failed: $(head -3 "$dir/gst.log")"
    wait $opid || { echo "ours failed: $(cat "$dir/ours.log")"; status=1; }
    bf=- be=- bi=-
    if [ -n "$before" ]; then
      wait $bpid || echo "before failed: $(cat "$dir/before.log")"
      bf=$(frames "$dir/before.$ext"); be=$(errors "$dir/before.$ext"); bi=$(intact "$dir/before.$ext" "$ref")
    fi
    of=$(frames "$dir/ours.$ext"); oe=$(errors "$dir/ours.$ext"); ot=$(tserrors "$dir/ours.$ext")
    oi=$(intact "$dir/ours.$ext" "$ref")
    gf=$(frames "$dir/gst.$ext"); ge=$(errors "$dir/gst.$ext"); gi=$(intact "$dir/gst.$ext" "$ref")
    st=$(tail -1 "$dir/ours.json")
    nonref=$(sed -n 's/.*"NonReferenceLost":\([0-9]*\).*/\1/p' <<<"$st")
    lost=$(sed -n 's/.*"lost":\([0-9]*\).*/\1/p' "$dir/relay.json")
    printf '%-14s %4s%% %6s | %-6s %6s %6s %5s %6s %9s | %-6s %6s %6s | %-6s %6s %6s\n' "$c" "$l" "$sent" "${of:-?}" "$oi" "$oe" "$ot" "${nonref:-?}" "${lost:-?}" "${bf:-?}" "$bi" "$be" "${gf:-?}" "$gi" "$ge" | tee -a "$table"
    [ "$oe" = 0 ] && [ -n "$of" ] && [ "$oi" = "$of" ] || status=1
  done
done
if [ $status = 0 ]; then echo "rtp-loss: PASS (ours: zero decode errors)"; else echo "rtp-loss: FAIL"; fi
exit $status
