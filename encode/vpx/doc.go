// Package vpx registers VP8 and VP9 encoders for raw video tracks, a small
// cgo binding of libvpx's encoder API. It needs libvpx (Debian:
// libvpx-dev and pkg-config) and the build tag libvpx:
//
//	go build -tags libvpx ./...
//
// and is imported for its side effect:
//
//	import _ "github.com/gomediarecorder/mediarecorder/encode/vpx"
//
// Built without the tag the package is empty and registers nothing, so a
// recorder answers a raw video track with a NotSupportedError that names
// the tag.
//
// The encoders run with real-time settings, as a browser's MediaRecorder
// does: one thread (on a small machine two threads lose far more to
// synchronisation than they gain), the real-time deadline, no lag (each
// frame comes out as soon as it goes in), constant bitrate rate control at
// the recorder's videoBitsPerSecond, no dropped frames, and a key frame
// whenever the recorder asks (at the start, after a resume, at the
// key-frame interval) and at least every KeyFrameMaxDistance frames.
package vpx
