package codec

import (
	"github.com/gomediarecorder/mediarecorder/codecs/av1"
	"github.com/gomediarecorder/mediarecorder/codecs/vp9"
)

// VP9 is the row of VP9 video (RTP: RFC 9628; ISO BMFF: the VP codec
// binding's vp09 entry).
var VP9 = &Codec{
	Name:         "vp9",
	Kind:         Video,
	MIMEName:     "vp9",
	mimeNames:    []string{"vp9.0"},
	mimePrefixes: []string{"vp09."},
	SyncExposed:  true,
	RTPMimeType:  "video/VP9",
	ClockRate:    90000,
	MatroskaID:   "V_VP9",
	MP4Entry:     "vp09",
	IVFFourCC:    "VP90",
	ivfAliases:   []string{"vp90"},
	WebM:         true,

	valid:     func(data []byte) bool { _, err := vp9.ParseHeader(data); return err == nil },
	keyFrame:  func(data []byte, _ **av1.SequenceHeader) bool { return vp9.IsKeyFrame(data) },
	configure: vp9Configure,
}

// vp9Configure reads a key frame's header: the picture size, Matroska's
// CodecPrivate (features) and MP4's vpcC.
func vp9Configure(_ Params, data []byte) (Config, error) {
	var cfg Config
	h, err := vp9.ParseHeader(data)
	if err != nil || !h.KeyFrame || h.Width == 0 || h.Height == 0 {
		return cfg, ErrNotConfigurable
	}
	cfg.Width, cfg.Height = uint32(h.Width), uint32(h.Height)
	cfg.CodecPrivate = vp9.CodecPrivate(h, 0)
	cfg.VP9 = h
	return cfg, nil
}
