package mediarecorder

import (
	"github.com/gomediarecorder/mediarecorder/codecs/av1"
	"github.com/gomediarecorder/mediarecorder/codecs/h264"
	"github.com/gomediarecorder/mediarecorder/codecs/opus"
	"github.com/gomediarecorder/mediarecorder/codecs/vp8"
	"github.com/gomediarecorder/mediarecorder/codecs/vp9"
)

// validSample reports whether data is well-formed enough to store: its
// headers parse and their sizes fit. A sample that fails is skipped and
// counted rather than written into the file, where it would break decoding.
func validSample(id codecID, data []byte) bool {
	if len(data) == 0 {
		return false
	}
	switch id {
	case codecVP8:
		h, err := vp8.ParseFrameHeader(data)
		if err != nil || h.Version > 3 {
			return false
		}
		hdr := vp8.FrameTagSize
		if h.KeyFrame {
			hdr = vp8.KeyFrameHeaderSize
		}
		return int(h.FirstPartSize) <= len(data)-hdr
	case codecVP9:
		_, err := vp9.ParseHeader(data)
		return err == nil
	case codecAV1:
		n := 0
		for rest := data; len(rest) > 0; n++ {
			var err error
			if _, rest, err = av1.NextOBU(rest); err != nil {
				return false
			}
		}
		return n > 0
	case codecH264:
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
	case codecOpus:
		return opus.Validate(data) == nil
	case codecPCM:
		return len(data)%2 == 0
	}
	return false
}
