package mediarecorder

import (
	"slices"
	"strings"
	"sync"
	"time"
)

// Encoders turn the raw media of AudioTrack and VideoTrack into the codec a
// recording's MIME type asks for. The root package holds no encoder: encoder
// packages register themselves when imported, as image formats and
// database/sql drivers do, so that this package depends on no codec
// library (and on no cgo):
//
//	import _ "github.com/gomediarecorder/mediarecorder/encode/opus" // Opus, pure Go
//	import _ "github.com/gomediarecorder/mediarecorder/encode/vpx"  // VP8, VP9: build with -tags libvpx
//
// Each recording of a raw track makes its own encoder, configured with that
// recording's bitrate, bitrate mode and key-frame options, so that several
// recorders may record the same raw track differently. PCM (codecs=pcm)
// needs no encoder.

// AudioEncoderConfig configures an AudioEncoder.
type AudioEncoderConfig struct {
	Codec         string // the codecs-parameter name, lower case: "opus"
	SampleRate    int    // the track's sample rate
	Channels      int    // 1 or 2
	BitsPerSecond uint64 // the target bitrate
	BitrateMode   BitrateMode
}

// AudioEncoder encodes interleaved float32 PCM (full scale ±1) into packets.
// Its methods are called from one goroutine at a time. An encoder whose
// output lags its input may also have a method Lookahead() int returning
// the lag in samples: the recorder then stamps each packet that much
// earlier, so that the sound stays in sync with the video.
type AudioEncoder interface {
	// SampleRate is the rate its input must have; the recorder resamples
	// the track's audio to it.
	SampleRate() int
	// FrameSize is how many samples per channel each Encode takes.
	FrameSize() int
	// Encode encodes exactly FrameSize()*channels interleaved samples
	// into one packet, valid until the next call.
	Encode(pcm []float32) ([]byte, error)
	// Close releases the encoder.
	Close() error
}

// VideoEncoderConfig configures a VideoEncoder.
type VideoEncoderConfig struct {
	Codec         string // the codecs-parameter name, lower case: "vp8", "vp9"
	Width, Height int
	BitsPerSecond uint64  // the target bitrate
	FrameRate     float64 // the expected frame rate (a hint; timestamps rule)
}

// VideoEncoder encodes I420 frames. Its methods are called from one
// goroutine at a time.
type VideoEncoder interface {
	// Encode encodes frame f (PixelI420, of the configured size, with its
	// Strides set) captured at ts; forceKey asks for a key frame. It
	// returns the frames the encoder output, zero or more, whose Data is
	// valid until the next call. A real-time encoder returns f's frame
	// at once, or none when its rate control drops it.
	Encode(f *VideoFrame, ts time.Duration, forceKey bool) ([]TimedSample, error)
	// Close releases the encoder.
	Close() error
}

var encoders struct {
	sync.RWMutex
	audio map[string]func(AudioEncoderConfig) (AudioEncoder, error)
	video map[string]func(VideoEncoderConfig) (VideoEncoder, error)
}

// RegisterAudioEncoder makes an audio encoder for codec (a codecs-parameter
// name such as "opus") available to recorders. Encoder packages call it
// from init; a later registration for the same codec replaces the earlier.
func RegisterAudioEncoder(codec string, f func(AudioEncoderConfig) (AudioEncoder, error)) {
	encoders.Lock()
	defer encoders.Unlock()
	if encoders.audio == nil {
		encoders.audio = map[string]func(AudioEncoderConfig) (AudioEncoder, error){}
	}
	encoders.audio[strings.ToLower(codec)] = f
}

// RegisterVideoEncoder makes a video encoder for codec ("vp8", "vp9")
// available to recorders, like RegisterAudioEncoder.
func RegisterVideoEncoder(codec string, f func(VideoEncoderConfig) (VideoEncoder, error)) {
	encoders.Lock()
	defer encoders.Unlock()
	if encoders.video == nil {
		encoders.video = map[string]func(VideoEncoderConfig) (VideoEncoder, error){}
	}
	encoders.video[strings.ToLower(codec)] = f
}

// Encoders returns the codecs (codecs-parameter names, sorted) that raw
// tracks can be encoded to in this program: "pcm" always, and those of the
// encoder packages it imports.
func Encoders() []string {
	encoders.RLock()
	defer encoders.RUnlock()
	out := []string{"pcm"}
	for c := range encoders.audio {
		out = append(out, c)
	}
	for c := range encoders.video {
		out = append(out, c)
	}
	slices.Sort(out)
	return out
}

func audioEncoderFor(id codecID) func(AudioEncoderConfig) (AudioEncoder, error) {
	encoders.RLock()
	defer encoders.RUnlock()
	return encoders.audio[id.defaultName()]
}

func videoEncoderFor(id codecID) func(VideoEncoderConfig) (VideoEncoder, error) {
	encoders.RLock()
	defer encoders.RUnlock()
	return encoders.video[id.defaultName()]
}

// canEncode reports whether a raw track of kind k can be encoded to id.
func canEncode(k Kind, id codecID) bool {
	switch {
	case k == KindAudio && id == codecPCM:
		return true
	case k == KindAudio && id.kind() == KindAudio:
		return audioEncoderFor(id) != nil
	case k == KindVideo && id.kind() == KindVideo:
		return videoEncoderFor(id) != nil
	}
	return false
}
