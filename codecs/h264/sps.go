package h264

import (
	"errors"

	"github.com/gomediarecorder/mediarecorder/internal/bits"
)

// Errors returned by ParseSPS and AVCDecoderConfigurationRecord.
var (
	// ErrNotSPS means the NAL unit is not a sequence parameter set.
	ErrNotSPS = errors.New("h264: not an SPS NAL unit")
	// ErrShortSPS means the SPS ended before its last needed field.
	ErrShortSPS = errors.New("h264: SPS too short")
	// ErrInvalidSPS means a field of the SPS is out of its range.
	ErrInvalidSPS = errors.New("h264: invalid SPS")
)

// maxSPSLen bounds the SPS a parser accepts; real ones are tens of bytes.
const maxSPSLen = 1 << 16

// SPS is the parse of a sequence parameter set (H.264 section 7.3.2.1.1),
// with the VUI fields a muxer uses.
type SPS struct {
	ProfileIDC      uint8 // profile_idc: 66 baseline, 77 main, 100 high, ...
	ConstraintFlags uint8 // constraint_set0_flag .. constraint_set5_flag and 2 reserved bits
	LevelIDC        uint8 // level_idc: 31 for level 3.1

	ID                  uint32 // seq_parameter_set_id
	ChromaFormatIDC     uint32 // 0 monochrome, 1 4:2:0 (the default), 2 4:2:2, 3 4:4:4
	SeparateColourPlane bool
	BitDepthLuma        uint8 // 8 to 14
	BitDepthChroma      uint8

	Log2MaxFrameNum       uint8 // log2_max_frame_num_minus4 + 4
	PicOrderCntType       uint8
	Log2MaxPicOrderCntLsb uint8 // log2_max_pic_order_cnt_lsb_minus4 + 4 (type 0)
	// DeltaPicOrderAlwaysZero, OffsetForNonRefPic, OffsetForTopToBottomField
	// and the first NumRefFramesInPicOrderCntCycle entries of
	// OffsetForRefFrame are the picture order count fields of
	// pic_order_cnt_type 1.
	DeltaPicOrderAlwaysZero        bool
	OffsetForNonRefPic             int32
	OffsetForTopToBottomField      int32
	NumRefFramesInPicOrderCntCycle uint8
	OffsetForRefFrame              [255]int32
	MaxNumRefFrames                uint32

	PicWidthInMbs        uint32 // pic_width_in_mbs_minus1 + 1
	PicHeightInMapUnits  uint32 // pic_height_in_map_units_minus1 + 1
	FrameMBSOnly         bool   // frame_mbs_only_flag: no field coding
	MBAdaptiveFrameField bool
	// FrameCropLeft, ... are the frame_crop_*_offset values, in crop units.
	FrameCropLeft, FrameCropRight, FrameCropTop, FrameCropBottom uint32

	// Width and Height are the frame size in pixels after cropping; for
	// field coding (FrameMBSOnly false), the size of a frame, not a field.
	Width, Height int

	VUIPresent bool
	// SarWidth and SarHeight are the sample aspect ratio; 0 when not given.
	SarWidth, SarHeight uint16
	VideoFullRange      bool
	// ColourPrimaries, TransferCharacteristics and MatrixCoefficients are
	// 2 (unspecified) unless the VUI gives them.
	ColourPrimaries, TransferCharacteristics, MatrixCoefficients uint8

	TimingInfoPresent bool
	NumUnitsInTick    uint32
	TimeScale         uint32
	FixedFrameRate    bool

	// BitstreamRestriction says the VUI gave MaxNumReorderFrames and
	// MaxDecFrameBuffering (bitstream_restriction_flag).
	BitstreamRestriction bool
	MaxNumReorderFrames  uint32 // max_num_reorder_frames
	MaxDecFrameBuffering uint32 // max_dec_frame_buffering
}

// highProfile reports whether profile_idc p carries chroma_format_idc, bit
// depths and scaling matrices in its SPS.
func highProfile(p uint8) bool {
	switch p {
	case 100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135:
		return true
	}
	return false
}

// ParseSPS parses the sequence parameter set NAL unit nalu (its 1-byte NAL
// header included, no start code), removing emulation prevention bytes
// first. A VUI that ends early is not an error: the fields read before its
// end are kept (timing only when complete), as decoders do.
func ParseSPS(nalu []byte) (SPS, error) {
	if len(nalu) == 0 || NALUType(nalu) != NALUTypeSPS {
		return SPS{}, ErrNotSPS
	}
	if len(nalu) > maxSPSLen {
		return SPS{}, ErrInvalidSPS
	}
	var buf [256]byte
	rbsp := RemoveEmulationPrevention(buf[:0], nalu[1:])
	b := bitReader{bits.NewReader(rbsp)}
	var s SPS
	s.ProfileIDC = uint8(b.ReadBits(8))
	s.ConstraintFlags = uint8(b.ReadBits(8))
	s.LevelIDC = uint8(b.ReadBits(8))
	s.ID = b.UE()
	if s.ID > 31 {
		return SPS{}, b.err(ErrInvalidSPS)
	}
	s.ChromaFormatIDC = 1
	s.BitDepthLuma, s.BitDepthChroma = 8, 8
	if highProfile(s.ProfileIDC) {
		s.ChromaFormatIDC = b.UE()
		if s.ChromaFormatIDC > 3 {
			return SPS{}, b.err(ErrInvalidSPS)
		}
		if s.ChromaFormatIDC == 3 {
			s.SeparateColourPlane = b.Flag()
		}
		l, c := b.UE(), b.UE()
		if l > 6 || c > 6 {
			return SPS{}, b.err(ErrInvalidSPS)
		}
		s.BitDepthLuma, s.BitDepthChroma = uint8(l)+8, uint8(c)+8
		b.ReadBits(1) // qpprime_y_zero_transform_bypass_flag
		if b.Flag() { // seq_scaling_matrix_present_flag
			n := 8
			if s.ChromaFormatIDC == 3 {
				n = 12
			}
			for i := 0; i < n; i++ {
				if !b.Flag() {
					continue
				}
				size := 16
				if i >= 6 {
					size = 64
				}
				if !b.scalingList(size) {
					return SPS{}, b.err(ErrInvalidSPS)
				}
			}
		}
	}
	l := b.UE()
	if l > 12 {
		return SPS{}, b.err(ErrInvalidSPS)
	}
	s.Log2MaxFrameNum = uint8(l) + 4
	t := b.UE()
	switch t {
	case 0:
		l := b.UE()
		if l > 12 {
			return SPS{}, b.err(ErrInvalidSPS)
		}
		s.Log2MaxPicOrderCntLsb = uint8(l) + 4
	case 1:
		s.DeltaPicOrderAlwaysZero = b.Flag()
		s.OffsetForNonRefPic = b.SE()
		s.OffsetForTopToBottomField = b.SE()
		n := b.UE()
		if n > 255 {
			return SPS{}, b.err(ErrInvalidSPS)
		}
		s.NumRefFramesInPicOrderCntCycle = uint8(n)
		for i := uint32(0); i < n && b.Err() == nil; i++ {
			s.OffsetForRefFrame[i] = b.SE()
		}
	case 2:
	default:
		return SPS{}, b.err(ErrInvalidSPS)
	}
	s.PicOrderCntType = uint8(t)
	s.MaxNumRefFrames = b.UE()
	b.ReadBits(1) // gaps_in_frame_num_value_allowed_flag
	s.PicWidthInMbs = b.UE() + 1
	s.PicHeightInMapUnits = b.UE() + 1
	s.FrameMBSOnly = b.Flag()
	if !s.FrameMBSOnly {
		s.MBAdaptiveFrameField = b.Flag()
	}
	b.ReadBits(1) // direct_8x8_inference_flag
	if b.Flag() {
		s.FrameCropLeft, s.FrameCropRight = b.UE(), b.UE()
		s.FrameCropTop, s.FrameCropBottom = b.UE(), b.UE()
	}
	s.VUIPresent = b.Flag()
	if b.Err() != nil {
		return SPS{}, ErrShortSPS
	}
	if err := s.size(); err != nil {
		return SPS{}, err
	}
	s.ColourPrimaries, s.TransferCharacteristics, s.MatrixCoefficients = 2, 2, 2
	if s.VUIPresent {
		s.vui(&b)
	}
	return s, nil
}

// size computes Width and Height (H.264 equations 7-13 to 7-20).
func (s *SPS) size() error {
	const maxMbs = 1 << 16 // far above level 6.2's 139264 macroblocks per frame
	if s.PicWidthInMbs > maxMbs || s.PicHeightInMapUnits > maxMbs {
		return ErrInvalidSPS
	}
	frameHeightInMbs := int64(s.PicHeightInMapUnits)
	if !s.FrameMBSOnly {
		frameHeightInMbs *= 2
	}
	cropUnitX, cropUnitY := int64(1), int64(1)
	if !s.FrameMBSOnly {
		cropUnitY = 2
	}
	if !s.SeparateColourPlane && s.ChromaFormatIDC != 0 {
		if s.ChromaFormatIDC != 3 {
			cropUnitX = 2
		}
		if s.ChromaFormatIDC == 1 {
			cropUnitY *= 2
		}
	}
	w := int64(s.PicWidthInMbs)*16 - cropUnitX*(int64(s.FrameCropLeft)+int64(s.FrameCropRight))
	h := frameHeightInMbs*16 - cropUnitY*(int64(s.FrameCropTop)+int64(s.FrameCropBottom))
	if w <= 0 || h <= 0 {
		return ErrInvalidSPS
	}
	s.Width, s.Height = int(w), int(h)
	return nil
}

// vui reads vui_parameters() (H.264 section E.1.1) up to the timing
// information, stopping quietly where the data ends.
func (s *SPS) vui(b *bitReader) {
	if b.Flag() { // aspect_ratio_info_present_flag
		idc := b.ReadBits(8)
		if idc == 255 { // Extended_SAR
			w, h := uint16(b.ReadBits(16)), uint16(b.ReadBits(16))
			if b.Err() != nil {
				return
			}
			s.SarWidth, s.SarHeight = w, h
		} else if int(idc) < len(sarTable) {
			s.SarWidth, s.SarHeight = sarTable[idc][0], sarTable[idc][1]
		}
	}
	if b.Flag() { // overscan_info_present_flag
		b.ReadBits(1)
	}
	if b.Flag() { // video_signal_type_present_flag
		b.ReadBits(3) // video_format
		fullRange := b.Flag()
		if b.Flag() { // colour_description_present_flag
			p, t, m := uint8(b.ReadBits(8)), uint8(b.ReadBits(8)), uint8(b.ReadBits(8))
			if b.Err() != nil {
				return
			}
			s.ColourPrimaries, s.TransferCharacteristics, s.MatrixCoefficients = p, t, m
		}
		if b.Err() != nil {
			return
		}
		s.VideoFullRange = fullRange
	}
	if b.Flag() { // chroma_loc_info_present_flag
		b.UE()
		b.UE()
	}
	if b.Flag() { // timing_info_present_flag
		n, t, fixed := b.ReadBits(32), b.ReadBits(32), b.Flag()
		if b.Err() != nil {
			return
		}
		s.TimingInfoPresent = true
		s.NumUnitsInTick, s.TimeScale, s.FixedFrameRate = n, t, fixed
	}
	nal := b.Flag() // nal_hrd_parameters_present_flag
	if nal && !b.hrd() {
		return
	}
	vcl := b.Flag() // vcl_hrd_parameters_present_flag
	if vcl && !b.hrd() {
		return
	}
	if nal || vcl {
		b.ReadBits(1) // low_delay_hrd_flag
	}
	b.ReadBits(1) // pic_struct_present_flag
	if b.Flag() { // bitstream_restriction_flag
		b.ReadBits(1) // motion_vectors_over_pic_boundaries_flag
		for range 4 {
			b.UE() // max_bytes_per_pic_denom, max_bits_per_mb_denom, log2_max_mv_length_*
		}
		reorder, dpb := b.UE(), b.UE()
		if b.Err() != nil || reorder > 16 || dpb > 16 {
			return
		}
		s.BitstreamRestriction = true
		s.MaxNumReorderFrames, s.MaxDecFrameBuffering = reorder, dpb
	}
}

// hrd skips hrd_parameters() (H.264 section E.1.2). It returns false when
// the data ends or cpb_cnt_minus1 is out of range.
func (r *bitReader) hrd() bool {
	n := r.UE() // cpb_cnt_minus1
	if n > 31 {
		return false
	}
	r.ReadBits(8) // bit_rate_scale, cpb_size_scale
	for i := uint32(0); i <= n && r.Err() == nil; i++ {
		r.UE()        // bit_rate_value_minus1
		r.UE()        // cpb_size_value_minus1
		r.ReadBits(1) // cbr_flag
	}
	r.ReadBits(20) // the four delay and offset lengths
	return r.Err() == nil
}

// sarTable is Table E-1: the sample aspect ratios of aspect_ratio_idc 0-16.
var sarTable = [17][2]uint16{
	{0, 0}, {1, 1}, {12, 11}, {10, 11}, {16, 11}, {40, 33}, {24, 11}, {20, 11},
	{32, 11}, {80, 33}, {18, 11}, {15, 11}, {64, 33}, {160, 99}, {4, 3}, {3, 2},
	{2, 1},
}

// FrameRate returns TimeScale / (2 * NumUnitsInTick), the frame rate the
// VUI timing information implies for progressive frames (one frame is two
// field ticks). ok is false without timing information or when either
// value is 0.
func (s SPS) FrameRate() (rate float64, ok bool) {
	if !s.TimingInfoPresent || s.NumUnitsInTick == 0 || s.TimeScale == 0 {
		return 0, false
	}
	return float64(s.TimeScale) / (2 * float64(s.NumUnitsInTick)), true
}

// bitReader is a bits.Reader with the H.264 syntax structures the SPS
// parser skips.
type bitReader struct{ bits.Reader }

// scalingList skips scaling_list() of size entries (H.264 7.3.2.1.1.1). It
// returns false when a delta_scale is out of range.
func (r *bitReader) scalingList(size int) bool {
	last, next := int32(8), int32(8)
	for j := 0; j < size; j++ {
		if next != 0 {
			d := r.SE()
			if d < -128 || d > 127 {
				return false
			}
			next = (last + d + 256) % 256
		}
		if next != 0 {
			last = next
		}
	}
	return true
}

// err returns ErrShortSPS if the reader ran out of data (or met an
// Exp-Golomb code longer than 32 bits), else err.
func (r *bitReader) err(err error) error {
	if r.Err() != nil {
		return ErrShortSPS
	}
	return err
}
