package mediarecorder

import (
	"errors"
	"time"

	"github.com/gomediarecorder/mediarecorder/internal/codec"
)

// errNotConfigurable: the sample does not carry what the container header
// needs (a key frame header, SPS/PPS, a sequence header).
var errNotConfigurable = errors.New("mediarecorder: sample does not configure the track")

// trackConfig is what the container header needs to know about a track,
// learnt from its first usable sample by the codec's row.
type trackConfig struct {
	codec.Config
}

// configureTrack reads the track's configuration from a first sample.
func configureTrack(id codecID, c Codec, data []byte) (trackConfig, error) {
	cc, err := id.Configure(codec.Params{ClockRate: c.ClockRate, Channels: c.Channels, SDPFmtpLine: c.SDPFmtpLine}, data)
	if err != nil {
		return trackConfig{}, errNotConfigurable
	}
	return trackConfig{Config: cc}, nil
}

// sampleDuration estimates a sample's duration when its producer gave none.
func sampleDuration(id codecID, cfg trackConfig, data []byte) time.Duration {
	return id.Duration(data, cfg.SampleRate, cfg.Channels)
}

// validSample reports whether data is well-formed enough to store: its
// headers parse and their sizes fit. A sample that fails is skipped and
// counted rather than written into the file, where it would break decoding.
func validSample(id codecID, data []byte) bool { return id.Valid(data) }
