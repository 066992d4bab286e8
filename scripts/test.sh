#!/usr/bin/env bash
# The test command: installs what the tests need (Debian, as root, only when
# missing: ffmpeg, mkvtoolnix, chromium, GStreamer's WebRTC stack for
# /usr/bin/python3), checks the API contract, then runs
# go vet and go test -race.
# With CI=true a tool that is still missing fails the run instead of
# skipping tests.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v ffmpeg >/dev/null 2>&1 || need+=(ffmpeg)
command -v ffprobe >/dev/null 2>&1 || need+=(ffmpeg)
command -v mkvinfo >/dev/null 2>&1 || need+=(mkvtoolnix)
[ -x /usr/bin/chromium ] || need+=(chromium)
# GStreamer's webrtcbin, driven from Debian's python3 (server/testdata/whip_publish.py).
gst_python() {
  /usr/bin/python3 -c 'import gi; gi.require_version("Gst", "1.0"); gi.require_version("GstWebRTC", "1.0"); gi.require_version("GstSdp", "1.0")' >/dev/null 2>&1
}
gst_has() { command -v gst-inspect-1.0 >/dev/null 2>&1 && gst-inspect-1.0 "$1" >/dev/null 2>&1; }
gst_python || need+=(python3-gst-1.0 gir1.2-gst-plugins-bad-1.0)
command -v gst-inspect-1.0 >/dev/null 2>&1 || need+=(gstreamer1.0-tools)
gst_has webrtcbin || need+=(gstreamer1.0-plugins-bad)
gst_has nicesrc || need+=(gstreamer1.0-nice)
gst_has x264enc || need+=(gstreamer1.0-plugins-ugly)
gst_has rtph264pay || need+=(gstreamer1.0-plugins-good)
# libvpx for the VP8/VP9 encoders (encode/vpx, build tag libvpx).
{ command -v pkg-config >/dev/null 2>&1 && pkg-config --exists vpx; } || need+=(libvpx-dev pkg-config)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "test.sh: installing ${need[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  elif [ "${CI:-}" = true ]; then
    echo "test.sh: missing ${need[*]} and cannot install them (not root or no apt-get)" >&2
    exit 1
  else
    echo "test.sh: missing ${need[*]}: tests that need them will be skipped" >&2
  fi
fi
if [ "${CI:-}" = true ]; then
  for t in ffmpeg ffprobe mkvinfo chromium; do
    command -v "$t" >/dev/null 2>&1 || { echo "test.sh: $t is missing" >&2; exit 1; }
  done
  gst_python || { echo "test.sh: GStreamer WebRTC bindings for /usr/bin/python3 are missing" >&2; exit 1; }
  pkg-config --exists vpx || { echo "test.sh: libvpx-dev (pkg-config vpx) is missing" >&2; exit 1; }
  for e in webrtcbin nicesrc x264enc rtph264pay; do
    gst_has "$e" || { echo "test.sh: GStreamer element $e is missing" >&2; exit 1; }
  done
fi

bash scripts/setup-postgres.sh
# SeaweedFS for the S3 storage tests (internal/s3test), built once into the cache.
MEDIARECORDER_WEED=$(./scripts/setup-seaweedfs.sh) && export MEDIARECORDER_WEED || { [ "${CI:-}" != true ] || exit 1; }

contract=../shared/contract/check.sh
if [ -x "$contract" ] || [ -f "$contract" ]; then
  sh "$contract"
fi

go vet ./...
# staticcheck, installed into the cache outside the repository when missing.
STATICCHECK=$(./scripts/setup-staticcheck.sh) && "$STATICCHECK" ./...
go test -race -timeout 12m "$@" ./...
# The encoders behind the libvpx tag: the encode packages, and the root
# package's raw-track tests (the rest of it does not change with the tag).
if pkg-config --exists vpx 2>/dev/null; then
  go vet -tags libvpx ./encode/... .
  go test -race -timeout 12m -tags libvpx "$@" ./encode/...
  go test -race -timeout 12m -tags libvpx -run 'Raw' "$@" .
  go test -race -timeout 12m -tags libvpx -run 'Y4M' "$@" ./internal/cli
fi
