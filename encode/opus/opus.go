// Package opus registers an Opus encoder for raw audio tracks, in pure Go
// (github.com/thesyncim/gopus, no cgo). Import it for its side effect:
//
//	import _ "github.com/gomediarecorder/mediarecorder/encode/opus"
//
// Recorders then encode mediarecorder.AudioTrack to Opus: 20 ms packets at
// 48 kHz (the recorder resamples other rates), mono or stereo like the
// track, at the recorder's audioBitsPerSecond, constant bitrate when its
// audioBitrateMode is "constant" and variable otherwise.
//
// gopus sits behind the small Encoder type below, so another Opus
// implementation can replace it without touching the recorder.
package opus

import (
	"errors"
	"fmt"

	"github.com/gomediarecorder/mediarecorder"
	"github.com/thesyncim/gopus"
)

// Rate limits of Opus (RFC 6716 allows 6 to 510 kb/s).
const (
	MinBitsPerSecond = 6000
	MaxBitsPerSecond = 510000
)

// SampleRate is the rate the encoder takes its input at.
const SampleRate = 48000

// FrameSize is the samples per channel of each packet: 20 ms.
const FrameSize = 960

// maxPacket is the largest Opus packet of one 20 ms frame.
const maxPacket = 1275

// ErrConfig is wrapped by New's errors.
var ErrConfig = errors.New("opus: bad encoder configuration")

func init() {
	mediarecorder.RegisterAudioEncoder("opus", func(c mediarecorder.AudioEncoderConfig) (mediarecorder.AudioEncoder, error) {
		return New(c)
	})
}

// Encoder is an Opus encoder for one stream. It implements
// mediarecorder.AudioEncoder; it is not safe for concurrent use.
type Encoder struct {
	enc      *gopus.Encoder
	channels int
	buf      []byte
	in       []float32
}

// New returns an encoder for c.Channels (1 or 2) at c.BitsPerSecond
// (clamped to Opus's 6 to 510 kb/s; 0 means 128 kb/s), in constant
// bitrate mode when c.BitrateMode is "constant". Its input is 48 kHz
// whatever c.SampleRate says: the caller resamples.
func New(c mediarecorder.AudioEncoderConfig) (*Encoder, error) {
	if c.Channels != 1 && c.Channels != 2 {
		return nil, fmt.Errorf("%w: %d channels", ErrConfig, c.Channels)
	}
	enc, err := gopus.NewEncoder(gopus.EncoderConfig{SampleRate: SampleRate, Channels: c.Channels, Application: gopus.ApplicationAudio})
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrConfig, err)
	}
	bps := c.BitsPerSecond
	if bps == 0 {
		bps = mediarecorder.DefaultAudioBitsPerSecond
	}
	bps = max(MinBitsPerSecond, min(MaxBitsPerSecond, bps))
	if err := enc.SetBitrate(int(bps)); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrConfig, err)
	}
	mode := gopus.BitrateModeVBR
	if c.BitrateMode == mediarecorder.BitrateConstant {
		mode = gopus.BitrateModeCBR
	}
	if err := enc.SetBitrateMode(mode); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrConfig, err)
	}
	if err := enc.SetFrameSize(FrameSize); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrConfig, err)
	}
	return &Encoder{enc: enc, channels: c.Channels, buf: make([]byte, maxPacket)}, nil
}

// SampleRate returns 48000.
func (e *Encoder) SampleRate() int { return SampleRate }

// FrameSize returns 960 (20 ms).
func (e *Encoder) FrameSize() int { return FrameSize }

// Lookahead returns the encoder's delay in 48 kHz samples (the OpusHead
// pre-skip a decoder should drop).
func (e *Encoder) Lookahead() int { return e.enc.Lookahead() }

// Encode encodes 960 samples per channel, interleaved, into one packet
// that is valid until the next call. Samples beyond ±1 are clipped.
func (e *Encoder) Encode(pcm []float32) ([]byte, error) {
	if len(pcm) != FrameSize*e.channels {
		return nil, fmt.Errorf("opus: %d samples, want %d", len(pcm), FrameSize*e.channels)
	}
	// gopus is young: it gets only finite samples within ±1.
	e.in = append(e.in[:0], pcm...)
	for i, v := range e.in {
		switch {
		case v > 1:
			e.in[i] = 1
		case v < -1:
			e.in[i] = -1
		case v != v: // NaN
			e.in[i] = 0
		}
	}
	n, err := e.enc.Encode(e.in, e.buf)
	if err != nil {
		return nil, fmt.Errorf("opus: %w", err)
	}
	return e.buf[:n], nil
}

// Close releases the encoder.
func (e *Encoder) Close() error { return nil }
