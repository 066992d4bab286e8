package h264

// PictureOrder is the order count of a picture: where it comes in output
// (presentation) order among the pictures since the last reset.
type PictureOrder struct {
	// Top and Bottom are TopFieldOrderCnt and BottomFieldOrderCnt; a
	// field picture has only its own (the other is 0).
	Top, Bottom int64
	// POC is PicOrderCnt(CurrPic): Min(Top, Bottom) for a frame, the
	// field's own count for a field.
	POC int64
	// Reset is true for an IDR picture and a picture with
	// memory_management_control_operation 5: every picture before it in
	// decoding order is output before it, and the counts after it start
	// afresh (for an MMCO 5 picture, Top, Bottom and POC are the values
	// after the reset: POC is 0).
	Reset bool
}

// POCDecoder is the decoding process for picture order count (H.264
// section 8.2.1): fed the slice headers of a stream's pictures in decoding
// order (one slice of each), it returns their order counts. It covers all
// three pic_order_cnt_types and MMCO 5. The zero value is ready to use.
type POCDecoder struct {
	// Type 0: PicOrderCntMsb and pic_order_cnt_lsb of the previous
	// reference picture (after an MMCO 5: 0 and its TopFieldOrderCnt).
	prevMsb, prevLsb int64
	// Types 1 and 2: FrameNumOffset and frame_num of the previous picture
	// (both 0 after an MMCO 5).
	prevFrameNumOffset int64
	prevFrameNum       int64
}

// Decode returns the order count of the picture whose slice header is h,
// coded with the sequence parameter set s, and advances the decoder to
// the next picture.
func (d *POCDecoder) Decode(s *SPS, h *SliceHeader) PictureOrder {
	var o PictureOrder
	switch s.PicOrderCntType {
	case 0:
		o = d.type0(s, h)
	case 1:
		o = d.type1(s, h)
	default:
		o = d.type2(s, h)
	}
	switch {
	case !h.FieldPic:
		o.POC = min(o.Top, o.Bottom)
	case h.BottomField:
		o.POC = o.Bottom
	default:
		o.POC = o.Top
	}
	o.Reset = h.IDR || h.MMCO5
	if h.MMCO5 {
		// tempPicOrderCnt is subtracted (8.2.1): the picture's counts
		// after decoding.
		t := o.POC
		if !h.FieldPic || !h.BottomField {
			o.Top -= t
		}
		if !h.FieldPic || h.BottomField {
			o.Bottom -= t
		}
		o.POC = 0
	}
	// What the next picture needs.
	if h.NALRefIDC != 0 {
		if h.MMCO5 {
			d.prevMsb, d.prevLsb = 0, 0
			if !h.FieldPic || !h.BottomField {
				d.prevLsb = o.Top
			}
		}
	}
	if h.MMCO5 {
		d.prevFrameNumOffset, d.prevFrameNum = 0, 0
	}
	return o
}

// type0 is 8.2.1.1.
func (d *POCDecoder) type0(s *SPS, h *SliceHeader) PictureOrder {
	if h.IDR {
		d.prevMsb, d.prevLsb = 0, 0
	}
	maxLsb := int64(1) << s.Log2MaxPicOrderCntLsb
	lsb := int64(h.PicOrderCntLsb)
	msb := d.prevMsb
	switch {
	case lsb < d.prevLsb && d.prevLsb-lsb >= maxLsb/2:
		msb += maxLsb
	case lsb > d.prevLsb && lsb-d.prevLsb > maxLsb/2:
		msb -= maxLsb
	}
	var o PictureOrder
	if !h.FieldPic || !h.BottomField {
		o.Top = msb + lsb
		if !h.FieldPic {
			o.Bottom = o.Top + int64(h.DeltaPicOrderCntBottom)
		}
	} else {
		o.Bottom = msb + lsb
	}
	if h.NALRefIDC != 0 {
		d.prevMsb, d.prevLsb = msb, lsb
	}
	return o
}

// frameNumOffset computes FrameNumOffset (equations 8-6 and 8-11) and
// remembers frame_num and it for the next picture.
func (d *POCDecoder) frameNumOffset(s *SPS, h *SliceHeader) int64 {
	var off int64
	switch {
	case h.IDR:
	case d.prevFrameNum > int64(h.FrameNum):
		off = d.prevFrameNumOffset + int64(1)<<s.Log2MaxFrameNum
	default:
		off = d.prevFrameNumOffset
	}
	d.prevFrameNumOffset, d.prevFrameNum = off, int64(h.FrameNum)
	return off
}

// type1 is 8.2.1.2.
func (d *POCDecoder) type1(s *SPS, h *SliceHeader) PictureOrder {
	off := d.frameNumOffset(s, h)
	n := int64(s.NumRefFramesInPicOrderCntCycle)
	var abs int64
	if n != 0 {
		abs = off + int64(h.FrameNum)
	}
	if h.NALRefIDC == 0 && abs > 0 {
		abs--
	}
	var expected int64
	if abs > 0 {
		var delta int64 // ExpectedDeltaPerPicOrderCntCycle
		for i := range n {
			delta += int64(s.OffsetForRefFrame[i])
		}
		cycle, inCycle := (abs-1)/n, (abs-1)%n
		expected = cycle * delta
		for i := int64(0); i <= inCycle; i++ {
			expected += int64(s.OffsetForRefFrame[i])
		}
	}
	if h.NALRefIDC == 0 {
		expected += int64(s.OffsetForNonRefPic)
	}
	var o PictureOrder
	switch {
	case !h.FieldPic:
		o.Top = expected + int64(h.DeltaPicOrderCnt[0])
		o.Bottom = o.Top + int64(s.OffsetForTopToBottomField) + int64(h.DeltaPicOrderCnt[1])
	case !h.BottomField:
		o.Top = expected + int64(h.DeltaPicOrderCnt[0])
	default:
		o.Bottom = expected + int64(s.OffsetForTopToBottomField) + int64(h.DeltaPicOrderCnt[0])
	}
	return o
}

// type2 is 8.2.1.3: output order is decoding order.
func (d *POCDecoder) type2(s *SPS, h *SliceHeader) PictureOrder {
	off := d.frameNumOffset(s, h)
	var t int64
	switch {
	case h.IDR:
	case h.NALRefIDC == 0:
		t = 2*(off+int64(h.FrameNum)) - 1
	default:
		t = 2 * (off + int64(h.FrameNum))
	}
	var o PictureOrder
	switch {
	case !h.FieldPic:
		o.Top, o.Bottom = t, t
	case !h.BottomField:
		o.Top = t
	default:
		o.Bottom = t
	}
	return o
}

// MaxReorderFrames returns how many frames may precede a frame in decoding
// order and follow it in output order: 0 for pic_order_cnt_type 2 (output
// order is decoding order) and for the intra-only profiles; else the VUI's
// max_num_reorder_frames when given, else the largest the level allows
// (MaxDpbFrames, at most 16), as H.264 section E.2.1 infers it.
func (s *SPS) MaxReorderFrames() int {
	switch {
	case s.PicOrderCntType == 2:
		return 0
	case s.BitstreamRestriction:
		return int(s.MaxNumReorderFrames)
	}
	switch s.ProfileIDC {
	case 44, 86, 100, 110, 122, 244:
		if s.ConstraintFlags&0x10 != 0 { // constraint_set3_flag: intra profiles
			return 0
		}
	}
	return s.MaxDpbFrames()
}

// MaxDpbFrames returns the size of the decoded picture buffer in frames
// that the level and picture size allow: MaxDpbMbs of Table A-1 divided by
// the frame size in macroblocks, at most 16.
func (s *SPS) MaxDpbFrames() int {
	var mbs int64
	switch s.LevelIDC {
	case 9, 10:
		mbs = 396
	case 11:
		mbs = 900
		if s.ConstraintFlags&0x10 != 0 && (s.ProfileIDC == 66 || s.ProfileIDC == 77 || s.ProfileIDC == 88) {
			mbs = 396 // level 1b
		}
	case 12, 13, 20:
		mbs = 2376
	case 21:
		mbs = 4752
	case 22, 30:
		mbs = 8100
	case 31:
		mbs = 18000
	case 32:
		mbs = 20480
	case 40, 41:
		mbs = 32768
	case 42:
		mbs = 34816
	case 50:
		mbs = 110400
	case 51, 52:
		mbs = 184320
	default:
		mbs = 696320 // levels 6 to 6.2, and unknown ones
	}
	h := int64(s.PicHeightInMapUnits)
	if !s.FrameMBSOnly {
		h *= 2
	}
	frame := int64(s.PicWidthInMbs) * h
	if frame <= 0 {
		return 16
	}
	return int(min(mbs/frame, 16))
}
