package h264

import (
	"errors"
	"fmt"
	mathbits "math/bits"
	"strconv"
	"testing"

	"github.com/gomediarecorder/mediarecorder/internal/mediatest"
)

// spsHigh636 is the SPS libx264 wrote for testdata/high-636x358.h264:
// High profile (100), level 3.0, 4:2:0 8-bit, 40x23 macroblocks cropped
// right 2x2 and bottom 5x2 pixels to 636x358, VUI with an extended SAR
// 1432:1431 and timing 1/60. Note 00 00 03 (emulation prevention).
var spsHigh636 = []byte{0x67, 0x64, 0x00, 0x1e, 0xac, 0xd9, 0x40, 0xa0, 0x2f, 0xee, 0x6f, 0xfc, 0x16, 0x60,
	0x16, 0x5c, 0x40, 0x00, 0x00, 0x03, 0x00, 0x40, 0x00, 0x00, 0x0f, 0x03, 0xc5, 0x8b, 0x65, 0x80}

// ue and se return the mediatest.Bits fields of Exp-Golomb codes.
func ue(v uint32) []string {
	x := uint64(v) + 1
	n := mathbits.Len64(x)
	return []string{"0/" + strconv.Itoa(n-1), strconv.FormatUint(x, 10) + "/" + strconv.Itoa(n)}
}

func se(v int32) []string {
	if v > 0 {
		return ue(uint32(2*v - 1))
	}
	return ue(uint32(-2 * v))
}

// sps builds an SPS NAL unit from fields: strings, ue/se results.
func sps(fields ...any) []byte {
	var fs []string
	for _, f := range fields {
		switch f := f.(type) {
		case string:
			fs = append(fs, f)
		case []string:
			fs = append(fs, f...)
		default:
			panic(fmt.Sprintf("bad field %v", f))
		}
	}
	return insertEmulationPrevention(mediatest.Bits(fs...))
}

// insertEmulationPrevention adds the 03 bytes an encoder would.
func insertEmulationPrevention(b []byte) []byte {
	var out []byte
	zeros := 0
	for _, x := range b {
		if zeros >= 2 && x <= 3 {
			out = append(out, 3)
			zeros = 0
		}
		out = append(out, x)
		if x == 0 {
			zeros++
		} else {
			zeros = 0
		}
	}
	return out
}

func repeat(s string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = s
	}
	return out
}

var spsTests = []struct {
	name string
	nalu []byte
	want SPS
	err  error
}{
	{"x264 high 636x358", spsHigh636, SPS{ProfileIDC: 100, LevelIDC: 30, ChromaFormatIDC: 1, BitDepthLuma: 8, BitDepthChroma: 8,
		Log2MaxFrameNum: 4, Log2MaxPicOrderCntLsb: 6, MaxNumRefFrames: 4, PicWidthInMbs: 40, PicHeightInMapUnits: 23,
		FrameMBSOnly: true, FrameCropRight: 2, FrameCropBottom: 5, Width: 636, Height: 358, VUIPresent: true,
		SarWidth: 1432, SarHeight: 1431, ColourPrimaries: 2, TransferCharacteristics: 2, MatrixCoefficients: 2,
		TimingInfoPresent: true, NumUnitsInTick: 1, TimeScale: 60,
		BitstreamRestriction: true, MaxNumReorderFrames: 2, MaxDecFrameBuffering: 4}, nil},
	{"baseline 1920x1080", sps("0x67/8", "66/8", "0xc0/8", "40/8", ue(0), ue(0), ue(2), ue(1), "0/1",
		ue(119), ue(67), "1/1", "1/1", "1/1", ue(0), ue(0), ue(0), ue(4), "0/1", "1/1"),
		SPS{ProfileIDC: 66, ConstraintFlags: 0xc0, LevelIDC: 40, ChromaFormatIDC: 1, BitDepthLuma: 8, BitDepthChroma: 8,
			Log2MaxFrameNum: 4, PicOrderCntType: 2, MaxNumRefFrames: 1, PicWidthInMbs: 120, PicHeightInMapUnits: 68,
			FrameMBSOnly: true, FrameCropBottom: 4, Width: 1920, Height: 1080,
			ColourPrimaries: 2, TransferCharacteristics: 2, MatrixCoefficients: 2}, nil},
	{"high 4:2:2 10-bit, scaling lists, poc type 1, interlaced, full VUI", sps("0x67/8", "122/8", "0/8", "31/8", ue(3),
		ue(2), ue(2), ue(2), "0/1", "1/1", // chroma_format_idc 2, 10-bit, scaling matrix present
		"1/1", se(8), se(-16), "0/1", "0/1", "0/1", "0/1", "0/1", // list 0 ends at nextScale 0
		"1/1", repeat("1/1", 64), "0/1", // list 6: 64 deltas of 0
		ue(0), ue(1), "0/1", se(-3), se(2), ue(2), se(1), se(-1), // poc type 1
		ue(2), "0/1", ue(3), ue(1), "0/1", "1/1", "1/1", // 64x(2x32) interlaced, MBAFF
		"1/1", ue(1), ue(0), ue(0), ue(1), // crop
		"1/1", "1/1", "2/8", "1/1", "1/1", "1/1", "5/3", "1/1", "1/1", "1/8", "1/8", "1/8", // VUI: SAR 12:11, BT.709
		"1/1", ue(0), ue(0), "1/1", "1001/32", "60000/32", "1/1", "0/1", "0/1", "1/1"),
		SPS{ProfileIDC: 122, LevelIDC: 31, ID: 3, ChromaFormatIDC: 2, BitDepthLuma: 10, BitDepthChroma: 10,
			Log2MaxFrameNum: 4, PicOrderCntType: 1, OffsetForNonRefPic: -3, OffsetForTopToBottomField: 2,
			NumRefFramesInPicOrderCntCycle: 2, OffsetForRefFrame: [255]int32{1, -1},
			MaxNumRefFrames: 2, PicWidthInMbs: 4, PicHeightInMapUnits: 2,
			MBAdaptiveFrameField: true, FrameCropLeft: 1, FrameCropBottom: 1, Width: 62, Height: 62,
			VUIPresent: true, SarWidth: 12, SarHeight: 11, VideoFullRange: true,
			ColourPrimaries: 1, TransferCharacteristics: 1, MatrixCoefficients: 1,
			TimingInfoPresent: true, NumUnitsInTick: 1001, TimeScale: 60000, FixedFrameRate: true}, nil},
	{"high 4:4:4 separate colour planes", sps("0x67/8", "244/8", "0/8", "50/8", ue(0),
		ue(3), "1/1", ue(0), ue(0), "1/1", "1/1", repeat("0/1", 12),
		ue(0), ue(0), ue(0), ue(1), "0/1", ue(9), ue(5), "1/1", "1/1",
		"1/1", ue(1), ue(1), ue(1), ue(1), "0/1", "1/1"),
		SPS{ProfileIDC: 244, LevelIDC: 50, ChromaFormatIDC: 3, SeparateColourPlane: true, BitDepthLuma: 8, BitDepthChroma: 8,
			Log2MaxFrameNum: 4, Log2MaxPicOrderCntLsb: 4, MaxNumRefFrames: 1, PicWidthInMbs: 10, PicHeightInMapUnits: 6,
			FrameMBSOnly: true, FrameCropLeft: 1, FrameCropRight: 1, FrameCropTop: 1, FrameCropBottom: 1, Width: 158, Height: 94,
			ColourPrimaries: 2, TransferCharacteristics: 2, MatrixCoefficients: 2}, nil},
	{"high 4:4:4 crop units", sps("0x67/8", "244/8", "0/8", "50/8", ue(0),
		ue(3), "0/1", ue(0), ue(0), "0/1", "0/1",
		ue(0), ue(2), ue(1), "0/1", ue(9), ue(5), "1/1", "1/1",
		"1/1", ue(1), ue(1), ue(1), ue(1), "0/1", "1/1"),
		SPS{ProfileIDC: 244, LevelIDC: 50, ChromaFormatIDC: 3, BitDepthLuma: 8, BitDepthChroma: 8,
			Log2MaxFrameNum: 4, PicOrderCntType: 2, MaxNumRefFrames: 1, PicWidthInMbs: 10, PicHeightInMapUnits: 6,
			FrameMBSOnly: true, FrameCropLeft: 1, FrameCropRight: 1, FrameCropTop: 1, FrameCropBottom: 1, Width: 158, Height: 94,
			ColourPrimaries: 2, TransferCharacteristics: 2, MatrixCoefficients: 2}, nil},
	{"monochrome field coding", sps("0x67/8", "100/8", "0/8", "30/8", ue(0),
		ue(0), ue(0), ue(0), "0/1", "0/1",
		ue(0), ue(2), ue(1), "0/1", ue(1), ue(1), "0/1", "0/1", "1/1",
		"1/1", ue(0), ue(0), ue(1), ue(1), "0/1", "1/1"),
		SPS{ProfileIDC: 100, LevelIDC: 30, BitDepthLuma: 8, BitDepthChroma: 8,
			Log2MaxFrameNum: 4, PicOrderCntType: 2, MaxNumRefFrames: 1, PicWidthInMbs: 2, PicHeightInMapUnits: 2,
			FrameCropTop: 1, FrameCropBottom: 1, Width: 32, Height: 60,
			ColourPrimaries: 2, TransferCharacteristics: 2, MatrixCoefficients: 2}, nil},
	// The VUI ends inside colour_description: the SAR before it stays.
	{"truncated VUI", sps("0x67/8", "66/8", "0/8", "30/8", ue(0), ue(0), ue(2), ue(1), "0/1", ue(10), ue(8), "1/1", "1/1", "0/1",
		"1/1", "1/1", "255/8", "4/16", "3/16", "0/1", "1/1", "5/3", "1/1", "1/1", "9/8", "16/8"),
		SPS{ProfileIDC: 66, LevelIDC: 30, ChromaFormatIDC: 1, BitDepthLuma: 8, BitDepthChroma: 8, Log2MaxFrameNum: 4,
			PicOrderCntType: 2, MaxNumRefFrames: 1, PicWidthInMbs: 11, PicHeightInMapUnits: 9, FrameMBSOnly: true,
			Width: 176, Height: 144, VUIPresent: true, SarWidth: 4, SarHeight: 3,
			ColourPrimaries: 2, TransferCharacteristics: 2, MatrixCoefficients: 2}, nil},
	{"truncated timing", sps("0x67/8", "66/8", "0/8", "30/8", ue(0), ue(0), ue(2), ue(1), "0/1", ue(10), ue(8), "1/1", "1/1", "0/1",
		"1/1", "0/1", "0/1", "0/1", "0/1", "1/1", "1/32", "60/16"),
		SPS{ProfileIDC: 66, LevelIDC: 30, ChromaFormatIDC: 1, BitDepthLuma: 8, BitDepthChroma: 8, Log2MaxFrameNum: 4,
			PicOrderCntType: 2, MaxNumRefFrames: 1, PicWidthInMbs: 11, PicHeightInMapUnits: 9, FrameMBSOnly: true,
			Width: 176, Height: 144, VUIPresent: true,
			ColourPrimaries: 2, TransferCharacteristics: 2, MatrixCoefficients: 2}, nil},
	{"main, poc type 0, HRD and bitstream restriction", sps("0x67/8", "77/8", "0/8", "30/8", ue(0),
		ue(0), ue(0), ue(2), ue(4), "0/1", ue(19), ue(14), "1/1", "1/1", "0/1", // poc type 0, lsb 6 bits, 320x240
		"1/1", "0/1", "0/1", "0/1", "0/1", "1/1", "1/32", "50/32", "1/1", // VUI: timing 25 fps
		"1/1", ue(1), "4/4", "5/4", ue(1000), ue(2000), "1/1", ue(3000), ue(4000), "0/1", "23/5", "23/5", "23/5", "24/5", // NAL HRD, 2 CPBs
		"0/1", "0/1", "0/1", // low_delay_hrd_flag, pic_struct_present_flag
		"1/1", "1/1", ue(2), ue(1), ue(16), ue(16), ue(1), ue(3), "1/1"), // bitstream restriction: 1 reorder, 3 frames
		SPS{ProfileIDC: 77, LevelIDC: 30, ChromaFormatIDC: 1, BitDepthLuma: 8, BitDepthChroma: 8,
			Log2MaxFrameNum: 4, Log2MaxPicOrderCntLsb: 6, MaxNumRefFrames: 4, PicWidthInMbs: 20, PicHeightInMapUnits: 15,
			FrameMBSOnly: true, Width: 320, Height: 240, VUIPresent: true,
			ColourPrimaries: 2, TransferCharacteristics: 2, MatrixCoefficients: 2,
			TimingInfoPresent: true, NumUnitsInTick: 1, TimeScale: 50, FixedFrameRate: true,
			BitstreamRestriction: true, MaxNumReorderFrames: 1, MaxDecFrameBuffering: 3}, nil},
	{"not an SPS", []byte{0x68, 0xce, 0x3c, 0x80}, SPS{}, ErrNotSPS},
	{"empty", nil, SPS{}, ErrNotSPS},
	{"header only", []byte{0x67}, SPS{}, ErrShortSPS},
	{"cut after level", spsHigh636[:4], SPS{}, ErrShortSPS},
	{"cut before vui flag", spsHigh636[:10], SPS{}, ErrShortSPS},
	{"id 32", sps("0x67/8", "66/8", "0/8", "30/8", ue(32), "0/8"), SPS{}, ErrInvalidSPS},
	{"chroma_format_idc 4", sps("0x67/8", "100/8", "0/8", "30/8", ue(0), ue(4), "0/8"), SPS{}, ErrInvalidSPS},
	{"bit depth 15", sps("0x67/8", "110/8", "0/8", "30/8", ue(0), ue(1), ue(7), ue(0), "0/8"), SPS{}, ErrInvalidSPS},
	{"scaling delta out of range", sps("0x67/8", "100/8", "0/8", "30/8", ue(0), ue(1), ue(0), ue(0), "0/1", "1/1", "1/1", se(200), "0/8"), SPS{}, ErrInvalidSPS},
	{"log2_max_frame_num 17", sps("0x67/8", "66/8", "0/8", "30/8", ue(0), ue(13), "0/8"), SPS{}, ErrInvalidSPS},
	{"poc type 3", sps("0x67/8", "66/8", "0/8", "30/8", ue(0), ue(0), ue(3), "0/8"), SPS{}, ErrInvalidSPS},
	{"crop too large", sps("0x67/8", "66/8", "0/8", "30/8", ue(0), ue(0), ue(2), ue(1), "0/1", ue(0), ue(0), "1/1", "1/1",
		"1/1", ue(4), ue(4), ue(0), ue(0), "0/1", "1/1"), SPS{}, ErrInvalidSPS},
	{"huge width", sps("0x67/8", "66/8", "0/8", "30/8", ue(0), ue(0), ue(2), ue(1), "0/1", ue(1<<20), ue(0), "1/1", "1/1", "0/1", "0/1", "1/1"), SPS{}, ErrInvalidSPS},
	{"ue too long", append([]byte{0x67, 66, 0, 30}, make([]byte, 8)...), SPS{}, ErrShortSPS},
}

func TestParseSPS(t *testing.T) {
	for _, tt := range spsTests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseSPS(tt.nalu)
			if !errors.Is(err, tt.err) {
				t.Fatalf("err = %v, want %v", err, tt.err)
			}
			if got != tt.want {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestFrameRate(t *testing.T) {
	for _, tt := range []struct {
		s    SPS
		rate float64
		ok   bool
	}{
		{SPS{TimingInfoPresent: true, NumUnitsInTick: 1, TimeScale: 60}, 30, true},
		{SPS{TimingInfoPresent: true, NumUnitsInTick: 1001, TimeScale: 60000}, 60000.0 / 2002, true},
		{SPS{TimingInfoPresent: true, NumUnitsInTick: 1, TimeScale: 50}, 25, true},
		{SPS{TimingInfoPresent: true, NumUnitsInTick: 0, TimeScale: 50}, 0, false},
		{SPS{TimingInfoPresent: true, NumUnitsInTick: 1, TimeScale: 0}, 0, false},
		{SPS{NumUnitsInTick: 1, TimeScale: 60}, 0, false},
	} {
		rate, ok := tt.s.FrameRate()
		if rate != tt.rate || ok != tt.ok {
			t.Errorf("%+v: FrameRate = %v, %v; want %v, %v", tt.s, rate, ok, tt.rate, tt.ok)
		}
	}
}

func FuzzParseSPS(f *testing.F) {
	for _, tt := range spsTests {
		f.Add(tt.nalu)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := ParseSPS(b)
		if err != nil {
			if s != (SPS{}) {
				t.Fatal("non-zero SPS with error")
			}
			return
		}
		if s.Width <= 0 || s.Height <= 0 || s.Width > 1<<20 || s.Height > 1<<21 || s.ID > 31 || s.ChromaFormatIDC > 3 ||
			s.BitDepthLuma < 8 || s.BitDepthLuma > 14 || s.BitDepthChroma < 8 || s.BitDepthChroma > 14 {
			t.Fatalf("out of range: %+v", s)
		}
		if _, err := AVCDecoderConfigurationRecord([][]byte{b}, [][]byte{{0x68, 0xce}}); err != nil {
			t.Fatalf("avcC of a good SPS: %v", err)
		}
	})
}

func ExampleParseSPS() {
	s, err := ParseSPS(spsHigh636)
	if err != nil {
		panic(err)
	}
	rate, _ := s.FrameRate()
	fmt.Println(s.ProfileIDC, s.LevelIDC, s.Width, s.Height, s.BitDepthLuma, rate)
	// Output: 100 30 636 358 8 30
}

func BenchmarkParseSPS(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseSPS(spsHigh636); err != nil {
			b.Fatal(err)
		}
	}
}
