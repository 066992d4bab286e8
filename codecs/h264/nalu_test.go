package h264

import (
	"bytes"
	"fmt"
	"os"
	"testing"
)

func TestNALUType(t *testing.T) {
	for _, tt := range []struct {
		nalu []byte
		want uint8
	}{
		{nil, 0},
		{[]byte{0x67, 0x64}, NALUTypeSPS},
		{[]byte{0x68}, NALUTypePPS},
		{[]byte{0x65}, NALUTypeIDR},
		{[]byte{0x41}, NALUTypeNonIDR},
		{[]byte{0x09, 0x10}, NALUTypeAUD},
		{[]byte{0x06}, NALUTypeSEI},
		{[]byte{0xff}, 31},
	} {
		if got := NALUType(tt.nalu); got != tt.want {
			t.Errorf("NALUType(%x) = %d, want %d", tt.nalu, got, tt.want)
		}
	}
}

func TestIsAnnexB(t *testing.T) {
	for _, tt := range []struct {
		b    []byte
		want bool
	}{
		{[]byte{0, 0, 1, 0x67}, true},
		{[]byte{0, 0, 0, 1, 0x67}, true},
		{[]byte{0, 0, 1}, true},
		{[]byte{0, 0, 0, 1}, true},
		{[]byte{0, 0, 0, 0x1c, 0x67}, false}, // a 4-byte length
		{[]byte{0, 0, 0}, false},
		{[]byte{0, 0}, false},
		{[]byte{0x67, 0, 0, 1}, false},
		{nil, false},
	} {
		if got := IsAnnexB(tt.b); got != tt.want {
			t.Errorf("IsAnnexB(%x) = %v, want %v", tt.b, got, tt.want)
		}
	}
}

var nextNALUTests = []struct {
	name  string
	in    []byte
	nalus [][]byte
}{
	{"4-byte start codes", []byte{0, 0, 0, 1, 0x67, 1, 2, 0, 0, 0, 1, 0x68, 3}, [][]byte{{0x67, 1, 2}, {0x68, 3}}},
	{"3-byte start codes", []byte{0, 0, 1, 0x67, 1, 2, 0, 0, 1, 0x68, 3}, [][]byte{{0x67, 1, 2}, {0x68, 3}}},
	{"leading zeros", []byte{0, 0, 0, 0, 0, 0, 1, 0x09, 0xf0}, [][]byte{{0x09, 0xf0}}},
	{"leading garbage", []byte{0xde, 0xad, 0, 1, 0, 0, 1, 0x65, 0x88}, [][]byte{{0x65, 0x88}}},
	{"trailing zeros", []byte{0, 0, 1, 0x65, 0x88, 0, 0, 0, 0, 0, 0, 1, 0x41, 0x9a, 0, 0}, [][]byte{{0x65, 0x88}, {0x41, 0x9a}}},
	{"empty nal units skipped", []byte{0, 0, 1, 0, 0, 1, 0, 0, 0, 1, 0x41, 0, 0, 1}, [][]byte{{0x41}}},
	// 00 00 03 is emulation prevention inside a NAL unit, not a start code.
	{"emulation prevention kept", []byte{0, 0, 1, 0x67, 0, 0, 3, 1, 0, 0, 1, 0x68}, [][]byte{{0x67, 0, 0, 3, 1}, {0x68}}},
	{"no start code", []byte{0x67, 0x64, 0, 0x1e}, nil},
	{"start code only", []byte{0, 0, 0, 1}, nil},
	{"empty", nil, nil},
	{"01 at the start", []byte{1, 0, 0, 1, 0x41}, [][]byte{{0x41}}},
}

func TestNextNALU(t *testing.T) {
	for _, tt := range nextNALUTests {
		var got [][]byte
		for b := tt.in; ; {
			var nalu []byte
			nalu, b = NextNALU(b)
			if nalu == nil {
				break
			}
			got = append(got, nalu)
		}
		if fmt.Sprintf("%x", got) != fmt.Sprintf("%x", tt.nalus) {
			t.Errorf("%s: got %x, want %x", tt.name, got, tt.nalus)
		}
	}
	// nalu has no spare capacity: appending to it cannot overwrite b.
	b := []byte{0, 0, 1, 0x41, 0x9a, 0, 0, 1, 0x41}
	nalu, _ := NextNALU(b)
	_ = append(nalu, 0xff)
	if b[5] != 0 {
		t.Error("append to nalu overwrote the stream")
	}
}

func TestAppendAVCC(t *testing.T) {
	for _, tt := range []struct {
		name string
		au   []byte
		want []byte
	}{
		{"sps pps idr, aud dropped", []byte{0, 0, 0, 1, 0x09, 0xf0, 0, 0, 0, 1, 0x67, 0x42, 0, 0, 1, 0x68, 0xce, 0, 0, 1, 0x65, 0x88, 0x84},
			[]byte{0, 0, 0, 2, 0x67, 0x42, 0, 0, 0, 2, 0x68, 0xce, 0, 0, 0, 3, 0x65, 0x88, 0x84}},
		{"sei kept", []byte{0, 0, 1, 0x06, 0x05, 0x80, 0, 0, 1, 0x41, 0x9a},
			[]byte{0, 0, 0, 3, 0x06, 0x05, 0x80, 0, 0, 0, 2, 0x41, 0x9a}},
		{"only aud", []byte{0, 0, 0, 1, 0x09, 0xf0}, []byte{}},
		{"empty", nil, []byte{}},
	} {
		got := AppendAVCC([]byte("x"), tt.au)
		if !bytes.Equal(got[1:], tt.want) || got[0] != 'x' {
			t.Errorf("%s: got %x, want x+%x", tt.name, got, tt.want)
		}
		if n := AVCCLen(tt.au); n != len(tt.want) {
			t.Errorf("%s: AVCCLen = %d, want %d", tt.name, n, len(tt.want))
		}
		back, ok := AppendAnnexB(nil, tt.want)
		if !ok || !bytes.Equal(AppendAVCC(nil, back), tt.want) {
			t.Errorf("%s: AppendAnnexB round trip: %x %v", tt.name, back, ok)
		}
	}
	au, err := os.ReadFile("testdata/high-636x358.h264")
	if err != nil {
		t.Fatal(err)
	}
	dst := make([]byte, 0, len(au))
	if allocs := testing.AllocsPerRun(10, func() { dst = AppendAVCC(dst[:0], au) }); allocs != 0 {
		t.Errorf("AppendAVCC allocates %v times", allocs)
	}
}

func TestAppendAnnexB(t *testing.T) {
	for _, tt := range []struct {
		in   []byte
		want []byte
		ok   bool
	}{
		{[]byte{0, 0, 0, 1, 0x09, 0, 0, 0, 2, 0x41, 0x9a}, []byte{0, 0, 0, 1, 0x09, 0, 0, 0, 1, 0x41, 0x9a}, true},
		{nil, nil, true},
		{[]byte{0, 0, 0, 3, 0x41}, nil, false},
		{[]byte{0, 0, 0}, nil, false},
		{[]byte{0xff, 0xff, 0xff, 0xff, 0x41}, nil, false},
	} {
		got, ok := AppendAnnexB(nil, tt.in)
		if ok != tt.ok || !bytes.Equal(got, tt.want) {
			t.Errorf("AppendAnnexB(%x) = %x, %v; want %x, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestRemoveEmulationPrevention(t *testing.T) {
	for _, tt := range []struct {
		in, want []byte
	}{
		{[]byte{0x64, 0, 0x1e}, []byte{0x64, 0, 0x1e}},
		{[]byte{0, 0, 3, 1}, []byte{0, 0, 1}},
		{[]byte{0, 0, 3, 0, 0, 3, 0}, []byte{0, 0, 0, 0, 0}},
		{[]byte{0x40, 0, 0, 3, 0, 0x40}, []byte{0x40, 0, 0, 0, 0x40}},
		{[]byte{0, 0, 3}, []byte{0, 0}}, // at the end (cabac_zero_word)
		{[]byte{0, 3, 0, 3}, []byte{0, 3, 0, 3}},
		{[]byte{0, 0, 3, 3}, []byte{0, 0, 3}},       // only the first 03 goes
		{[]byte{0, 0, 3, 0, 3}, []byte{0, 0, 0, 3}}, // 03 00 03: not after 00 00
		{nil, nil},
	} {
		if got := RemoveEmulationPrevention(nil, tt.in); !bytes.Equal(got, tt.want) {
			t.Errorf("RemoveEmulationPrevention(%x) = %x, want %x", tt.in, got, tt.want)
		}
	}
}

func TestIsKeyFrame(t *testing.T) {
	for _, tt := range []struct {
		name string
		au   []byte
		want bool
	}{
		{"idr", []byte{0, 0, 0, 1, 0x09, 0x10, 0, 0, 0, 1, 0x67, 0x64, 0, 0, 1, 0x65, 0x88}, true},
		{"non-idr", []byte{0, 0, 0, 1, 0x09, 0x30, 0, 0, 1, 0x41, 0x9a}, false},
		{"sps only", []byte{0, 0, 0, 1, 0x67, 0x64}, false},
		{"no start code", []byte{0x65, 0x88}, false},
		{"empty", nil, false},
		{"idr with nal_ref_idc 1", []byte{0, 0, 1, 0x25, 0xb8}, true},
	} {
		if got := IsKeyFrame(tt.au); got != tt.want {
			t.Errorf("%s: IsKeyFrame = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func FuzzNextNALU(f *testing.F) {
	for _, tt := range nextNALUTests {
		f.Add(tt.in)
	}
	if data, err := os.ReadFile("testdata/high-636x358.h264"); err == nil {
		f.Add(data[:300])
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		n, total := 0, 0
		for rest := b; ; {
			var nalu []byte
			nalu, rest = NextNALU(rest)
			if nalu == nil {
				break
			}
			if len(nalu) == 0 || nalu[len(nalu)-1] == 0 || findStartCode(nalu) >= 0 {
				t.Fatalf("bad NAL unit %x", nalu)
			}
			n++
			total += len(nalu)
		}
		avcc := AppendAVCC(nil, b)
		if len(avcc) != AVCCLen(b) || len(avcc) > total+4*n {
			t.Fatalf("AVCC length %d, AVCCLen %d, NAL units %d bytes", len(avcc), AVCCLen(b), total)
		}
		annexB, ok := AppendAnnexB(nil, avcc)
		if !ok || !bytes.Equal(AppendAVCC(nil, annexB), avcc) {
			t.Fatal("AVCC -> Annex B -> AVCC round trip differs")
		}
		IsKeyFrame(b)
		RemoveEmulationPrevention(nil, b)
	})
}

func BenchmarkAppendAVCC(b *testing.B) {
	au, err := os.ReadFile("testdata/high-636x358.h264")
	if err != nil {
		b.Fatal(err)
	}
	dst := make([]byte, 0, len(au))
	b.ReportAllocs()
	b.SetBytes(int64(len(au)))
	for b.Loop() {
		dst = AppendAVCC(dst[:0], au)
	}
}

func BenchmarkIsKeyFrame(b *testing.B) {
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
	b.SetBytes(int64(len(aus[1])))
	for b.Loop() {
		if IsKeyFrame(aus[1]) {
			b.Fatal("key")
		}
	}
}

func ExampleAppendAVCC() {
	au := []byte{
		0, 0, 0, 1, 0x09, 0xf0, // access unit delimiter
		0, 0, 1, 0x65, 0x88, 0x84, // IDR slice (cut short)
	}
	fmt.Println(IsKeyFrame(au))
	fmt.Printf("% x\n", AppendAVCC(nil, au))
	// Output:
	// true
	// 00 00 00 03 65 88 84
}
