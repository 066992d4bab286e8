package codec

import (
	"github.com/gomediarecorder/mediarecorder/codecs/av1"
)

// AV1 is the row of AV1 video (samples are temporal units of OBUs, as RTP
// and IVF carry them).
var AV1 = &Codec{
	Name:         "av1",
	Kind:         Video,
	MIMEName:     "av1",
	mimePrefixes: []string{"av01."},
	RTPMimeType:  "video/AV1",
	ClockRate:    90000,
	MatroskaID:   "V_AV1",
	MP4Entry:     "av01",
	IVFFourCC:    "AV01",
	ivfAliases:   []string{"av01"},
	WebM:         true,

	valid:       av1Valid,
	keyFrame:    av1KeyFrame,
	configure:   av1Configure,
	toContainer: av1.AppendStripTemporalDelimiters,
}

// av1Valid: the temporal unit is a whole number of OBUs, at least one.
func av1Valid(data []byte) bool {
	n := 0
	for rest := data; len(rest) > 0; n++ {
		var err error
		if _, rest, err = av1.NextOBU(rest); err != nil {
			return false
		}
	}
	return n > 0
}

// av1KeyFrame parses the first frame header with the sequence header in
// data, else the one *seq remembers (seq nil: none), and remembers the one
// in data.
func av1KeyFrame(data []byte, seq **av1.SequenceHeader) bool {
	if seq == nil {
		return av1.IsKeyFrame(data, nil)
	}
	if _, s, ok := av1.FindSequenceHeader(data); ok {
		*seq = &s
	}
	return av1.IsKeyFrame(data, *seq)
}

// av1Configure reads the sequence header: the largest picture size and
// the av1C record.
func av1Configure(_ Params, data []byte) (Config, error) {
	var cfg Config
	raw, seq, ok := av1.FindSequenceHeader(data)
	if !ok || seq.MaxFrameWidth == 0 || seq.MaxFrameHeight == 0 {
		return cfg, ErrNotConfigurable
	}
	cfg.Width, cfg.Height = seq.MaxFrameWidth, seq.MaxFrameHeight
	cfg.CodecPrivate = av1.CodecConfigurationRecord(seq, raw)
	return cfg, nil
}
