#!/usr/bin/env bash
# Encoding benchmark (issue 14 item 5), one run. The same raw input, a
# 640x480 30 fps Y4M (lavfi testsrc2, SECS s) and a 48 kHz stereo WAV (two
# tones and noise), is encoded
#   (a) by Chromium's own MediaRecorder: --use-file-for-fake-video-capture
#       and --use-file-for-fake-audio-capture, a page of our own recording
#       video/webm;codecs=vp8,opus at videoBitsPerSecond VBPS for REC s;
#   (b) by us: filesource (Y4M, WAV as raw tracks) into a Recorder with the
#       same options, libvpx VP8 and gopus Opus (bench/encodebench ours);
#   (c) by ffmpeg with the same encoder and settings (libvpx VP8 realtime,
#       cpu-used 8, 1 thread, no lag, CBR at VBPS, 1 s buffer), video only,
#       against us with video only;
#   (d) Opus: gopus (ours, constant bitrate) against ffmpeg's libopus (CBR,
#       20 ms frames, application audio), both at ABPS.
# Measured:
#   bitrate: the video packets' bytes over their span (ffprobe), vs VBPS;
#   SSIM/PSNR: ffmpeg's ssim and psnr filters, each decoded frame against
#     the source frame it shows, found by the Y plane's least squared error
#     (Chromium's capture starts before its recording does and may skip or
#     repeat frames; ours and ffmpeg's match frame for frame from 0);
#   CPU: ours = getrusage of the recording process from StartFile to the stop
#     event; ffmpeg = user+sys of the process; Chromium = CPU of all its
#     processes while recording minus the same while only capturing (the
#     baseline), i.e. what its MediaRecorder costs. Per frame = CPU / frames.
#   Opus quality: PSNR of the decoded PCM against the source (delay found by
#     least squared error).
# Targets: our SSIM at the same bitrate (ours run again at the bitrate and
#   frame rate Chromium reached) no lower than Chromium's; our CPU per
#   frame at most 1.1x ffmpeg's. Exit status 1 when a target is missed.
#
# Usage: bench/encode.sh   (env: SECS=30 REC=20 VBPS=1000000 ABPS=64000)
# Needs ffmpeg, ffprobe, chromium, libvpx-dev; outputs and figures go to
# bench/.data/encode (results.json).
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${SECS:-30}
REC=${REC:-20}
VBPS=${VBPS:-1000000}
ABPS=${ABPS:-64000}
d=bench/.data/encode
mkdir -p "$d"
go build -tags libvpx -o "$d/encodebench" ./bench/encodebench
eb=$d/encodebench

# The inputs, for this length.
if [ "$(cat "$d/src.secs" 2>/dev/null)" != "$SECS" ]; then
  echo "generating the inputs..." >&2
  ffmpeg -v error -y -f lavfi -i "testsrc2=size=640x480:rate=30" -t "$SECS" -pix_fmt yuv420p "$d/src.y4m"
  ffmpeg -v error -y -f lavfi -i "aevalsrc=0.3*sin(2*PI*440*t)+0.2*sin(2*PI*1250*t)*sin(PI*t)+0.05*(random(0)-0.5)|0.3*sin(2*PI*660*t)+0.05*(random(1)-0.5):s=48000" \
    -t "$SECS" -c:a pcm_s16le "$d/src.wav"
  ffmpeg -v error -y -i "$d/src.y4m" -f rawvideo -pix_fmt yuv420p "$d/src.yuv"
  ffmpeg -v error -y -i "$d/src.wav" -f s16le -ar 48000 -ac 2 "$d/src.s16"
  echo "$SECS" >"$d/src.secs"
fi
frames=$((SECS * 30))

# bitrate FILE SEL: bits per second of the selected stream's packets.
bitrate() {
  ffprobe -v error -select_streams "$2" -show_entries packet=pts_time,duration_time,size -of csv=p=0 "$1" |
    awk -F, '{b+=$3; e=$1+$2; if (NR==1||$1<s) s=$1; if (e>m) m=e} END {printf "%.0f", b*8/(m-s)}'
}
# quality FILE: "SSIM PSNR FRAMES FIRST JUMPS" of FILE's video, each frame
# against the source frame it shows (encodebench align: ours and ffmpeg's
# match frame for frame from 0; Chromium's capture starts before its
# recording and may skip or repeat frames).
quality() {
  local f=$1 dec=$1.yuv match=$1.match.yuv
  ffmpeg -v error -y -i "$f" -fps_mode passthrough -enc_time_base -1 -f rawvideo -pix_fmt yuv420p "$dec"
  local first jumps
  read -r first jumps <<<"$("$eb" align -ref "$d/src.yuv" -dist "$dec" -out "$match" -w 640 -h 480)"
  local raw=(-f rawvideo -pix_fmt yuv420p -s 640x480 -r 30)
  local s p n
  s=$(ffmpeg -hide_banner "${raw[@]}" -i "$dec" "${raw[@]}" -i "$match" -lavfi "[0:v][1:v]ssim" -f null - 2>&1 | grep -o 'All:[0-9.]*' | tail -1 | cut -d: -f2)
  p=$(ffmpeg -hide_banner "${raw[@]}" -i "$dec" "${raw[@]}" -i "$match" -lavfi "[0:v][1:v]psnr" -f null - 2>&1 | grep -o 'average:[0-9.inf]*' | tail -1 | cut -d: -f2)
  n=$(($(stat -c %s "$dec") / 460800))
  rm -f "$dec" "$match"
  echo "$s $p $n $first $jumps"
}
# cpu CMD...: user+sys seconds of a command.
cpu() {
  /usr/bin/time -f "%U %S" -o "$d/time.txt" "$@"
  awk '{print $1+$2}' "$d/time.txt"
}
# decode_check FILE [warn]: ffmpeg -v error decodes FILE without a word
# (-enc_time_base -1: VFR, capture times). Only a warning for Chromium's
# file, which is not ours (it can hold two frames with one timestamp).
decode_check() {
  local msg
  msg=$(ffmpeg -v error -i "$1" -enc_time_base -1 -f null - 2>&1)
  if [ -n "$msg" ]; then
    echo "decode errors in $1: $msg" >&2
    [ "${2:-}" = warn ] || fail=1
  fi
}
fail=0

echo "(a) Chromium MediaRecorder, ${REC} s..." >&2
base=$("$eb" chrome -baseline -y4m "$d/src.y4m" -wav "$d/src.wav" -secs "$REC")
chrome=$("$eb" chrome -y4m "$d/src.y4m" -wav "$d/src.wav" -secs "$REC" -vbps "$VBPS" -abps "$ABPS" -out "$d/chrome.webm")
decode_check "$d/chrome.webm" warn
read -r c_ssim c_psnr c_frames c_off c_jumps <<<"$(quality "$d/chrome.webm")"
c_bps=$(bitrate "$d/chrome.webm" v)
c_cpu=$(jq -n "$(jq .cpu_s <<<"$chrome") - $(jq .cpu_s <<<"$base")")

echo "(b) ours, video + audio..." >&2
ours=$("$eb" ours -y4m "$d/src.y4m" -wav "$d/src.wav" -vbps "$VBPS" -abps "$ABPS" -out "$d/ours.webm")
decode_check "$d/ours.webm"
read -r o_ssim o_psnr o_frames _ o_jumps <<<"$(quality "$d/ours.webm")"
o_bps=$(bitrate "$d/ours.webm" v)

# Chromium rarely hits its target (it undershoots on easy content) and may
# record fewer frames than it captures (on this machine about 15 of the 30
# per second): ours again with the bitrate and frame rate Chromium reached,
# the same bits per frame.
c_fps=$(jq -n "[($c_frames / $REC + 0.5 | floor), 30] | min")
ffmpeg -v error -y -i "$d/src.y4m" -vf "fps=$c_fps" "$d/src-chromium-fps.y4m"
ours2=$("$eb" ours -y4m "$d/src-chromium-fps.y4m" -wav "$d/src.wav" -vbps "$c_bps" -abps "$ABPS" -out "$d/ours-at-chromium.webm")
decode_check "$d/ours-at-chromium.webm"
read -r o2_ssim o2_psnr _ _ _ <<<"$(quality "$d/ours-at-chromium.webm")"
o2_bps=$(bitrate "$d/ours-at-chromium.webm" v)

echo "(c) video only: ours and ffmpeg..." >&2
ov=$("$eb" ours -y4m "$d/src.y4m" -mime "video/webm;codecs=vp8" -vbps "$VBPS" -out "$d/ours-v.webm")
decode_check "$d/ours-v.webm"
ov_cpu=$(jq .cpu_s <<<"$ov")
fv_cpu=$(cpu ffmpeg -v error -y -i "$d/src.y4m" -an -c:v libvpx -deadline realtime -cpu-used 8 -threads 1 -lag-in-frames 0 \
  -b:v "$VBPS" -minrate "$VBPS" -maxrate "$VBPS" -bufsize "$VBPS" -rc_init_occupancy $((VBPS / 2)) \
  -undershoot-pct 100 -overshoot-pct 15 -qmin 2 -qmax 63 -g 300 -static-thresh 1 -max-intra-rate 300 "$d/ffmpeg-v.webm")
decode_check "$d/ffmpeg-v.webm"
read -r f_ssim f_psnr f_frames _ f_jumps <<<"$(quality "$d/ffmpeg-v.webm")"
f_bps=$(bitrate "$d/ffmpeg-v.webm" v)

echo "(d) Opus: gopus and libopus at $ABPS b/s..." >&2
oa=$("$eb" ours -wav "$d/src.wav" -mime "audio/ogg" -abps "$ABPS" -cbr -out "$d/ours-a.ogg")
decode_check "$d/ours-a.ogg"
oa_cpu=$(jq .cpu_s <<<"$oa")
fa_cpu=$(cpu ffmpeg -v error -y -i "$d/src.wav" -c:a libopus -b:a "$ABPS" -vbr off -frame_duration 20 -application audio "$d/ffmpeg-a.ogg")
decode_check "$d/ffmpeg-a.ogg"
for x in ours-a ffmpeg-a; do
  ffmpeg -v error -y -i "$d/$x.ogg" -f s16le -ar 48000 -ac 2 "$d/$x.s16"
done
oa_q=$("$eb" pcm -ref "$d/src.s16" -dist "$d/ours-a.s16")
fa_q=$("$eb" pcm -ref "$d/src.s16" -dist "$d/ffmpeg-a.s16")
oa_bps=$(bitrate "$d/ours-a.ogg" a)
fa_bps=$(bitrate "$d/ffmpeg-a.ogg" a)

jq -n --argjson vbps "$VBPS" --argjson abps "$ABPS" \
  --argjson c_bps "$c_bps" --argjson c_ssim "$c_ssim" --argjson c_psnr "$c_psnr" --argjson c_frames "$c_frames" --argjson c_off "$c_off" --argjson c_jumps "$c_jumps" --argjson o_jumps "$o_jumps" --argjson c_cpu "$c_cpu" \
  --argjson o_bps "$o_bps" --argjson o_ssim "$o_ssim" --argjson o_psnr "$o_psnr" --argjson o_frames "$o_frames" --argjson o_cpu "$(jq .cpu_s <<<"$ours")" \
  --argjson c_fps "$c_fps" --argjson o2_bps "$o2_bps" --argjson o2_ssim "$o2_ssim" --argjson o2_psnr "$o2_psnr" \
  --argjson ov_cpu "$ov_cpu" --argjson fv_cpu "$fv_cpu" --argjson f_bps "$f_bps" --argjson f_ssim "$f_ssim" --argjson f_psnr "$f_psnr" --argjson f_frames "$f_frames" \
  --argjson oa_cpu "$oa_cpu" --argjson fa_cpu "$fa_cpu" --argjson oa_bps "$oa_bps" --argjson fa_bps "$fa_bps" \
  --argjson oa_q "$oa_q" --argjson fa_q "$fa_q" --argjson frames "$frames" --argjson secs "$SECS" '{
  target_video_bps: $vbps, target_audio_bps: $abps,
  chromium: {video_bps: $c_bps, ssim: $c_ssim, psnr_db: $c_psnr, frames: $c_frames, first_source_frame: $c_off, frames_off_sequence: $c_jumps,
             mediarecorder_cpu_s: $c_cpu, cpu_ms_per_frame: ($c_cpu * 1000 / $c_frames)},
  ours: {video_bps: $o_bps, ssim: $o_ssim, psnr_db: $o_psnr, frames: $o_frames, frames_off_sequence: $o_jumps, cpu_s: $o_cpu,
         cpu_ms_per_frame: ($o_cpu * 1000 / $o_frames)},
  ours_at_chromium_bitrate_and_rate: {fps: $c_fps, video_bps: $o2_bps, ssim: $o2_ssim, psnr_db: $o2_psnr},
  video_only: {ours_cpu_ms_per_frame: ($ov_cpu * 1000 / $frames), ffmpeg_cpu_ms_per_frame: ($fv_cpu * 1000 / $frames),
               ratio: ($ov_cpu / $fv_cpu), ffmpeg_video_bps: $f_bps, ffmpeg_ssim: $f_ssim, ffmpeg_psnr_db: $f_psnr},
  opus: {gopus_cpu_s: $oa_cpu, libopus_cpu_s: $fa_cpu, gopus_x_realtime: ($secs / $oa_cpu), libopus_x_realtime: ($secs / $fa_cpu),
         gopus_bps: $oa_bps, libopus_bps: $fa_bps, gopus_psnr_db: $oa_q.psnr_db, libopus_psnr_db: $fa_q.psnr_db}
}' | tee "$d/results.json"

r=$(jq -r '[.ours_at_chromium_bitrate_and_rate.ssim >= .chromium.ssim, .video_only.ratio <= 1.1,
  ((.ours.video_bps - .target_video_bps) | if . < 0 then -. else . end) <= 0.1 * .target_video_bps] | map(tostring) | join(" ")' "$d/results.json")
read -r ssim_ok cpu_ok bps_ok <<<"$r"
echo "targets: SSIM >= Chromium's: $ssim_ok; CPU/frame <= 1.1x ffmpeg's: $cpu_ok; bitrate within 10 %: $bps_ok" >&2
[ "$ssim_ok" = true ] && [ "$cpu_ok" = true ] && [ "$bps_ok" = true ] && [ "$fail" = 0 ]
