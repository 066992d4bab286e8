package h264

import (
	"errors"
	mathbits "math/bits"

	"github.com/gomediarecorder/mediarecorder/internal/bits"
)

// Errors returned by ParsePPS.
var (
	// ErrNotPPS means the NAL unit is not a picture parameter set.
	ErrNotPPS = errors.New("h264: not a PPS NAL unit")
	// ErrShortPPS means the PPS ended before its last needed field.
	ErrShortPPS = errors.New("h264: PPS too short")
	// ErrInvalidPPS means a field of the PPS is out of its range.
	ErrInvalidPPS = errors.New("h264: invalid PPS")
)

// PPS is the parse of a picture parameter set (H.264 section 7.3.2.2) up to
// the fields a slice header's syntax depends on.
type PPS struct {
	ID    uint32 // pic_parameter_set_id, 0 to 255
	SPSID uint32 // seq_parameter_set_id, 0 to 31

	EntropyCodingMode bool // entropy_coding_mode_flag: CABAC
	// BottomFieldPicOrderInFramePresent is
	// bottom_field_pic_order_in_frame_present_flag: frame slice headers
	// carry delta_pic_order_cnt_bottom (or delta_pic_order_cnt[1]).
	BottomFieldPicOrderInFramePresent bool
	NumSliceGroups                    uint32 // num_slice_groups_minus1 + 1

	// NumRefIdxL0DefaultActive and NumRefIdxL1DefaultActive are
	// num_ref_idx_l*_default_active_minus1 + 1 (1 to 32).
	NumRefIdxL0DefaultActive, NumRefIdxL1DefaultActive uint32
	WeightedPred                                       bool  // weighted_pred_flag
	WeightedBipredIDC                                  uint8 // weighted_bipred_idc, 0 to 2

	DeblockingFilterControlPresent bool
	ConstrainedIntraPred           bool
	RedundantPicCntPresent         bool // redundant_pic_cnt_present_flag
}

// maxPPSLen bounds the PPS a parser accepts (a slice group map of a large
// picture makes it long; real ones are a few bytes).
const maxPPSLen = 1 << 20

// ParsePPS parses the picture parameter set NAL unit nalu (its 1-byte NAL
// header included, no start code) up to redundant_pic_cnt_present_flag.
// The rest (transform_8x8_mode_flag, scaling matrices) does not change how
// slice headers read and is not parsed.
func ParsePPS(nalu []byte) (PPS, error) {
	if len(nalu) == 0 || NALUType(nalu) != NALUTypePPS {
		return PPS{}, ErrNotPPS
	}
	if len(nalu) > maxPPSLen {
		return PPS{}, ErrInvalidPPS
	}
	var buf [64]byte
	rbsp := RemoveEmulationPrevention(buf[:0], nalu[1:])
	b := bits.NewReader(rbsp)
	var p PPS
	p.ID, p.SPSID = b.UE(), b.UE()
	if p.ID > 255 || p.SPSID > 31 {
		return PPS{}, ppsErr(&b, ErrInvalidPPS)
	}
	p.EntropyCodingMode = b.Flag()
	p.BottomFieldPicOrderInFramePresent = b.Flag()
	n := b.UE()
	if n > 7 {
		return PPS{}, ppsErr(&b, ErrInvalidPPS)
	}
	p.NumSliceGroups = n + 1
	if n > 0 {
		switch typ := b.UE(); typ {
		case 0:
			for i := uint32(0); i <= n; i++ {
				b.UE() // run_length_minus1
			}
		case 1:
		case 2:
			for i := uint32(0); i < n; i++ {
				b.UE() // top_left
				b.UE() // bottom_right
			}
		case 3, 4, 5:
			b.ReadBits(1) // slice_group_change_direction_flag
			b.UE()        // slice_group_change_rate_minus1
		case 6:
			units := b.UE() // pic_size_in_map_units_minus1
			if units >= 1<<20 {
				return PPS{}, ppsErr(&b, ErrInvalidPPS)
			}
			w := mathbits.Len32(n) // Ceil(Log2(num_slice_groups_minus1 + 1))
			for i := uint32(0); i <= units && b.Err() == nil; i++ {
				b.ReadBits(w) // slice_group_id
			}
		default:
			return PPS{}, ppsErr(&b, ErrInvalidPPS)
		}
	}
	l0, l1 := b.UE(), b.UE()
	if l0 > 31 || l1 > 31 {
		return PPS{}, ppsErr(&b, ErrInvalidPPS)
	}
	p.NumRefIdxL0DefaultActive, p.NumRefIdxL1DefaultActive = l0+1, l1+1
	p.WeightedPred = b.Flag()
	p.WeightedBipredIDC = uint8(b.ReadBits(2))
	if p.WeightedBipredIDC > 2 {
		return PPS{}, ppsErr(&b, ErrInvalidPPS)
	}
	b.SE() // pic_init_qp_minus26
	b.SE() // pic_init_qs_minus26
	b.SE() // chroma_qp_index_offset
	p.DeblockingFilterControlPresent = b.Flag()
	p.ConstrainedIntraPred = b.Flag()
	p.RedundantPicCntPresent = b.Flag()
	if b.Err() != nil {
		return PPS{}, ErrShortPPS
	}
	return p, nil
}

// ppsErr returns ErrShortPPS if b ran out of data, else err.
func ppsErr(b *bits.Reader, err error) error {
	if b.Err() != nil {
		return ErrShortPPS
	}
	return err
}
