package h264

import (
	"testing"
)

// pic is one picture of a POCDecoder case: its slice header and the order
// count it must get.
type pic struct {
	h    SliceHeader
	want PictureOrder
}

// Shorthands for slice headers.
func idr(lsb uint32) SliceHeader { return SliceHeader{IDR: true, NALRefIDC: 3, PicOrderCntLsb: lsb} }
func ref(lsb uint32) SliceHeader { return SliceHeader{NALRefIDC: 2, PicOrderCntLsb: lsb} }
func nonRef(lsb uint32) SliceHeader {
	return SliceHeader{PicOrderCntLsb: lsb}
}
func frameNum(h SliceHeader, fn uint32) SliceHeader { h.FrameNum = fn; return h }
func frame(top, bottom int64) PictureOrder {
	return PictureOrder{Top: top, Bottom: bottom, POC: min(top, bottom)}
}
func reset(o PictureOrder) PictureOrder { o.Reset = true; return o }

// TestPOCDecoder is a case table of H.264 8.2.1: the order counts of
// pictures in decoding order, for each pic_order_cnt_type, with fields,
// wrapping counters and MMCO 5.
func TestPOCDecoder(t *testing.T) {
	type0 := SPS{PicOrderCntType: 0, Log2MaxPicOrderCntLsb: 4, Log2MaxFrameNum: 4} // MaxPicOrderCntLsb 16
	type1 := SPS{PicOrderCntType: 1, Log2MaxFrameNum: 4, OffsetForNonRefPic: -2, OffsetForTopToBottomField: 1,
		NumRefFramesInPicOrderCntCycle: 2, OffsetForRefFrame: [255]int32{3, 1}} // ExpectedDeltaPerPicOrderCntCycle 4
	type1NoCycle := SPS{PicOrderCntType: 1, Log2MaxFrameNum: 4, OffsetForNonRefPic: -1}
	type2 := SPS{PicOrderCntType: 2, Log2MaxFrameNum: 4}
	bottomDelta := func(h SliceHeader, d int32) SliceHeader { h.DeltaPicOrderCntBottom = d; return h }
	field := func(h SliceHeader, bottom bool) SliceHeader { h.FieldPic, h.BottomField = true, bottom; return h }
	mmco5 := func(h SliceHeader) SliceHeader { h.MMCO5 = true; return h }
	delta := func(h SliceHeader, d0, d1 int32) SliceHeader { h.DeltaPicOrderCnt = [2]int32{d0, d1}; return h }

	for _, tt := range []struct {
		name string
		sps  SPS
		pics []pic
	}{
		{"type 0: B-frames, lsb wraps forwards and backwards", type0, []pic{
			{idr(0), reset(frame(0, 0))},
			{ref(4), frame(4, 4)},
			{nonRef(2), frame(2, 2)},
			{ref(8), frame(8, 8)},
			{ref(12), frame(12, 12)},
			{ref(0), frame(16, 16)},      // 0 < 12 by 12 >= 8: PicOrderCntMsb 16
			{nonRef(14), frame(14, 14)},  // 14 > 0 by 14 > 8: Msb 16-16 = 0
			{nonRef(2), frame(18, 18)},   // the non-reference picture before did not move prevLsb
			{ref(6), frame(22, 22)},      // Msb 16
			{idr(2), reset(frame(2, 2))}, // IDR: Msb 0 again
			{nonRef(15), frame(-1, -1)},  // 15 > 2 by 13 > 8: Msb -16
			{ref(10), frame(10, 10)},     // 10 > 2 by 8, not > 8: Msb 0
			{nonRef(3), frame(3, 3)},     // 3 < 10 by 7, not >= 8: Msb 0
			{nonRef(1), frame(17, 17)},   // 1 < 10 by 9 >= 8: Msb 16
		}},
		{"type 0: bottom field order in frame, fields", type0, []pic{
			{bottomDelta(idr(0), 1), reset(frame(0, 1))},
			{bottomDelta(ref(4), -1), frame(4, 3)},
			{field(ref(8), false), PictureOrder{Top: 8, POC: 8}},
			{field(ref(9), true), PictureOrder{Bottom: 9, POC: 9}},
			{field(nonRef(6), true), PictureOrder{Bottom: 6, POC: 6}},
		}},
		{"type 0: MMCO 5", type0, []pic{
			{idr(0), reset(frame(0, 0))},
			{ref(6), frame(6, 6)},
			{mmco5(bottomDelta(ref(10), -2)), reset(PictureOrder{Top: 2, Bottom: 0, POC: 0})}, // tempPicOrderCnt 8
			{nonRef(1), frame(1, 1)}, // prevMsb 0, prevLsb = TopFieldOrderCnt 2 after the reset
			{ref(4), frame(4, 4)},
			{mmco5(field(ref(14), true)), reset(PictureOrder{Bottom: 0, POC: 0})},
			{ref(12), frame(-4, -4)}, // after a bottom field's MMCO 5: prevLsb 0, 12 > 0 by 12 > 8
		}},
		{"type 1: cycle of offsets, non-reference offset, deltas", type1, []pic{
			{frameNum(idr(0), 0), reset(frame(0, 1))},
			{frameNum(ref(0), 1), frame(3, 4)},
			{frameNum(nonRef(0), 2), frame(1, 2)}, // absFrameNum 2-1: expected 3, -2
			{frameNum(ref(0), 2), frame(4, 5)},    // 3 + 1
			{delta(frameNum(ref(0), 3), 5, -3), frame(12, 10)},
			{field(frameNum(ref(0), 4), false), PictureOrder{Top: 8, POC: 8}},
			{field(frameNum(ref(0), 4), true), PictureOrder{Bottom: 9, POC: 9}},
			{frameNum(ref(0), 15), frame(31, 32)}, // absFrameNum 15: 7 cycles + 3
			{frameNum(ref(0), 0), frame(32, 33)},  // frame_num wraps: FrameNumOffset 16
			{frameNum(nonRef(0), 1), frame(30, 31)},
		}},
		{"type 1: MMCO 5 resets FrameNumOffset", type1, []pic{
			{frameNum(idr(0), 0), reset(frame(0, 1))},
			{frameNum(ref(0), 15), frame(31, 32)},
			{frameNum(ref(0), 0), frame(32, 33)},
			{mmco5(frameNum(ref(0), 3)), reset(PictureOrder{Top: 0, Bottom: 1, POC: 0})}, // 16+3: 9 cycles + 3 = 39
			{frameNum(ref(0), 1), frame(3, 4)},                                           // prevFrameNum and prevFrameNumOffset 0
		}},
		{"type 1: empty cycle", type1NoCycle, []pic{
			{frameNum(idr(0), 0), reset(frame(0, 0))},
			{delta(frameNum(ref(0), 1), 4, 0), frame(4, 4)},
			{delta(frameNum(nonRef(0), 2), 3, 0), frame(2, 2)},
		}},
		{"type 2: output order is decoding order", type2, []pic{
			{frameNum(idr(0), 0), reset(frame(0, 0))},
			{frameNum(ref(0), 1), frame(2, 2)},
			{frameNum(nonRef(0), 2), frame(3, 3)},
			{frameNum(ref(0), 2), frame(4, 4)},
			{field(frameNum(ref(0), 3), true), PictureOrder{Bottom: 6, POC: 6}},
			{frameNum(ref(0), 15), frame(30, 30)},
			{frameNum(ref(0), 0), frame(32, 32)},
			{mmco5(frameNum(ref(0), 5)), reset(frame(0, 0))}, // 2*(16+5) = 42 before the reset
			{frameNum(ref(0), 1), frame(2, 2)},
			{frameNum(idr(0), 0), reset(frame(0, 0))},
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var d POCDecoder
			for i, p := range tt.pics {
				if got := d.Decode(&tt.sps, &p.h); got != p.want {
					t.Errorf("picture %d %+v:\n got %+v\nwant %+v", i, p.h, got, p.want)
				}
			}
		})
	}
}

func TestMaxReorderFrames(t *testing.T) {
	for _, tt := range []struct {
		name string
		s    SPS
		want int
	}{
		{"type 2", SPS{PicOrderCntType: 2, BitstreamRestriction: true, MaxNumReorderFrames: 3}, 0},
		{"VUI", SPS{BitstreamRestriction: true, MaxNumReorderFrames: 2}, 2},
		{"intra profile", SPS{ProfileIDC: 100, ConstraintFlags: 0x10, LevelIDC: 40, PicWidthInMbs: 20, PicHeightInMapUnits: 15, FrameMBSOnly: true}, 0},
		{"level 3 at 720x576", SPS{ProfileIDC: 77, LevelIDC: 30, PicWidthInMbs: 45, PicHeightInMapUnits: 36, FrameMBSOnly: true}, 5},
		{"level 4 at 1080p", SPS{ProfileIDC: 100, LevelIDC: 40, PicWidthInMbs: 120, PicHeightInMapUnits: 68, FrameMBSOnly: true}, 4},
		{"level 4 at 1080i", SPS{ProfileIDC: 100, LevelIDC: 40, PicWidthInMbs: 120, PicHeightInMapUnits: 34}, 4},
		{"small picture", SPS{ProfileIDC: 77, LevelIDC: 51, PicWidthInMbs: 2, PicHeightInMapUnits: 2, FrameMBSOnly: true}, 16},
		{"level 1b", SPS{ProfileIDC: 66, ConstraintFlags: 0x10, LevelIDC: 11, PicWidthInMbs: 11, PicHeightInMapUnits: 9, FrameMBSOnly: true}, 4},
		{"level 1.1", SPS{ProfileIDC: 66, LevelIDC: 11, PicWidthInMbs: 11, PicHeightInMapUnits: 9, FrameMBSOnly: true}, 9},
		{"no size", SPS{ProfileIDC: 77, LevelIDC: 30}, 16},
	} {
		if got := tt.s.MaxReorderFrames(); got != tt.want {
			t.Errorf("%s: MaxReorderFrames %d, want %d", tt.name, got, tt.want)
		}
	}
}
