# Sourced by bench/remux.sh and bench/rtp-load.sh: the pre-encoded inputs
# they share, generated on demand into bench/.data (not committed).
#
# make_inputs MINUTES sets v and a to MINUTES of 640x480 30 fps VP8 at
# 1 Mb/s (IVF; -deadline realtime -cpu-used 8 -g 60, from lavfi testsrc2)
# and Opus 64 kb/s in 20 ms frames (Ogg, from a 440 Hz sine).
make_inputs() {
  local minutes=$1 secs=$(($1 * 60))
  data=bench/.data
  mkdir -p "$data"
  v=$data/v-${minutes}m.ivf
  a=$data/a-${minutes}m.ogg
  if [ ! -s "$v" ]; then
    echo "generating $v (${minutes} min VP8)..." >&2
    ffmpeg -v error -y -f lavfi -i "testsrc2=size=640x480:rate=30:duration=$secs" \
      -c:v libvpx -b:v 1M -deadline realtime -cpu-used 8 -g 60 -pix_fmt yuv420p "$v.tmp.ivf"
    mv "$v.tmp.ivf" "$v"
  fi
  if [ ! -s "$a" ]; then
    ffmpeg -v error -y -f lavfi -i "sine=frequency=440:duration=$secs:sample_rate=48000" \
      -c:a libopus -b:a 64k -frame_duration 20 "$a.tmp.ogg"
    mv "$a.tmp.ogg" "$a"
  fi
}
