#!/bin/sh
# make.sh re-makes every media file in this directory from ffmpeg's lavfi
# test sources (testsrc2 for video, sine for audio). Run it from anywhere:
#
#	sh testdata/make.sh
#
# Needs ffmpeg built with libvpx, libaom, libx264 and libopus (checked with
# ffmpeg 5.1). Encoders are not bit-exact across library versions, so a
# re-made file may differ byte for byte from the committed one while having
# the same codec, size, duration and frame count (see README.md).
set -eu

cd "$(dirname "$0")"

FF="ffmpeg -y -hide_banner -v error"
V320="-f lavfi -i testsrc2=size=320x240:rate=30:duration=2"
BITEXACT="-fflags +bitexact -flags:v +bitexact -flags:a +bitexact"

# VP8, 2 s, 320x240, 30 fps, key frame every second.
$FF $V320 -pix_fmt yuv420p -c:v libvpx -b:v 300k -g 30 -keyint_min 30 \
	-deadline realtime -cpu-used 8 $BITEXACT vp8.ivf

# VP9, same shape.
$FF $V320 -pix_fmt yuv420p -c:v libvpx-vp9 -b:v 300k -g 30 -keyint_min 30 \
	-deadline realtime -cpu-used 8 -row-mt 1 $BITEXACT vp9.ivf

# AV1 (libaom, realtime usage). IVF keeps the temporal delimiter OBUs.
$FF $V320 -pix_fmt yuv420p -c:v libaom-av1 -b:v 300k -g 30 -keyint_min 30 \
	-usage realtime -cpu-used 8 $BITEXACT av1.ivf

# H.264 constrained baseline, Annex B, SPS/PPS repeated before every IDR.
$FF $V320 -pix_fmt yuv420p -c:v libx264 -profile:v baseline -b:v 300k \
	-g 30 -keyint_min 30 -x264-params repeat-headers=1 \
	-bsf:v h264_mp4toannexb $BITEXACT -f h264 h264.h264

# H.264 high profile, 1 s, 636x358 (coded 640x368, so the SPS carries
# frame cropping), no B-frames.
$FF -f lavfi -i testsrc2=size=636x358:rate=30:duration=1 -pix_fmt yuv420p \
	-c:v libx264 -profile:v high -bf 0 -b:v 300k -g 30 -keyint_min 30 \
	-x264-params repeat-headers=1 -bsf:v h264_mp4toannexb $BITEXACT \
	-f h264 h264-high.h264

# VP8 whose size changes from 320x240 to 160x120 at 1 s: encode two 1 s
# parts (each starts with a key frame carrying its size) and join their
# frames with ffmpeg's concat demuxer and stream copy. The IVF header keeps
# the first part's size (320x240); the PTS of the second part continue at 30.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
$FF -f lavfi -i testsrc2=size=320x240:rate=30:duration=1 -pix_fmt yuv420p \
	-c:v libvpx -b:v 300k -g 30 -keyint_min 30 -deadline realtime \
	-cpu-used 8 $BITEXACT "$tmp/a.ivf"
$FF -f lavfi -i testsrc2=size=160x120:rate=30:duration=1 -pix_fmt yuv420p \
	-c:v libvpx -b:v 150k -g 30 -keyint_min 30 -deadline realtime \
	-cpu-used 8 $BITEXACT "$tmp/b.ivf"
printf "file '%s'\nfile '%s'\n" "$tmp/a.ivf" "$tmp/b.ivf" >"$tmp/list.txt"
$FF -f concat -safe 0 -i "$tmp/list.txt" -c copy $BITEXACT vp8-resize.ivf

# Opus, 2 s, 48 kHz stereo, 64 kb/s, 20 ms frames.
$FF -f lavfi -i sine=frequency=440:sample_rate=48000:duration=2 -ac 2 \
	-c:a libopus -b:a 64k -frame_duration 20 $BITEXACT opus-stereo.ogg

# Opus, 2 s, 48 kHz mono, 60 ms frames.
$FF -f lavfi -i sine=frequency=440:sample_rate=48000:duration=2 -ac 1 \
	-c:a libopus -b:a 64k -frame_duration 60 $BITEXACT opus-mono-60ms.ogg

# PCM, 2 s, 48 kHz mono, signed 16-bit little-endian.
$FF -f lavfi -i sine=frequency=440:sample_rate=48000:duration=2 -ac 1 \
	-c:a pcm_s16le $BITEXACT pcm.wav

# Every file must decode without a word from ffmpeg.
for f in vp8.ivf vp9.ivf av1.ivf h264.h264 h264-high.h264 vp8-resize.ivf \
	opus-stereo.ogg opus-mono-60ms.ogg pcm.wav; do
	out=$(ffmpeg -hide_banner -v error -i "$f" -f null - 2>&1)
	if [ -n "$out" ]; then
		echo "$f: $out" >&2
		exit 1
	fi
done
