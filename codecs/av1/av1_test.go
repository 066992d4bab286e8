package av1

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/gomediarecorder/mediarecorder/internal/mediatest"
)

// seqOBU160 is the sequence header OBU libaom wrote for testdata/160x90.obu:
// header 0a (type 1, has size), size 10, then the payload: profile 0, no
// timing info, one operating point (idc 0, level 0), frame_width_bits 8,
// frame_height_bits 7, max size 0x9f+1 = 160 by 0x59+1 = 90, ...
var seqOBU160 = []byte{0x0a, 0x0a, 0x00, 0x00, 0x00, 0x03, 0xb4, 0xfd, 0x93, 0x6b, 0xe4, 0x01}

var seq160 = SequenceHeader{
	OperatingPointsCnt: 1, FrameWidthBits: 8, FrameHeightBits: 7, MaxFrameWidth: 160, MaxFrameHeight: 90,
	EnableOrderHint: true, OrderHintBits: 7, ColorPrimaries: 2, TransferCharacteristics: 2, MatrixCoefficients: 2,
	ChromaSubsamplingX: true, ChromaSubsamplingY: true,
}

func TestLEB128(t *testing.T) {
	for _, tt := range []struct {
		in   []byte
		v    uint32
		n    int
		err  error
		same bool // AppendLEB128(v) == in
	}{
		{[]byte{0x00}, 0, 1, nil, true},
		{[]byte{0x7f, 0xff}, 127, 1, nil, false},
		{[]byte{0x80, 0x01}, 128, 2, nil, true},
		{[]byte{0xe5, 0x8e, 0x26}, 624485, 3, nil, true},
		{[]byte{0x80, 0x00}, 0, 2, nil, false}, // padded form is allowed
		{[]byte{0xff, 0xff, 0xff, 0xff, 0x0f}, 1<<32 - 1, 5, nil, true},
		{[]byte{0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00}, 0, 8, nil, false},
		{[]byte{0xff, 0xff, 0xff, 0xff, 0x1f}, 0, 0, ErrLEB128, false},
		{[]byte{0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00}, 0, 0, ErrLEB128, false},
		{[]byte{0x80}, 0, 0, ErrShortOBU, false},
		{nil, 0, 0, ErrShortOBU, false},
	} {
		v, n, err := ReadLEB128(tt.in)
		if v != tt.v || n != tt.n || err != tt.err {
			t.Errorf("ReadLEB128(%x) = %d, %d, %v; want %d, %d, %v", tt.in, v, n, err, tt.v, tt.n, tt.err)
		}
		if tt.same {
			if got := AppendLEB128(nil, tt.v); !bytes.Equal(got, tt.in) {
				t.Errorf("AppendLEB128(%d) = %x, want %x", tt.v, got, tt.in)
			}
		}
	}
}

var nextOBUTests = []struct {
	name    string
	in      []byte
	want    OBU
	restLen int
	err     error
}{
	{"temporal delimiter", []byte{0x12, 0x00, 0x0a}, OBU{Type: OBUTemporalDelimiter, HasSizeField: true, Raw: []byte{0x12, 0x00}, Payload: []byte{}}, 1, nil},
	{"sequence header", seqOBU160, OBU{Type: OBUSequenceHeader, HasSizeField: true, Raw: seqOBU160, Payload: seqOBU160[2:]}, 0, nil},
	// 0x36: frame, extension, size; extension 0x48: temporal_id 2,
	// spatial_id 1; size 2.
	{"extension", []byte{0x36, 0x48, 0x02, 0xaa, 0xbb, 0x12, 0x00},
		OBU{Type: OBUFrame, TemporalID: 2, SpatialID: 1, HasExtension: true, HasSizeField: true,
			Raw: []byte{0x36, 0x48, 0x02, 0xaa, 0xbb}, Payload: []byte{0xaa, 0xbb}}, 2, nil},
	// 0x30: frame without size field: takes the rest.
	{"no size field", []byte{0x30, 0x10, 0x20, 0x30}, OBU{Type: OBUFrame, Raw: []byte{0x30, 0x10, 0x20, 0x30}, Payload: []byte{0x10, 0x20, 0x30}}, 0, nil},
	{"no size field, extension", []byte{0x34, 0xe0, 0x10}, OBU{Type: OBUFrame, TemporalID: 7, HasExtension: true, Raw: []byte{0x34, 0xe0, 0x10}, Payload: []byte{0x10}}, 0, nil},
	// Two-byte size 0x80 0x01 = 128.
	{"leb128 size", append([]byte{0x7a, 0x80, 0x01}, make([]byte, 128)...), OBU{Type: OBUPadding, HasSizeField: true,
		Raw: append([]byte{0x7a, 0x80, 0x01}, make([]byte, 128)...), Payload: make([]byte, 128)}, 0, nil},
	{"reserved type 0", []byte{0x02, 0x00}, OBU{HasSizeField: true, Raw: []byte{0x02, 0x00}, Payload: []byte{}}, 0, nil},
	{"forbidden bit", []byte{0x92, 0x00}, OBU{}, 0, ErrForbiddenBit},
	{"empty", nil, OBU{}, 0, ErrShortOBU},
	{"extension cut", []byte{0x36}, OBU{}, 0, ErrShortOBU},
	{"size cut", []byte{0x32, 0x80}, OBU{}, 0, ErrShortOBU},
	{"payload cut", []byte{0x32, 0x03, 0x00, 0x00}, OBU{}, 0, ErrShortOBU},
	{"size too long", []byte{0x32, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00}, OBU{}, 0, ErrLEB128},
}

func TestNextOBU(t *testing.T) {
	for _, tt := range nextOBUTests {
		t.Run(tt.name, func(t *testing.T) {
			o, rest, err := NextOBU(tt.in)
			if err != tt.err {
				t.Fatalf("err = %v, want %v", err, tt.err)
			}
			if o.Type != tt.want.Type || o.TemporalID != tt.want.TemporalID || o.SpatialID != tt.want.SpatialID ||
				o.HasExtension != tt.want.HasExtension || o.HasSizeField != tt.want.HasSizeField ||
				!bytes.Equal(o.Raw, tt.want.Raw) || !bytes.Equal(o.Payload, tt.want.Payload) || len(rest) != tt.restLen {
				t.Errorf("got %+v rest %x\nwant %+v", o, rest, tt.want)
			}
			if err == nil && o.HeaderLen() != 1+btoi(o.HasExtension) {
				t.Errorf("HeaderLen = %d", o.HeaderLen())
			}
		})
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// Fields of sequence headers (AV1 section 5.5) for the tests below.
var (
	// The part after the operating points for a 1920x1080 stream without
	// frame IDs, with order hints (7 bits), up to color_config.
	seqMiddle = []string{"10/4", "10/4", "1919/11", "1079/11", "0/1", // size, frame_id_numbers_present
		"0/1", "1/1", "1/1", // 128x128, filter_intra, intra_edge
		"0/1", "0/1", "0/1", "0/1", "1/1", "1/1", "1/1", // compound.., order hint, jnt_comp, ref_frame_mvs
		"1/1", "1/1", "6/3", // seq_choose_screen_content_tools, seq_choose_integer_mv, order_hint_bits_minus_1
		"0/1", "1/1", "1/1"} // superres, cdef, restoration
	// A plain start: profile, no still, no timing info, no display delay,
	// one operating point with idc 0 at level 8 (4.0) main tier.
	seqStart = func(profile int) []string {
		return []string{strconv.Itoa(profile) + "/3", "0/1", "0/1", "0/1", "0/1", "0/5", "0/12", "8/5", "0/1"}
	}
)

// base1080 is what seqStart + seqMiddle give.
func base1080(profile uint8) SequenceHeader {
	return SequenceHeader{SeqProfile: profile, SeqLevelIdx0: 8, OperatingPointsCnt: 1,
		FrameWidthBits: 11, FrameHeightBits: 11, MaxFrameWidth: 1920, MaxFrameHeight: 1080,
		EnableOrderHint: true, OrderHintBits: 7, ColorPrimaries: 2, TransferCharacteristics: 2, MatrixCoefficients: 2}
}

func with(s SequenceHeader, f func(*SequenceHeader)) SequenceHeader {
	f(&s)
	return s
}

var seqTests = []struct {
	name    string
	payload []byte
	want    SequenceHeader
	err     error
}{
	{"libaom 160x90", seqOBU160[2:], seq160, nil},
	{"timing, decoder model, two operating points", mediatest.Bits(
		"0/3", "0/1", "0/1", "1/1", // profile, still, reduced, timing_info_present
		"1001/32", "60000/32", "1/1", "0/1", "1/1", "0/1", // timing_info, equal_picture_interval, uvlc 1
		"1/1", "4/5", "90000/32", "9/5", "7/5", // decoder_model_info
		"1/1", "1/5", // initial_display_delay_present, 2 operating points
		"0x103/12", "9/5", "1/1", "1/1", "3/5", "4/5", "0/1", "1/1", "9/4", // op 0: level 9 tier 1, model, delay 9
		"0x101/12", "4/5", "0/1", "0/1", // op 1: level 4, no model, no delay
		"10/4", "10/4", "1919/11", "1079/11", "1/1", "5/4", "2/3", // size, frame ids
		"1/1", "1/1", "1/1", "0/1", "0/1", "1/1", "0/1", "1/1", "0/1", "1/1", // 128x128 .. order hint, jnt, ref mvs
		"0/1", "1/1", "0/1", "1/1", "6/3", // screen content forced 1, integer mv forced 1, order hint bits
		"1/1", "1/1", "1/1", // superres, cdef, restoration
		"1/1", "0/1", "1/1", "9/8", "16/8", "9/8", "0/1", "1/2", "0/1", // color_config: 10-bit, BT.2020 PQ, position 1
		"1/1"), // film grain
		SequenceHeader{TimingInfoPresent: true, NumUnitsInDisplayTick: 1001, TimeScale: 60000, EqualPictureInterval: true,
			NumTicksPerPictureMinus1: 1, DecoderModelInfoPresent: true, FramePresentationTimeLengthMinus1: 7,
			OperatingPointsCnt: 2, OperatingPointIdc0: 0x103, SeqLevelIdx0: 9, SeqTier0: 1,
			InitialPresentationDelayPresent: true, InitialPresentationDelayMinusOne: 9,
			FrameWidthBits: 11, FrameHeightBits: 11, MaxFrameWidth: 1920, MaxFrameHeight: 1080,
			FrameIDNumbersPresent: true, DeltaFrameIDLength: 7, AdditionalFrameIDLen: 3, Use128x128Superblock: true,
			EnableOrderHint: true, OrderHintBits: 7, EnableSuperres: true, HighBitdepth: true,
			ColorDescriptionPresent: true, ColorPrimaries: 9, TransferCharacteristics: 16, MatrixCoefficients: 9,
			ChromaSubsamplingX: true, ChromaSubsamplingY: true, ChromaSamplePosition: 1, FilmGrainParamsPresent: true}, nil},
	{"reduced still picture, profile 1", mediatest.Bits("1/3", "1/1", "1/1", "31/5", "5/4", "5/4", "63/6", "47/6",
		"0/1", "0/1", "0/1", "0/1", "1/1", "0/1", // 128x128, filter intra, edge, superres, cdef, restoration
		"0/1", "0/1", "1/1", "0/1", "0/1"), // 8-bit, no description, full range, separate_uv_delta_q, film grain
		SequenceHeader{SeqProfile: 1, StillPicture: true, ReducedStillPictureHeader: true, SeqLevelIdx0: 31,
			OperatingPointsCnt: 1, FrameWidthBits: 6, FrameHeightBits: 6, MaxFrameWidth: 64, MaxFrameHeight: 48,
			ColorPrimaries: 2, TransferCharacteristics: 2, MatrixCoefficients: 2, ColorRange: true}, nil},
	{"profile 2 12-bit 4:2:2", mediatest.Bits(slices.Concat(seqStart(2), seqMiddle, []string{"1/1", "1/1", "0/1", "0/1", "1/1", "1/1", "0/1", "1/1", "0/1"})...),
		with(base1080(2), func(s *SequenceHeader) {
			s.HighBitdepth, s.TwelveBit, s.ColorRange, s.ChromaSubsamplingX = true, true, true, true
		}), nil},
	{"profile 2 12-bit 4:2:0", mediatest.Bits(slices.Concat(seqStart(2), seqMiddle, []string{"1/1", "1/1", "0/1", "0/1", "0/1", "1/1", "1/1", "2/2", "0/1", "0/1"})...),
		with(base1080(2), func(s *SequenceHeader) {
			s.HighBitdepth, s.TwelveBit, s.ChromaSubsamplingX, s.ChromaSubsamplingY, s.ChromaSamplePosition = true, true, true, true, 2
		}), nil},
	{"profile 2 12-bit 4:4:4", mediatest.Bits(slices.Concat(seqStart(2), seqMiddle, []string{"1/1", "1/1", "0/1", "0/1", "0/1", "0/1", "0/1", "0/1"})...),
		with(base1080(2), func(s *SequenceHeader) { s.HighBitdepth, s.TwelveBit = true, true }), nil},
	{"profile 2 10-bit", mediatest.Bits(slices.Concat(seqStart(2), seqMiddle, []string{"1/1", "0/1", "0/1", "0/1", "0/1", "0/1", "0/1"})...),
		with(base1080(2), func(s *SequenceHeader) { s.HighBitdepth, s.ChromaSubsamplingX = true, true }), nil},
	{"profile 2 8-bit", mediatest.Bits(slices.Concat(seqStart(2), seqMiddle, []string{"0/1", "0/1", "0/1", "0/1", "0/1", "0/1"})...),
		with(base1080(2), func(s *SequenceHeader) { s.ChromaSubsamplingX = true }), nil},
	{"monochrome", mediatest.Bits(slices.Concat(seqStart(0), seqMiddle, []string{"0/1", "1/1", "0/1", "1/1", "1/1"})...),
		with(base1080(0), func(s *SequenceHeader) {
			s.MonoChrome, s.ColorRange, s.ChromaSubsamplingX, s.ChromaSubsamplingY, s.FilmGrainParamsPresent = true, true, true, true, true
		}), nil},
	{"sRGB identity", mediatest.Bits(slices.Concat(seqStart(1), seqMiddle, []string{"0/1", "1/1", "1/8", "13/8", "0/8", "0/1", "0/1"})...),
		with(base1080(1), func(s *SequenceHeader) {
			s.ColorDescriptionPresent, s.ColorPrimaries, s.TransferCharacteristics, s.MatrixCoefficients, s.ColorRange = true, 1, 13, 0, true
		}), nil},
	{"reserved profile 3", mediatest.Bits("3/3", "0/5"), SequenceHeader{}, ErrReservedProfile},
	{"reserved profile 7", []byte{0xff, 0xff}, SequenceHeader{}, ErrReservedProfile},
	{"short", seqOBU160[2:7], SequenceHeader{}, ErrShortSequenceHeader},
	{"empty", nil, SequenceHeader{}, ErrShortSequenceHeader},
	{"cut before film grain", seqOBU160[2:11], SequenceHeader{}, ErrShortSequenceHeader},
}

func TestParseSequenceHeader(t *testing.T) {
	for _, tt := range seqTests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseSequenceHeader(tt.payload)
			if !errors.Is(err, tt.err) {
				t.Fatalf("err = %v, want %v", err, tt.err)
			}
			if got != tt.want {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestBitDepth(t *testing.T) {
	for _, tt := range []struct {
		s    SequenceHeader
		want int
	}{
		{SequenceHeader{}, 8},
		{SequenceHeader{HighBitdepth: true}, 10},
		{SequenceHeader{SeqProfile: 2, HighBitdepth: true, TwelveBit: true}, 12},
	} {
		if got := tt.s.BitDepth(); got != tt.want {
			t.Errorf("%+v: BitDepth = %d, want %d", tt.s, got, tt.want)
		}
	}
}

func TestCodecConfigurationRecord(t *testing.T) {
	for _, tt := range []struct {
		name string
		seq  SequenceHeader
		obu  []byte
		want []byte
	}{
		// What ffmpeg writes for testdata/160x90.obu.
		{"libaom", seq160, seqOBU160, append([]byte{0x81, 0x00, 0x0c, 0x00}, seqOBU160...)},
		// Profile 2 (0x40) level 13 (0x0d); tier 1, high bitdepth, twelve
		// bit, 4:2:0, position 2: 1110 1110; delay 9 present.
		{"fields", SequenceHeader{SeqProfile: 2, SeqLevelIdx0: 13, SeqTier0: 1, HighBitdepth: true, TwelveBit: true,
			ChromaSubsamplingX: true, ChromaSubsamplingY: true, ChromaSamplePosition: 2,
			InitialPresentationDelayPresent: true, InitialPresentationDelayMinusOne: 9}, []byte{0x0a, 0x00},
			[]byte{0x81, 0x4d, 0xee, 0x19, 0x0a, 0x00}},
		{"mono", SequenceHeader{MonoChrome: true, ChromaSubsamplingX: true, ChromaSubsamplingY: true, SeqLevelIdx0: 31}, nil,
			[]byte{0x81, 0x1f, 0x1c, 0x00}},
		// A sequence header OBU without a size field gets one.
		{"size field added", seq160, []byte{0x08, 0x01, 0x02}, []byte{0x81, 0x00, 0x0c, 0x00, 0x0a, 0x02, 0x01, 0x02}},
	} {
		if got := CodecConfigurationRecord(tt.seq, tt.obu); !bytes.Equal(got, tt.want) {
			t.Errorf("%s: got %x, want %x", tt.name, got, tt.want)
		}
	}
}

// readOBUs splits a low overhead OBU stream into temporal units at its
// temporal delimiters.
func readOBUs(t testing.TB, b []byte) [][]byte {
	t.Helper()
	var tus [][]byte
	start := 0
	for off := 0; off < len(b); {
		o, rest, err := NextOBU(b[off:])
		if err != nil {
			t.Fatalf("offset %d: %v", off, err)
		}
		if o.Type == OBUTemporalDelimiter && off > start {
			tus = append(tus, b[start:off])
			start = off
		}
		off = len(b) - len(rest)
	}
	if start < len(b) {
		tus = append(tus, b[start:])
	}
	return tus
}

func TestTestdata(t *testing.T) {
	data, err := os.ReadFile("testdata/160x90.obu")
	if err != nil {
		t.Fatal(err)
	}
	tus := readOBUs(t, data)
	if len(tus) != 6 {
		t.Fatalf("%d temporal units, want 6", len(tus))
	}
	raw, seq, ok := FindSequenceHeader(tus[0])
	if !ok || !bytes.Equal(raw, seqOBU160) || seq != seq160 {
		t.Fatalf("FindSequenceHeader = %x, %+v, %v", raw, seq, ok)
	}
	for i, tu := range tus {
		want := i%3 == 0
		if got := IsKeyFrame(tu, nil); got != want {
			t.Errorf("TU %d: IsKeyFrame(nil) = %v, want %v", i, got, want)
		}
		if got := IsKeyFrame(tu, &seq); got != want {
			t.Errorf("TU %d: IsKeyFrame(seq) = %v, want %v", i, got, want)
		}
		_, _, hasSeq := FindSequenceHeader(tu)
		if hasSeq != want {
			t.Errorf("TU %d: sequence header %v", i, hasSeq)
		}
		out, err := AppendStripTemporalDelimiters(nil, tu)
		if err != nil {
			t.Fatalf("TU %d: %v", i, err)
		}
		if !bytes.Equal(out, tu[2:]) { // the TD is 12 00; nothing else changes
			t.Errorf("TU %d: stripped TU differs", i)
		}
	}
	still, err := os.ReadFile("testdata/still.obu")
	if err != nil {
		t.Fatal(err)
	}
	raw, seq, ok = FindSequenceHeader(still)
	if !ok || !seq.ReducedStillPictureHeader || !seq.StillPicture || seq.MaxFrameWidth != 64 || seq.MaxFrameHeight != 48 {
		t.Fatalf("still: %x %+v %v", raw, seq, ok)
	}
	if !IsKeyFrame(still, nil) {
		t.Errorf("still: not a key frame")
	}
}

var (
	td          = []byte{0x12, 0x00}
	keyShown    = []byte{0x32, 0x02, 0x10, 0xff} // frame OBU: KEY_FRAME, show_frame
	keyHidden   = []byte{0x32, 0x02, 0x00, 0xff}
	interShown  = []byte{0x32, 0x02, 0x30, 0xff}
	intraShown  = []byte{0x32, 0x02, 0x50, 0xff}
	showExisted = []byte{0x1a, 0x01, 0x80} // frame header OBU: show_existing_frame
	keyHeader   = []byte{0x1a, 0x01, 0x10} // frame header OBU: KEY_FRAME, show_frame
	padding     = []byte{0x7a, 0x02, 0x00, 0x00}
	metadata    = []byte{0x2a, 0x01, 0x01}
)

func join(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

func TestIsKeyFrame(t *testing.T) {
	reduced := seq160
	reduced.ReducedStillPictureHeader = true
	for _, tt := range []struct {
		name string
		tu   []byte
		seq  *SequenceHeader
		want bool
	}{
		{"key with sequence header", join(td, seqOBU160, keyShown), nil, true},
		{"key with sequence header and seq", join(td, seqOBU160, keyShown), &seq160, true},
		{"key without sequence header, no seq", join(td, keyShown), nil, false},
		{"key without sequence header, seq", join(td, keyShown), &seq160, true},
		{"key frame header OBU", join(td, seqOBU160, metadata, keyHeader), nil, true},
		{"hidden key", join(td, seqOBU160, keyHidden), nil, false},
		{"inter", join(td, interShown), &seq160, false},
		{"intra only", join(td, seqOBU160, intraShown), nil, false},
		{"show existing", join(td, seqOBU160, showExisted, keyShown), nil, false},
		{"first frame decides", join(td, seqOBU160, interShown, keyShown), nil, false},
		{"reduced still picture seq", join(td, interShown), &reduced, true},
		{"no frame", join(td, seqOBU160), nil, false},
		{"bad sequence header", join(td, []byte{0x0a, 0x02, 0xff, 0xff}, keyShown), &seq160, false},
		{"garbage", []byte{0xff, 0xff, 0xff}, &seq160, false},
		{"empty frame payload", join(td, []byte{0x32, 0x00}), &seq160, false},
		{"empty", nil, &seq160, false},
	} {
		if got := IsKeyFrame(tt.tu, tt.seq); got != tt.want {
			t.Errorf("%s: IsKeyFrame = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestFindSequenceHeader(t *testing.T) {
	if raw, seq, ok := FindSequenceHeader(join(td, metadata, seqOBU160, keyShown)); !ok || !bytes.Equal(raw, seqOBU160) || seq != seq160 {
		t.Errorf("got %x %+v %v", raw, seq, ok)
	}
	// Without a size field the sequence header takes the rest.
	noSize := append([]byte{0x08}, seqOBU160[2:]...)
	if raw, seq, ok := FindSequenceHeader(join(td, noSize)); !ok || !bytes.Equal(raw, noSize) || seq != seq160 {
		t.Errorf("no size field: got %x %+v %v", raw, seq, ok)
	}
	for _, tu := range [][]byte{nil, join(td, keyShown), {0xff}, join(td, []byte{0x0a, 0x01, 0xe0})} {
		if raw, _, ok := FindSequenceHeader(tu); ok || raw != nil {
			t.Errorf("FindSequenceHeader(%x) = %x, %v", tu, raw, ok)
		}
	}
}

func TestAppendStripTemporalDelimiters(t *testing.T) {
	for _, tt := range []struct {
		name string
		tu   []byte
		want []byte
		err  error
	}{
		{"td seq frame", join(td, seqOBU160, keyShown), join(seqOBU160, keyShown), nil},
		{"padding dropped", join(td, padding, interShown, padding), interShown, nil},
		{"only td", td, []byte{}, nil},
		{"no td", join(metadata, interShown), join(metadata, interShown), nil},
		// The last OBU has no size field: 0x30 becomes 0x32 + size 3.
		{"size field added", join(td, []byte{0x30, 0x10, 0x20, 0x30}), []byte{0x32, 0x03, 0x10, 0x20, 0x30}, nil},
		// With an extension header, the size goes after it.
		{"size field added after extension", join(td, []byte{0x34, 0x48, 0x10}), []byte{0x36, 0x48, 0x01, 0x10}, nil},
		{"td without size field", []byte{0x10}, []byte{}, nil},
		{"truncated", join(td, []byte{0x32, 0x05, 0x00}), nil, ErrShortOBU},
		{"forbidden bit", join(td, []byte{0xb2, 0x00}), nil, ErrForbiddenBit},
	} {
		dst := []byte("prefix")
		got, err := AppendStripTemporalDelimiters(dst, tt.tu)
		if err != tt.err {
			t.Errorf("%s: err = %v, want %v", tt.name, err, tt.err)
			continue
		}
		if err != nil {
			if string(got) != "prefix" {
				t.Errorf("%s: dst changed on error: %q", tt.name, got)
			}
			continue
		}
		if !bytes.Equal(got[6:], tt.want) || string(got[:6]) != "prefix" {
			t.Errorf("%s: got %x, want prefix+%x", tt.name, got, tt.want)
		}
	}
	// A 200-byte payload without size field needs a 2-byte leb128 size.
	big := append([]byte{0x30}, bytes.Repeat([]byte{7}, 200)...)
	got, err := AppendStripTemporalDelimiters(nil, big)
	if err != nil || !bytes.Equal(got[:3], []byte{0x32, 0xc8, 0x01}) || len(got) != 203 {
		t.Errorf("big: %x..., %v", got[:3], err)
	}
}

// encoding is one ffmpeg AV1 encoding for TestFFmpeg.
type encoding struct {
	name    string
	size    string
	frames  int
	args    []string
	profile string // ffprobe's profile name
	depth   int
	mono    bool
	ssx     bool
	ssy     bool
}

// TestFFmpeg encodes AV1 streams with libaom and SVT-AV1 and checks the
// parse against ffprobe, and the av1C record against the one ffmpeg
// writes into MP4 and Matroska.
func TestFFmpeg(t *testing.T) {
	aom := func(pixFmt string) []string {
		return []string{"-pix_fmt", pixFmt, "-c:v", "libaom-av1", "-usage", "realtime", "-cpu-used", "8", "-b:v", "200k", "-g", "3"}
	}
	for _, tt := range []encoding{
		{"aom-420", "636x358", 5, aom("yuv420p"), "Main", 8, false, true, true},
		{"aom-420-10", "64x48", 4, aom("yuv420p10le"), "Main", 10, false, true, true},
		{"aom-mono", "33x17", 4, aom("gray"), "Main", 8, true, true, true},
		{"aom-444", "64x48", 4, aom("yuv444p"), "High", 8, false, false, false},
		{"aom-rgb", "64x48", 4, aom("gbrp"), "High", 8, false, false, false},
		{"aom-422", "64x48", 4, aom("yuv422p"), "Professional", 8, false, true, false},
		{"aom-420-12", "64x48", 4, aom("yuv420p12le"), "Professional", 12, false, true, true},
		{"aom-444-12", "48x32", 4, aom("yuv444p12le"), "Professional", 12, false, false, false},
		{"aom-still", "100x50", 1, append(aom("yuv420p"), "-still-picture", "1"), "Main", 8, false, true, true},
		{"svt-420", "320x240", 6, []string{"-pix_fmt", "yuv420p", "-c:v", "libsvtav1", "-preset", "12", "-g", "4"}, "Main", 8, false, true, true},
		{"svt-420-10", "128x96", 4, []string{"-pix_fmt", "yuv420p10le", "-c:v", "libsvtav1", "-preset", "12", "-g", "2"}, "Main", 10, false, true, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			checkFFmpeg(t, tt)
		})
	}
}

func checkFFmpeg(t *testing.T, tt encoding) {
	dir := t.TempDir()
	args := []string{"-f", "lavfi", "-i", "testsrc2=size=640x360:rate=30",
		"-vf", "scale=" + strings.Replace(tt.size, "x", ":", 1), "-frames:v", strconv.Itoa(tt.frames)}
	args = append(args, tt.args...)
	path := mediatest.FFmpeg(t, dir, append(args, "out.ivf")...)
	tus := mediatest.IVFFrames(t, path)
	flags := mediatest.FFprobeLines(t, path, "-show_packets", "-show_entries", "packet=flags", "-of", "csv=p=0")
	if len(flags) != len(tus) || len(tus) != tt.frames {
		t.Fatalf("ffprobe: %d packets, IVF %d TUs, want %d", len(flags), len(tus), tt.frames)
	}
	info := mediatest.FFprobeLines(t, path, "-show_entries", "stream=width,height,profile,pix_fmt", "-of", "default=nw=1")
	probe := map[string]string{}
	for _, l := range info {
		k, v, _ := strings.Cut(l, "=")
		probe[k] = v
	}
	raw, seq, ok := FindSequenceHeader(tus[0])
	if !ok {
		t.Fatal("no sequence header in the first TU")
	}
	if got := fmt.Sprintf("%dx%d", seq.MaxFrameWidth, seq.MaxFrameHeight); got != probe["width"]+"x"+probe["height"] || got != tt.size {
		t.Errorf("max frame size %s, ffprobe %sx%s", got, probe["width"], probe["height"])
	}
	profiles := []string{"Main", "High", "Professional"}
	if profiles[seq.SeqProfile] != probe["profile"] || probe["profile"] != tt.profile {
		t.Errorf("profile %d, ffprobe %q", seq.SeqProfile, probe["profile"])
	}
	if seq.BitDepth() != tt.depth || seq.MonoChrome != tt.mono || seq.ChromaSubsamplingX != tt.ssx || seq.ChromaSubsamplingY != tt.ssy {
		t.Errorf("depth %d mono %v subsampling %v %v; pix_fmt %s", seq.BitDepth(), seq.MonoChrome, seq.ChromaSubsamplingX, seq.ChromaSubsamplingY, probe["pix_fmt"])
	}
	if tt.frames == 1 && !seq.ReducedStillPictureHeader && strings.Contains(tt.name, "still") {
		t.Errorf("still picture without reduced_still_picture_header")
	}
	for i, tu := range tus {
		wantKey := strings.HasPrefix(flags[i], "K")
		if got := IsKeyFrame(tu, nil); got != wantKey {
			t.Errorf("TU %d: IsKeyFrame(nil) = %v, ffprobe flags %q", i, got, flags[i])
		}
		if got := IsKeyFrame(tu, &seq); got != wantKey {
			t.Errorf("TU %d: IsKeyFrame(seq) = %v, ffprobe flags %q", i, got, flags[i])
		}
		stripped, err := AppendStripTemporalDelimiters(nil, tu)
		if err != nil {
			t.Fatalf("TU %d: %v", i, err)
		}
		for b := stripped; len(b) > 0; {
			o, rest, err := NextOBU(b)
			if err != nil || !o.HasSizeField || o.Type == OBUTemporalDelimiter {
				t.Fatalf("TU %d: stripped OBU %+v, %v", i, o, err)
			}
			b = rest
		}
	}
	rec := CodecConfigurationRecord(seq, raw)
	// ffmpeg's MP4 av1C.
	mp4 := mediatest.FFmpeg(t, dir, "-i", path, "-c", "copy", "out.mp4")
	if av1c := mediatest.MP4Box(t, mp4, "av1C"); !bytes.Equal(rec, av1c) {
		t.Errorf("CodecConfigurationRecord\n got %x\nwant %x (ffmpeg MP4)", rec, av1c)
	}
	// ffmpeg's Matroska CodecPrivate (ID 63 A2, 1-byte size here).
	mkv := mediatest.FFmpeg(t, dir, "-i", path, "-c", "copy", "out.mkv")
	data, err := os.ReadFile(mkv)
	if err != nil {
		t.Fatal(err)
	}
	i := bytes.Index(data, []byte{0x63, 0xa2})
	if i < 0 || data[i+2]&0x80 == 0 {
		t.Fatal("no CodecPrivate with a 1-byte size")
	}
	n := int(data[i+2] & 0x7f)
	if cp := data[i+3 : i+3+n]; !bytes.Equal(rec, cp) {
		t.Errorf("CodecConfigurationRecord\n got %x\nwant %x (ffmpeg Matroska)", rec, cp)
	}
}

// TestFFmpegOBU checks a raw low overhead OBU stream (ffmpeg -f obu)
// split into temporal units against ffprobe's packets.
func TestFFmpegOBU(t *testing.T) {
	dir := t.TempDir()
	path := mediatest.FFmpeg(t, dir, "-f", "lavfi", "-i", "testsrc2=size=176x144:rate=30", "-frames:v", "7", "-pix_fmt", "yuv420p",
		"-c:v", "libaom-av1", "-usage", "realtime", "-cpu-used", "8", "-g", "3", "-f", "obu", "out.obu")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	tus := readOBUs(t, data)
	flags := mediatest.FFprobeLines(t, path, "-show_packets", "-show_entries", "packet=flags", "-of", "csv=p=0")
	if len(flags) != len(tus) {
		t.Fatalf("%d TUs, ffprobe %d packets", len(tus), len(flags))
	}
	for i, tu := range tus {
		if got, want := IsKeyFrame(tu, nil), strings.HasPrefix(flags[i], "K"); got != want {
			t.Errorf("TU %d: IsKeyFrame = %v, want %v", i, got, want)
		}
	}
}

func FuzzNextOBU(f *testing.F) {
	for _, tt := range nextOBUTests {
		f.Add(tt.in)
	}
	if data, err := os.ReadFile("testdata/160x90.obu"); err == nil {
		f.Add(data[:200])
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		total := 0
		for rest := b; len(rest) > 0; {
			o, r, err := NextOBU(rest)
			if err != nil {
				break
			}
			if len(o.Raw) == 0 || len(o.Raw) != len(rest)-len(r) || len(o.Payload) > len(o.Raw) {
				t.Fatalf("bad split: %+v, rest %d", o, len(r))
			}
			total += len(o.Raw)
			rest = r
		}
		if total > len(b) {
			t.Fatal("OBUs longer than input")
		}
		out, err := AppendStripTemporalDelimiters(nil, b)
		if err == nil {
			again, err := AppendStripTemporalDelimiters(nil, out)
			if err != nil || !bytes.Equal(again, out) {
				t.Fatalf("strip not idempotent: %v", err)
			}
		}
	})
}

func FuzzParseSequenceHeader(f *testing.F) {
	for _, tt := range seqTests {
		f.Add(tt.payload)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := ParseSequenceHeader(b)
		if err != nil {
			if s != (SequenceHeader{}) {
				t.Fatalf("non-zero result with error")
			}
			return
		}
		if s.SeqProfile > 2 || s.BitDepth() == 12 && s.SeqProfile != 2 || s.MaxFrameWidth == 0 || s.MaxFrameWidth > 1<<16 {
			t.Fatalf("bad result %+v", s)
		}
		rec := CodecConfigurationRecord(s, append([]byte{0x0a, byte(len(b))}, b...))
		if len(rec) < 4 || rec[0] != 0x81 {
			t.Fatalf("bad av1C %x", rec)
		}
	})
}

func FuzzIsKeyFrame(f *testing.F) {
	f.Add(join(td, seqOBU160, keyShown), false)
	f.Add(join(td, keyShown), true)
	f.Add(join(td, seqOBU160, showExisted, keyShown), false)
	if data, err := os.ReadFile("testdata/still.obu"); err == nil {
		f.Add(data, false)
	}
	f.Fuzz(func(t *testing.T, b []byte, useSeq bool) {
		var seq *SequenceHeader
		if useSeq {
			seq = &seq160
		}
		key := IsKeyFrame(b, seq)
		if key && !useSeq {
			if _, _, ok := FindSequenceHeader(b); !ok {
				t.Fatal("key frame without sequence header and seq nil")
			}
		}
	})
}

func BenchmarkIsKeyFrame(b *testing.B) {
	data, err := os.ReadFile("testdata/160x90.obu")
	if err != nil {
		b.Fatal(err)
	}
	tus := readOBUs(b, data)
	b.ReportAllocs()
	for b.Loop() {
		if !IsKeyFrame(tus[0], nil) || IsKeyFrame(tus[1], &seq160) {
			b.Fatal("wrong")
		}
	}
}

func BenchmarkAppendStripTemporalDelimiters(b *testing.B) {
	data, err := os.ReadFile("testdata/160x90.obu")
	if err != nil {
		b.Fatal(err)
	}
	tus := readOBUs(b, data)
	dst := make([]byte, 0, 8192)
	b.ReportAllocs()
	b.SetBytes(int64(len(tus[0])))
	for b.Loop() {
		var err error
		if dst, err = AppendStripTemporalDelimiters(dst[:0], tus[0]); err != nil {
			b.Fatal(err)
		}
	}
}

func ExampleCodecConfigurationRecord() {
	tu := []byte{
		0x12, 0x00, // temporal delimiter
		0x0a, 0x0a, 0x00, 0x00, 0x00, 0x03, 0xb4, 0xfd, 0x93, 0x6b, 0xe4, 0x01, // sequence header
		0x32, 0x02, 0x10, 0x00, // frame (cut short): KEY_FRAME, show_frame
	}
	raw, seq, ok := FindSequenceHeader(tu)
	if !ok {
		panic("no sequence header")
	}
	fmt.Println(seq.MaxFrameWidth, seq.MaxFrameHeight, seq.BitDepth(), IsKeyFrame(tu, nil))
	fmt.Printf("% x\n", CodecConfigurationRecord(seq, raw))
	// Output:
	// 160 90 8 true
	// 81 00 0c 00 0a 0a 00 00 00 03 b4 fd 93 6b e4 01
}
