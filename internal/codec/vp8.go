package codec

import (
	"github.com/gomediarecorder/mediarecorder/codecs/av1"
	"github.com/gomediarecorder/mediarecorder/codecs/vp8"
)

// VP8 is the row of VP8 video (RFC 6386; RTP: RFC 7741).
var VP8 = &Codec{
	Name:        "vp8",
	Kind:        Video,
	MIMEName:    "vp8",
	mimeNames:   []string{"vp8.0"},
	SyncExposed: true,
	RTPMimeType: "video/VP8",
	ClockRate:   90000,
	MatroskaID:  "V_VP8",
	IVFFourCC:   "VP80",
	ivfAliases:  []string{"vp80"},
	WebM:        true,

	valid:     vp8Valid,
	keyFrame:  func(data []byte, _ **av1.SequenceHeader) bool { return vp8.IsKeyFrame(data) },
	configure: vp8Configure,
}

// vp8Valid: the frame tag parses and the first partition fits.
func vp8Valid(data []byte) bool {
	h, err := vp8.ParseFrameHeader(data)
	if err != nil || h.Version > 3 {
		return false
	}
	hdr := vp8.FrameTagSize
	if h.KeyFrame {
		hdr = vp8.KeyFrameHeaderSize
	}
	return int(h.FirstPartSize) <= len(data)-hdr
}

// vp8Configure reads the picture size of a key frame.
func vp8Configure(_ Params, data []byte) (Config, error) {
	var cfg Config
	h, err := vp8.ParseFrameHeader(data)
	if err != nil || !h.KeyFrame || h.Width == 0 || h.Height == 0 {
		return cfg, ErrNotConfigurable
	}
	cfg.Width, cfg.Height = uint32(h.Width), uint32(h.Height)
	return cfg, nil
}
