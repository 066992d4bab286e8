package h264

import "github.com/gomediarecorder/mediarecorder/internal/bits"

// maxSliceHeaderPrefix bounds the bytes SliceFrameNum unescapes: the
// fields up to frame_num take at most 3 Exp-Golomb codes of 32 bits and
// 18 bits, plus the emulation prevention bytes among them.
const maxSliceHeaderPrefix = 24

// SliceFrameNum returns frame_num of the coded slice nalu (NAL unit type
// 1 or 5, header byte included) of a picture whose sequence parameter set
// is sps (section 7.3.3). It returns false for any other NAL unit, or one
// that ends before frame_num.
func SliceFrameNum(nalu []byte, sps *SPS) (uint32, bool) {
	if t := NALUType(nalu); len(nalu) < 2 || (t != NALUTypeNonIDR && t != NALUTypeIDR) || sps.Log2MaxFrameNum < 4 || sps.Log2MaxFrameNum > 16 {
		return 0, false
	}
	var buf [maxSliceHeaderPrefix]byte
	b := nalu[1:min(len(nalu), 1+maxSliceHeaderPrefix)]
	r := bits.NewReader(RemoveEmulationPrevention(buf[:0], b))
	r.UE() // first_mb_in_slice
	r.UE() // slice_type
	r.UE() // pic_parameter_set_id
	if sps.SeparateColourPlane {
		r.ReadBits(2) // colour_plane_id
	}
	fn := r.ReadBits(int(sps.Log2MaxFrameNum))
	if r.Err() != nil {
		return 0, false
	}
	return fn, true
}
