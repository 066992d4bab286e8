package mediarecorder

import (
	"encoding/base64"
	"strings"

	"github.com/gomediarecorder/mediarecorder/codecs/h264"
)

// spropParameterSets reads the SPS and PPS from an H.264 fmtp line's
// sprop-parameter-sets (RFC 6184 8.1), for streams that send them out of band.
func spropParameterSets(fmtp string) (sps, pps [][]byte) {
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
