package h264

import (
	"errors"

	"github.com/gomediarecorder/mediarecorder/internal/bits"
)

// Errors returned by ParseSliceHeader.
var (
	// ErrNotSlice means the NAL unit is not a coded slice (types 1 and 5).
	ErrNotSlice = errors.New("h264: not a coded slice NAL unit")
	// ErrShortSlice means the slice header ended before its last needed
	// field.
	ErrShortSlice = errors.New("h264: slice header too short")
	// ErrInvalidSlice means a field of the slice header is out of its range.
	ErrInvalidSlice = errors.New("h264: invalid slice header")
	// ErrNoParameterSet means the slice refers to a PPS, or its PPS to an
	// SPS, that was not given.
	ErrNoParameterSet = errors.New("h264: slice refers to a missing parameter set")
)

// Slice types (slice_type % 5).
const (
	SliceP  = 0
	SliceB  = 1
	SliceI  = 2
	SliceSP = 3
	SliceSI = 4
)

// SliceHeader is the parse of a slice header (H.264 section 7.3.3) up to
// dec_ref_pic_marking(): the fields that decide the picture's order count.
// Fields the syntax leaves out are 0.
type SliceHeader struct {
	NALRefIDC   uint8 // nal_ref_idc of the slice's NAL unit: 0 for a non-reference picture
	IDR         bool  // nal_unit_type 5
	FirstMB     uint32
	SliceType   uint8 // slice_type % 5: SliceP, SliceB, ...
	PPSID       uint32
	FrameNum    uint32
	FieldPic    bool // field_pic_flag
	BottomField bool // bottom_field_flag
	IDRPicID    uint32

	PicOrderCntLsb         uint32 // pic_order_cnt_type 0
	DeltaPicOrderCntBottom int32  // pic_order_cnt_type 0
	DeltaPicOrderCnt       [2]int32

	// MMCO5 says dec_ref_pic_marking() holds memory_management_control_
	// operation 5: the picture resets frame_num and the order counts, as
	// an IDR picture does.
	MMCO5 bool
}

// sliceHeaderMax bounds the bytes of a slice NAL unit the parser reads: far
// more than the longest header (weights for 2x32 references, reordering
// commands).
const sliceHeaderMax = 2048

// ParseSliceHeader parses the header of the coded slice NAL unit nalu (NAL
// header byte included, no start code; types 1 and 5) with the parameter
// sets ps.
func ParseSliceHeader(nalu []byte, ps *ParameterSets) (SliceHeader, error) {
	t := NALUType(nalu)
	if t != NALUTypeNonIDR && t != NALUTypeIDR {
		return SliceHeader{}, ErrNotSlice
	}
	var buf [sliceHeaderMax]byte
	body := nalu[1:]
	if len(body) > sliceHeaderMax-16 {
		body = body[:sliceHeaderMax-16]
	}
	rbsp := RemoveEmulationPrevention(buf[:0], body)
	b := bits.NewReader(rbsp)
	h := SliceHeader{NALRefIDC: NALRefIDC(nalu), IDR: t == NALUTypeIDR}
	h.FirstMB = b.UE()
	st := b.UE()
	h.PPSID = b.UE()
	if st > 9 || h.PPSID > 255 {
		return SliceHeader{}, sliceErr(&b, ErrInvalidSlice)
	}
	h.SliceType = uint8(st % 5)
	if b.Err() != nil {
		return SliceHeader{}, ErrShortSlice
	}
	pps, sps := ps.lookup(h.PPSID)
	if pps == nil {
		return SliceHeader{}, ErrNoParameterSet
	}
	if h.IDR && h.SliceType != SliceI && h.SliceType != SliceSI {
		return SliceHeader{}, ErrInvalidSlice
	}
	if sps.SeparateColourPlane {
		b.ReadBits(2) // colour_plane_id
	}
	h.FrameNum = b.ReadBits(int(sps.Log2MaxFrameNum))
	if !sps.FrameMBSOnly {
		h.FieldPic = b.Flag()
		if h.FieldPic {
			h.BottomField = b.Flag()
		}
	}
	if h.IDR {
		h.IDRPicID = b.UE()
	}
	bottomInFrame := pps.BottomFieldPicOrderInFramePresent && !h.FieldPic
	switch sps.PicOrderCntType {
	case 0:
		h.PicOrderCntLsb = b.ReadBits(int(sps.Log2MaxPicOrderCntLsb))
		if bottomInFrame {
			h.DeltaPicOrderCntBottom = b.SE()
		}
	case 1:
		if !sps.DeltaPicOrderAlwaysZero {
			h.DeltaPicOrderCnt[0] = b.SE()
			if bottomInFrame {
				h.DeltaPicOrderCnt[1] = b.SE()
			}
		}
	}
	if b.Err() != nil {
		return SliceHeader{}, ErrShortSlice
	}
	if pps.RedundantPicCntPresent {
		b.UE() // redundant_pic_cnt
	}
	mmco5, ok := h.restToMarking(&b, sps, pps)
	if !ok {
		return SliceHeader{}, sliceErr(&b, ErrInvalidSlice)
	}
	h.MMCO5 = mmco5
	return h, nil
}

// restToMarking reads from redundant_pic_cnt on to dec_ref_pic_marking()
// and reports whether the latter holds memory_management_control_operation
// 5. ok is false when a value is out of range.
func (h *SliceHeader) restToMarking(b *bits.Reader, sps *SPS, pps *PPS) (mmco5, ok bool) {
	if h.SliceType == SliceB {
		b.ReadBits(1) // direct_spatial_mv_pred_flag
	}
	n0, n1 := pps.NumRefIdxL0DefaultActive, pps.NumRefIdxL1DefaultActive
	switch h.SliceType {
	case SliceP, SliceSP, SliceB:
		if b.Flag() { // num_ref_idx_active_override_flag
			n0 = b.UE() + 1
			if h.SliceType == SliceB {
				n1 = b.UE() + 1
			}
		}
	}
	if n0 > 32 || n1 > 32 {
		return false, false
	}
	// ref_pic_list_modification()
	lists := 0
	switch h.SliceType {
	case SliceP, SliceSP:
		lists = 1
	case SliceB:
		lists = 2
	}
	for range lists {
		if !b.Flag() { // ref_pic_list_modification_flag_l*
			continue
		}
		for i := 0; ; i++ {
			idc := b.UE() // modification_of_pic_nums_idc
			if idc == 3 {
				break
			}
			if idc > 3 || i > 32 || b.Err() != nil {
				return false, false
			}
			b.UE() // abs_diff_pic_num_minus1 or long_term_pic_num
		}
	}
	if pps.WeightedPred && (h.SliceType == SliceP || h.SliceType == SliceSP) ||
		pps.WeightedBipredIDC == 1 && h.SliceType == SliceB {
		chroma := sps.ChromaFormatIDC != 0 && !sps.SeparateColourPlane
		b.UE() // luma_log2_weight_denom
		if chroma {
			b.UE() // chroma_log2_weight_denom
		}
		for l := range lists {
			n := n0
			if l == 1 {
				n = n1
			}
			for i := uint32(0); i < n && b.Err() == nil; i++ {
				if b.Flag() { // luma_weight_l*_flag
					b.SE()
					b.SE()
				}
				if chroma && b.Flag() { // chroma_weight_l*_flag
					for range 4 {
						b.SE()
					}
				}
			}
		}
	}
	if h.NALRefIDC == 0 {
		return false, b.Err() == nil
	}
	// dec_ref_pic_marking()
	if h.IDR {
		b.ReadBits(2) // no_output_of_prior_pics_flag, long_term_reference_flag
		return false, b.Err() == nil
	}
	if !b.Flag() { // adaptive_ref_pic_marking_mode_flag
		return false, b.Err() == nil
	}
	for i := 0; ; i++ {
		op := b.UE()
		if b.Err() != nil || op > 6 || i > 66 {
			return false, false
		}
		switch op {
		case 0:
			return mmco5, true
		case 1:
			b.UE() // difference_of_pic_nums_minus1
		case 2:
			b.UE() // long_term_pic_num
		case 3:
			b.UE() // difference_of_pic_nums_minus1
			b.UE() // long_term_frame_idx
		case 4:
			b.UE() // max_long_term_frame_idx_plus1
		case 5:
			mmco5 = true
		case 6:
			b.UE() // long_term_frame_idx
		}
	}
}

// sliceErr returns ErrShortSlice if b ran out of data, else err.
func sliceErr(b *bits.Reader, err error) error {
	if b.Err() != nil {
		return ErrShortSlice
	}
	return err
}

// ParameterSets holds a stream's sequence and picture parameter sets by
// their IDs, as slice headers refer to them. The zero value is empty and
// ready to use.
type ParameterSets struct {
	sps [32]*SPS
	pps [256]*PPS
}

// Add parses and stores an SPS or PPS NAL unit (replacing the one with
// its ID); other NAL units are ignored. An SPS or PPS that does not parse
// is an error and changes nothing.
func (ps *ParameterSets) Add(nalu []byte) error {
	switch NALUType(nalu) {
	case NALUTypeSPS:
		s, err := ParseSPS(nalu)
		if err != nil {
			return err
		}
		ps.sps[s.ID] = &s
	case NALUTypePPS:
		p, err := ParsePPS(nalu)
		if err != nil {
			return err
		}
		ps.pps[p.ID] = &p
	}
	return nil
}

// SPS returns the SPS with the given ID, or nil.
func (ps *ParameterSets) SPS(id uint32) *SPS {
	if id >= uint32(len(ps.sps)) {
		return nil
	}
	return ps.sps[id]
}

// lookup returns the PPS with the given ID and its SPS, or nils.
func (ps *ParameterSets) lookup(ppsID uint32) (*PPS, *SPS) {
	if ppsID >= uint32(len(ps.pps)) || ps.pps[ppsID] == nil {
		return nil, nil
	}
	p := ps.pps[ppsID]
	s := ps.sps[p.SPSID]
	if s == nil {
		return nil, nil
	}
	return p, s
}

// PictureOrderCounter gives the access units of a stream, in decoding
// order, their picture order counts: it keeps the parameter sets the
// stream carries (and those given to AddParameterSet) and runs a
// POCDecoder over the first slice header of each picture. The zero value
// is ready to use.
type PictureOrderCounter struct {
	ps  ParameterSets
	dec POCDecoder
	sps *SPS
}

// AddParameterSet stores an SPS or PPS NAL unit given out of band (avcC,
// sprop-parameter-sets).
func (c *PictureOrderCounter) AddParameterSet(nalu []byte) error { return c.ps.Add(nalu) }

// Next returns the order count of the Annex B access unit au, the next in
// decoding order, after storing the parameter sets it carries (those that
// do not parse are left out). It returns ErrNotSlice when au holds no
// coded slice, or a ParseSliceHeader error; the counter is then unchanged
// apart from the parameter sets.
func (c *PictureOrderCounter) Next(au []byte) (PictureOrder, error) {
	for nalu, rest := NextNALU(au); nalu != nil; nalu, rest = NextNALU(rest) {
		switch NALUType(nalu) {
		case NALUTypeSPS, NALUTypePPS:
			_ = c.ps.Add(nalu)
		case NALUTypeNonIDR, NALUTypeIDR:
			h, err := ParseSliceHeader(nalu, &c.ps)
			if err != nil {
				return PictureOrder{}, err
			}
			_, sps := c.ps.lookup(h.PPSID)
			c.sps = sps
			return c.dec.Decode(sps, &h), nil
		}
	}
	return PictureOrder{}, ErrNotSlice
}

// SPS returns the sequence parameter set of the latest picture Next
// counted, or nil before the first.
func (c *PictureOrderCounter) SPS() *SPS { return c.sps }
