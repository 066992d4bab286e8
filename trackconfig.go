package mediarecorder

import (
	"errors"
	"time"

	"github.com/gomediarecorder/mediarecorder/codecs/vp9"
	"github.com/gomediarecorder/mediarecorder/internal/codec"
)

// errNotConfigurable: the sample does not carry what the container header
// needs (a key frame header, SPS/PPS, a sequence header).
var errNotConfigurable = errors.New("mediarecorder: sample does not configure the track")

// trackConfig is what the container header needs to know about a track,
// learnt from its first usable sample.
type trackConfig struct {
	width, height uint32
	codecPrivate  []byte // Matroska's CodecPrivate: avcC, av1C, VP9 features, OpusHead
	channels      uint8
	sampleRate    uint32
	h264SPS       [][]byte
	h264PPS       [][]byte
	vp9           vp9.Header // VP9: the first key frame's header (MP4's vpcC)
}

// configureTrack reads the track's configuration from a first sample
// (the codec's row does: codec.Codec.Configure).
func configureTrack(id codecID, c Codec, data []byte) (trackConfig, error) {
	cc, err := id.Configure(codec.Params{ClockRate: c.ClockRate, Channels: c.Channels, SDPFmtpLine: c.SDPFmtpLine}, data)
	if err != nil {
		return trackConfig{}, errNotConfigurable
	}
	return trackConfig{
		width: cc.Width, height: cc.Height,
		codecPrivate: cc.CodecPrivate,
		channels:     cc.Channels, sampleRate: cc.SampleRate,
		h264SPS: cc.H264SPS, h264PPS: cc.H264PPS,
		vp9: cc.VP9,
	}, nil
}

// sampleDuration estimates a sample's duration when its producer gave none.
func sampleDuration(id codecID, cfg trackConfig, data []byte) time.Duration {
	return id.Duration(data, cfg.sampleRate, cfg.channels)
}

// validSample reports whether data is well-formed enough to store: its
// headers parse and their sizes fit. A sample that fails is skipped and
// counted rather than written into the file, where it would break decoding.
func validSample(id codecID, data []byte) bool { return id.Valid(data) }
