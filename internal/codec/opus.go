package codec

import (
	"strings"
	"time"

	"github.com/gomediarecorder/mediarecorder/codecs/opus"
)

// Opus is the row of Opus audio (RFC 6716; RTP: RFC 7587, always a 48 kHz
// clock; Ogg: RFC 7845).
var Opus = &Codec{
	Name:        "opus",
	Kind:        Audio,
	MIMEName:    "opus",
	SyncExposed: true,
	RTPMimeType: "audio/opus",
	ClockRate:   48000,
	MatroskaID:  "A_OPUS",
	MP4Entry:    "Opus",
	WebM:        true,
	Ogg:         true,
	SeekPreRoll: 80 * time.Millisecond,

	valid:     func(data []byte) bool { return opus.Validate(data) == nil },
	keyFrame:  audioKeyFrame,
	configure: opusConfigure,
	duration:  opusDuration,
}

// opusConfigure: 48 kHz; the channels the producer says (1 or 2), else
// the first packet's TOC, stereo when the fmtp line says stereo=1; the
// OpusHead of those (pre-skip 0: the source's encoder delay is unknown).
func opusConfigure(p Params, data []byte) (Config, error) {
	var cfg Config
	if _, err := opus.PacketSamples(data); err != nil {
		return cfg, ErrNotConfigurable
	}
	cfg.SampleRate = 48000
	switch {
	case p.Channels > 0 && p.Channels <= 2:
		cfg.Channels = uint8(p.Channels)
	case opus.ParseTOC(data[0]).Stereo:
		cfg.Channels = 2
	default:
		cfg.Channels = 1
	}
	if strings.Contains(strings.ToLower(p.SDPFmtpLine), "stereo=1") {
		cfg.Channels = 2
	}
	head := opus.DefaultHead(cfg.Channels, 48000)
	head.PreSkip = 0
	cfg.CodecPrivate, _ = head.MarshalBinary()
	return cfg, nil
}

// opusDuration is a valid packet's duration from its TOC.
func opusDuration(data []byte, _ uint32, _ uint8) time.Duration {
	if opus.Validate(data) == nil {
		d, _ := opus.PacketDuration(data)
		return d
	}
	return 0
}
