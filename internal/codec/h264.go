package codec

import (
	"encoding/base64"
	"strings"

	"github.com/gomediarecorder/mediarecorder/codecs/av1"
	"github.com/gomediarecorder/mediarecorder/codecs/h264"
)

// H264 is the row of H.264/AVC video. Samples are Annex B access units (as
// RTP depacketizers and .h264 files give them); Matroska and ISO BMFF
// store them length-prefixed. WebM holds none.
var H264 = &Codec{
	Name:         "h264",
	Kind:         Video,
	MIMEName:     "avc1",
	mimeNames:    []string{"h264", "avc3"},
	mimePrefixes: []string{"avc1.", "avc3."},
	SyncExposed:  true,
	RTPMimeType:  "video/H264",
	ClockRate:    90000,
	MatroskaID:   "V_MPEG4/ISO/AVC",
	MP4Entry:     "avc1",
	mp4Aliases:   []string{"avc3"},
	Reorders:     true,

	valid:       h264Valid,
	keyFrame:    func(data []byte, _ **av1.SequenceHeader) bool { return h264.IsKeyFrame(data) },
	configure:   h264Configure,
	toContainer: func(dst, data []byte) ([]byte, error) { return h264.AppendAVCC(dst, data), nil },
}

// h264Valid: no NAL unit has its forbidden bit set, and one is a slice.
func h264Valid(data []byte) bool {
	vcl := false
	for nalu, rest := h264.NextNALU(data); nalu != nil; nalu, rest = h264.NextNALU(rest) {
		if nalu[0]&0x80 != 0 { // forbidden_zero_bit
			return false
		}
		if t := h264.NALUType(nalu); t >= h264.NALUTypeNonIDR && t <= h264.NALUTypeIDR {
			vcl = true
		}
	}
	return vcl
}

// h264Configure takes the SPS and PPS of the access unit, else of the
// fmtp line's sprop-parameter-sets: the picture size and the avcC record.
func h264Configure(p Params, data []byte) (Config, error) {
	var cfg Config
	var sps, pps [][]byte
	for nalu, rest := h264.NextNALU(data); nalu != nil; nalu, rest = h264.NextNALU(rest) {
		switch h264.NALUType(nalu) {
		case h264.NALUTypeSPS:
			sps = append(sps, append([]byte(nil), nalu...))
		case h264.NALUTypePPS:
			pps = append(pps, append([]byte(nil), nalu...))
		}
	}
	if len(sps) == 0 || len(pps) == 0 {
		sps, pps = SpropParameterSets(p.SDPFmtpLine)
	}
	if len(sps) == 0 || len(pps) == 0 {
		return cfg, ErrNotConfigurable
	}
	s, err := h264.ParseSPS(sps[0])
	if err != nil || s.Width <= 0 || s.Height <= 0 {
		return cfg, ErrNotConfigurable
	}
	rec, err := h264.AVCDecoderConfigurationRecord(sps, pps)
	if err != nil {
		return cfg, ErrNotConfigurable
	}
	cfg.Width, cfg.Height = uint32(s.Width), uint32(s.Height)
	cfg.CodecPrivate = rec
	cfg.H264SPS, cfg.H264PPS = sps, pps
	return cfg, nil
}

// SpropParameterSets reads the SPS and PPS from an H.264 fmtp line's
// sprop-parameter-sets (RFC 6184 8.1), for streams that send them out of band.
func SpropParameterSets(fmtp string) (sps, pps [][]byte) {
	for p := range strings.SplitSeq(fmtp, ";") {
		k, v, ok := strings.Cut(strings.TrimSpace(p), "=")
		if !ok || !strings.EqualFold(k, "sprop-parameter-sets") {
			continue
		}
		for s := range strings.SplitSeq(v, ",") {
			b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(s))
			if err != nil || len(b) == 0 {
				continue
			}
			switch h264.NALUType(b) {
			case h264.NALUTypeSPS:
				sps = append(sps, b)
			case h264.NALUTypePPS:
				pps = append(pps, b)
			}
		}
	}
	return sps, pps
}
