package h264

import "errors"

// Errors returned by AVCDecoderConfigurationRecord.
var (
	// ErrNoSPS means no SPS was given.
	ErrNoSPS = errors.New("h264: no SPS")
	// ErrParameterSets means a parameter set is empty, of the wrong NAL
	// unit type, longer than 65535 bytes, or there are more than avcC can
	// count (31 SPS, 255 PPS, 255 SPS extensions).
	ErrParameterSets = errors.New("h264: bad parameter sets for avcC")
)

// AVCDecoderConfigurationRecord returns the avcC record (ISO/IEC 14496-15
// section 5.3.3.1) for the sequence parameter sets sps and picture
// parameter sets pps, each a NAL unit without start code, in the given
// order. Sequence parameter set extensions (NAL unit type 13) may be given
// among sps; they go to the SPS extension list. The profile, compatibility
// and level bytes come from the first SPS, and lengthSizeMinusOne is 3
// (4-byte sizes, as AppendAVCC writes). For every profile but 66, 77 and
// 88 the record ends with chroma_format, the bit depths and the SPS
// extensions, as the current edition of the standard says (its first
// edition listed only 100, 110, 122 and 144) and as ffmpeg writes. The record is also Matroska's CodecPrivate for V_MPEG4/ISO/AVC.
func AVCDecoderConfigurationRecord(sps, pps [][]byte) ([]byte, error) {
	var first SPS
	var nSPS, nExt, size int
	for _, p := range sps {
		if len(p) == 0 || len(p) > 0xffff {
			return nil, ErrParameterSets
		}
		size += 2 + len(p)
		switch NALUType(p) {
		case NALUTypeSPS:
			if nSPS == 0 {
				s, err := ParseSPS(p)
				if err != nil {
					return nil, err
				}
				first = s
			}
			nSPS++
		case NALUTypeSPSExt:
			nExt++
		default:
			return nil, ErrParameterSets
		}
	}
	if nSPS == 0 {
		return nil, ErrNoSPS
	}
	for _, p := range pps {
		if len(p) == 0 || len(p) > 0xffff || NALUType(p) != NALUTypePPS {
			return nil, ErrParameterSets
		}
		size += 2 + len(p)
	}
	if nSPS > 31 || len(pps) > 255 || nExt > 255 {
		return nil, ErrParameterSets
	}
	ext := true
	switch first.ProfileIDC {
	case 66, 77, 88:
		ext = false
	}
	if !ext && nExt > 0 {
		nExt = 0 // no place for them in the record
	}
	c := make([]byte, 0, 7+size+4)
	c = append(c, 1, first.ProfileIDC, first.ConstraintFlags, first.LevelIDC, 0xfc|3, 0xe0|byte(nSPS))
	c = appendSets(c, sps, NALUTypeSPS)
	c = append(c, byte(len(pps)))
	c = appendSets(c, pps, NALUTypePPS)
	if ext {
		c = append(c,
			0xfc|byte(first.ChromaFormatIDC),
			0xf8|(first.BitDepthLuma-8),
			0xf8|(first.BitDepthChroma-8),
			byte(nExt))
		c = appendSets(c, sps, NALUTypeSPSExt)
	}
	return c, nil
}

// appendSets appends each NAL unit of sets of type t with a 16-bit size.
func appendSets(c []byte, sets [][]byte, t uint8) []byte {
	for _, p := range sets {
		if NALUType(p) == t {
			c = append(c, byte(len(p)>>8), byte(len(p)))
			c = append(c, p...)
		}
	}
	return c
}
