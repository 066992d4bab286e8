package h264

import (
	"bytes"
	"errors"
	"io"
	"os"
	"testing"
)

// Parameter sets for hand-built slices (see sps in sps_test.go for the
// field notation). Each ends with the rbsp stop bit.
var (
	// spsPOC0: Main, id 0, 4-bit frame_num, poc type 0 with a 6-bit lsb,
	// progressive 320x240.
	spsPOC0 = sps("0x67/8", "77/8", "0/8", "30/8", ue(0), ue(0), ue(0), ue(2), ue(4), "0/1",
		ue(19), ue(14), "1/1", "1/1", "0/1", "0/1", "1/1")
	// spsPOC1Fields: High, id 1, 5-bit frame_num, poc type 1 (offsets 2, 2;
	// non-ref -1), field coding allowed (frame_mbs_only 0), 4:2:0.
	spsPOC1Fields = sps("0x67/8", "100/8", "0/8", "30/8", ue(1), ue(1), ue(0), ue(0), "0/1", "0/1",
		ue(1), ue(1), "0/1", se(-1), se(0), ue(2), se(2), se(2), ue(2), "0/1",
		ue(19), ue(7), "0/1", "0/1", "1/1", "0/1", "0/1", "1/1")
	// spsPOC2Separate: High 4:4:4, id 2, separate colour planes, poc type 2.
	spsPOC2Separate = sps("0x67/8", "244/8", "0/8", "30/8", ue(2), ue(3), "1/1", ue(0), ue(0), "0/1", "0/1",
		ue(0), ue(2), ue(1), "0/1", ue(9), ue(8), "1/1", "1/1", "0/1", "0/1", "1/1")
	// ppsPlain: id 0 on SPS 0, CAVLC, no bottom field order, 1 default
	// reference each, no weighted prediction.
	ppsPlain = sps("0x68/8", ue(0), ue(0), "0/1", "0/1", ue(0), ue(0), ue(0), "0/1", "0/2",
		se(0), se(0), se(0), "1/1", "0/1", "0/1", "1/1")
	// ppsWeighted: id 1 on SPS 0, CABAC, bottom_field_pic_order_in_frame,
	// 3 and 2 default references, weighted_pred, weighted_bipred_idc 1,
	// redundant_pic_cnt_present.
	ppsWeighted = sps("0x68/8", ue(1), ue(0), "1/1", "1/1", ue(0), ue(2), ue(1), "1/1", "1/2",
		se(-3), se(0), se(2), "1/1", "0/1", "1/1", "1/1")
	// ppsFields: id 2 on SPS 1, bottom field order in frame, slice groups
	// of map type 6 (3 groups over 6 map units).
	ppsFields = sps("0x68/8", ue(2), ue(1), "0/1", "1/1", ue(2), ue(6), ue(5),
		"0/2", "1/2", "2/2", "0/2", "1/2", "2/2", ue(0), ue(0), "0/1", "0/2",
		se(0), se(0), se(0), "1/1", "0/1", "0/1", "1/1")
	// ppsSeparate: id 3 on SPS 2.
	ppsSeparate = sps("0x68/8", ue(3), ue(2), "0/1", "0/1", ue(0), ue(0), ue(0), "0/1", "0/2",
		se(0), se(0), se(0), "1/1", "0/1", "0/1", "1/1")
)

func testParameterSets(t testing.TB) *ParameterSets {
	var ps ParameterSets
	for _, p := range [][]byte{spsPOC0, spsPOC1Fields, spsPOC2Separate, ppsPlain, ppsWeighted, ppsFields, ppsSeparate} {
		if err := ps.Add(p); err != nil {
			t.Fatalf("%x: %v", p, err)
		}
	}
	return &ps
}

// slice builds a slice NAL unit: header byte, then the fields, then some
// slice data.
func slice(header string, fields ...any) []byte {
	return sps(append(append([]any{header}, fields...), "0xa5a5/16", "1/1")...)
}

var sliceTests = []struct {
	name string
	nalu []byte
	want SliceHeader
	err  error
}{
	{"IDR", slice("0x65/8", ue(0), ue(7), ue(0), "0/4", ue(3), "0/6", "0/1", "1/1"),
		SliceHeader{NALRefIDC: 3, IDR: true, SliceType: SliceI, IDRPicID: 3}, nil},
	{"P, override, list modification, MMCO 1 and 5", slice("0x41/8", ue(0), ue(5), ue(0), "3/4", "12/6",
		"1/1", ue(2), // num_ref_idx_active_override: 3 references
		"1/1", ue(0), ue(4), ue(1), ue(0), ue(2), ue(1), ue(3), // ref_pic_list_modification_l0
		"1/1", ue(1), ue(2), ue(5), ue(0)), // MMCO 1 (difference 2), 5, end
		SliceHeader{NALRefIDC: 2, SliceType: SliceP, FrameNum: 3, PicOrderCntLsb: 12, MMCO5: true}, nil},
	{"P, every other MMCO", slice("0x21/8", ue(100), ue(0), ue(0), "4/4", "16/6", "0/1", "0/1",
		"1/1", ue(2), ue(7), ue(3), ue(1), ue(2), ue(4), ue(3), ue(6), ue(1), ue(0)),
		SliceHeader{NALRefIDC: 1, FirstMB: 100, SliceType: SliceP, FrameNum: 4, PicOrderCntLsb: 16}, nil},
	{"B, non-reference", slice("0x01/8", ue(0), ue(6), ue(0), "5/4", "8/6", "1/1", "0/1", "0/1", "0/1", ue(30)),
		SliceHeader{SliceType: SliceB, FrameNum: 5, PicOrderCntLsb: 8}, nil},
	{"P, weighted, bottom field order, redundant_pic_cnt", slice("0x41/8", ue(0), ue(0), ue(1), "6/4", "20/6", se(-1), ue(0),
		"0/1",        // 3 default references
		"0/1",        // no list modification
		ue(5), ue(4), // denominators
		"1/1", se(3), se(-2), "0/1", // ref 0: luma weights
		"0/1", "1/1", se(1), se(1), se(-1), se(0), // ref 1: chroma weights
		"1/1", se(0), se(0), "1/1", se(2), se(2), se(2), se(2), // ref 2: both
		"0/1"), // sliding window
		SliceHeader{NALRefIDC: 2, SliceType: SliceP, PPSID: 1, FrameNum: 6, PicOrderCntLsb: 20, DeltaPicOrderCntBottom: -1}, nil},
	{"B, weighted_bipred_idc 1, MMCO 5", slice("0x21/8", ue(0), ue(1), ue(1), "7/4", "22/6", se(2), ue(0),
		"1/1",               // direct_spatial_mv_pred
		"1/1", ue(0), ue(1), // override: 1 and 2 references
		"0/1", "0/1", // no list modifications
		ue(0), ue(0), // denominators
		"1/1", se(1), se(1), "0/1", // l0 ref 0
		"0/1", "0/1", "0/1", "1/1", se(0), se(0), se(0), se(0), // l1 refs 0 and 1
		"1/1", ue(5), ue(0)),
		SliceHeader{NALRefIDC: 1, SliceType: SliceB, PPSID: 1, FrameNum: 7, PicOrderCntLsb: 22, DeltaPicOrderCntBottom: 2, MMCO5: true}, nil},
	{"poc type 1, bottom field", slice("0x41/8", ue(0), ue(0), ue(2), "9/5", "1/1", "1/1", se(-4), "0/1", "0/1", "0/1"),
		SliceHeader{NALRefIDC: 2, SliceType: SliceP, PPSID: 2, FrameNum: 9, FieldPic: true, BottomField: true, DeltaPicOrderCnt: [2]int32{-4, 0}}, nil},
	{"poc type 1, frame", slice("0x65/8", ue(0), ue(2), ue(2), "0/5", "0/1", ue(1), se(3), se(-2), "0/1", "0/1"),
		SliceHeader{NALRefIDC: 3, IDR: true, SliceType: SliceI, PPSID: 2, IDRPicID: 1, DeltaPicOrderCnt: [2]int32{3, -2}}, nil},
	{"separate colour planes, poc type 2", slice("0x41/8", ue(0), ue(2), ue(3), "2/2", "11/4", "0/1"),
		SliceHeader{NALRefIDC: 2, SliceType: SliceI, PPSID: 3, FrameNum: 11}, nil},
	{"not a slice", ppsPlain, SliceHeader{}, ErrNotSlice},
	{"partition A", []byte{0x42, 0x80}, SliceHeader{}, ErrNotSlice},
	{"empty", nil, SliceHeader{}, ErrNotSlice},
	{"no such PPS", slice("0x41/8", ue(0), ue(0), ue(9), "0/4", "0/6", "0/1"), SliceHeader{}, ErrNoParameterSet},
	{"slice_type 10", slice("0x41/8", ue(0), ue(10), ue(0)), SliceHeader{}, ErrInvalidSlice},
	{"IDR P slice", slice("0x65/8", ue(0), ue(0), ue(0), "0/4", ue(0), "0/6", "0/1", "0/1"), SliceHeader{}, ErrInvalidSlice},
	{"short", []byte{0x41, 0x9a}, SliceHeader{}, ErrShortSlice},
	{"ue too long", []byte{0x41, 0, 0, 0, 0, 0, 1}, SliceHeader{}, ErrShortSlice},
	{"override to 33 references", slice("0x41/8", ue(0), ue(0), ue(0), "0/4", "0/6", "1/1", ue(32)), SliceHeader{}, ErrInvalidSlice},
	{"endless list modification", slice("0x41/8", append([]any{ue(0), ue(0), ue(0), "0/4", "0/6", "0/1", "1/1"},
		repeatAny(ue(0), 80)...)...), SliceHeader{}, ErrInvalidSlice},
	{"MMCO 7", slice("0x41/8", ue(0), ue(0), ue(0), "0/4", "0/6", "0/1", "0/1", "1/1", ue(7)), SliceHeader{}, ErrInvalidSlice},
}

func repeatAny(f []string, n int) []any {
	var out []any
	for range n {
		out = append(out, f)
	}
	return out
}

func TestParseSliceHeader(t *testing.T) {
	ps := testParameterSets(t)
	for _, tt := range sliceTests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseSliceHeader(tt.nalu, ps)
			if !errors.Is(err, tt.err) {
				t.Fatalf("err = %v, want %v", err, tt.err)
			}
			if got != tt.want {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestParsePPS(t *testing.T) {
	for _, tt := range []struct {
		name string
		nalu []byte
		want PPS
		err  error
	}{
		{"x264", ppsX264, PPS{EntropyCodingMode: true, NumSliceGroups: 1, NumRefIdxL0DefaultActive: 1, NumRefIdxL1DefaultActive: 1,
			WeightedPred: true, WeightedBipredIDC: 2, DeblockingFilterControlPresent: true}, nil},
		{"weighted", ppsWeighted, PPS{ID: 1, EntropyCodingMode: true, BottomFieldPicOrderInFramePresent: true, NumSliceGroups: 1,
			NumRefIdxL0DefaultActive: 3, NumRefIdxL1DefaultActive: 2, WeightedPred: true, WeightedBipredIDC: 1,
			DeblockingFilterControlPresent: true, RedundantPicCntPresent: true}, nil},
		{"slice group map 6", ppsFields, PPS{ID: 2, SPSID: 1, BottomFieldPicOrderInFramePresent: true, NumSliceGroups: 3,
			NumRefIdxL0DefaultActive: 1, NumRefIdxL1DefaultActive: 1, DeblockingFilterControlPresent: true}, nil},
		{"slice group maps 0 and 2", sps("0x68/8", ue(4), ue(0), "0/1", "0/1", ue(1), ue(0), ue(7), ue(8), ue(0), ue(0), "0/1", "0/2",
			se(0), se(0), se(0), "0/1", "1/1", "0/1", "1/1"),
			PPS{ID: 4, NumSliceGroups: 2, NumRefIdxL0DefaultActive: 1, NumRefIdxL1DefaultActive: 1, ConstrainedIntraPred: true}, nil},
		{"slice group map 2", sps("0x68/8", ue(4), ue(0), "0/1", "0/1", ue(1), ue(2), ue(0), ue(5), ue(0), ue(0), "0/1", "0/2",
			se(0), se(0), se(0), "0/1", "0/1", "0/1", "1/1"),
			PPS{ID: 4, NumSliceGroups: 2, NumRefIdxL0DefaultActive: 1, NumRefIdxL1DefaultActive: 1}, nil},
		{"slice group map 4", sps("0x68/8", ue(5), ue(0), "0/1", "0/1", ue(1), ue(4), "1/1", ue(3), ue(0), ue(0), "0/1", "0/2",
			se(0), se(0), se(0), "0/1", "0/1", "0/1", "1/1"),
			PPS{ID: 5, NumSliceGroups: 2, NumRefIdxL0DefaultActive: 1, NumRefIdxL1DefaultActive: 1}, nil},
		{"not a PPS", spsPOC0, PPS{}, ErrNotPPS},
		{"empty", nil, PPS{}, ErrNotPPS},
		{"short", []byte{0x68, 0xce}, PPS{}, ErrShortPPS},
		{"id 256", sps("0x68/8", ue(256), ue(0), "0/8"), PPS{}, ErrInvalidPPS},
		{"sps id 32", sps("0x68/8", ue(0), ue(32), "0/8"), PPS{}, ErrInvalidPPS},
		{"9 slice groups", sps("0x68/8", ue(0), ue(0), "0/1", "0/1", ue(8), "0/8"), PPS{}, ErrInvalidPPS},
		{"slice group map 7", sps("0x68/8", ue(0), ue(0), "0/1", "0/1", ue(1), ue(7), "0/8"), PPS{}, ErrInvalidPPS},
		{"33 references", sps("0x68/8", ue(0), ue(0), "0/1", "0/1", ue(0), ue(32), ue(0), "0/8"), PPS{}, ErrInvalidPPS},
		{"weighted_bipred_idc 3", sps("0x68/8", ue(0), ue(0), "0/1", "0/1", ue(0), ue(0), ue(0), "0/1", "3/2", "0/8"), PPS{}, ErrInvalidPPS},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParsePPS(tt.nalu)
			if !errors.Is(err, tt.err) {
				t.Fatalf("err = %v, want %v", err, tt.err)
			}
			if got != tt.want {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

// TestPictureOrderCounter runs over testdata/high-636x358.h264 (IDR, P,
// reference B, non-reference B, twice; two slices per picture, access unit delimiters):
// x264's order counts, and an error for an access unit without a slice or
// with an unknown PPS.
func TestPictureOrderCounter(t *testing.T) {
	data, err := os.ReadFile("testdata/high-636x358.h264")
	if err != nil {
		t.Fatal(err)
	}
	r := NewAccessUnitReader(bytes.NewReader(data))
	var c PictureOrderCounter
	if c.SPS() != nil {
		t.Fatal("SPS before the first picture")
	}
	var got []PictureOrder
	for {
		au, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		o, err := c.Next(au)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, o)
	}
	want := []PictureOrder{reset(frame(0, 0)), frame(6, 6), frame(2, 2), frame(4, 4),
		reset(frame(0, 0)), frame(6, 6), frame(2, 2), frame(4, 4)}
	if len(got) != len(want) {
		t.Fatalf("%d pictures, want %d", len(got), len(want))
	}
	for i := range got {
		if got[i] != want[i] {
			t.Errorf("picture %d: %+v, want %+v", i, got[i], want[i])
		}
	}
	if s := c.SPS(); s == nil || s.Width != 636 || s.MaxReorderFrames() != 2 {
		t.Errorf("SPS %+v", s)
	}
	if _, err := c.Next([]byte{0, 0, 1, 0x09, 0xf0}); !errors.Is(err, ErrNotSlice) {
		t.Errorf("AUD only: %v", err)
	}
	var empty PictureOrderCounter
	if err := empty.AddParameterSet([]byte{0x68}); !errors.Is(err, ErrShortPPS) {
		t.Errorf("bad PPS: %v", err)
	}
	var noPPS PictureOrderCounter
	if err := noPPS.AddParameterSet(spsHigh636); err != nil {
		t.Fatal(err)
	}
	au := append([]byte{0, 0, 0, 1}, slice("0x41/8", ue(0), ue(0), ue(0), "0/4", "0/6", "0/1")...)
	if _, err := noPPS.Next(au); !errors.Is(err, ErrNoParameterSet) {
		t.Errorf("slice without PPS: %v", err)
	}
}

func FuzzParseSliceHeader(f *testing.F) {
	for _, tt := range sliceTests {
		f.Add(tt.nalu)
	}
	f.Add(spsPOC0)
	f.Add(ppsFields)
	ps := testParameterSets(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		// A copy of the parameter sets: the input may be one of them.
		local := *ps
		_ = local.Add(b)
		h, err := ParseSliceHeader(b, &local)
		if err != nil {
			if h != (SliceHeader{}) {
				t.Fatalf("non-zero header with error %v", err)
			}
			return
		}
		p, s := local.lookup(h.PPSID)
		if p == nil || h.SliceType > 4 || uint64(h.FrameNum) >= 1<<s.Log2MaxFrameNum ||
			s.PicOrderCntType == 0 && uint64(h.PicOrderCntLsb) >= 1<<s.Log2MaxPicOrderCntLsb ||
			h.IDR != (NALUType(b) == NALUTypeIDR) || h.NALRefIDC != NALRefIDC(b) {
			t.Fatalf("out of range: %+v", h)
		}
		var d POCDecoder
		for range 3 {
			o := d.Decode(s, &h)
			if o.Reset != (h.IDR || h.MMCO5) {
				t.Fatalf("%+v: Reset %v", h, o.Reset)
			}
		}
	})
}

func FuzzParsePPS(f *testing.F) {
	for _, p := range [][]byte{ppsX264, ppsPlain, ppsWeighted, ppsFields, ppsSeparate} {
		f.Add(p)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := ParsePPS(b)
		if err != nil {
			if p != (PPS{}) {
				t.Fatal("non-zero PPS with error")
			}
			return
		}
		if p.ID > 255 || p.SPSID > 31 || p.NumSliceGroups < 1 || p.NumSliceGroups > 8 ||
			p.NumRefIdxL0DefaultActive < 1 || p.NumRefIdxL0DefaultActive > 32 ||
			p.NumRefIdxL1DefaultActive < 1 || p.NumRefIdxL1DefaultActive > 32 || p.WeightedBipredIDC > 2 {
			t.Fatalf("out of range: %+v", p)
		}
	})
}

func BenchmarkPictureOrderCounter(b *testing.B) {
	data, err := os.ReadFile("testdata/high-636x358.h264")
	if err != nil {
		b.Fatal(err)
	}
	r := NewAccessUnitReader(bytes.NewReader(data))
	var aus [][]byte
	for {
		au, err := r.Next()
		if err != nil {
			break
		}
		aus = append(aus, bytes.Clone(au))
	}
	b.ReportAllocs()
	var c PictureOrderCounter
	for i := 0; b.Loop(); i++ {
		if _, err := c.Next(aus[i%len(aus)]); err != nil {
			b.Fatal(err)
		}
	}
}
