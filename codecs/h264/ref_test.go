package h264

import (
	"bytes"
	"errors"
	"io"
	"os"
	"testing"
)

func TestNALRefIDC(t *testing.T) {
	for _, tc := range []struct {
		nalu []byte
		want uint8
	}{{nil, 0}, {[]byte{0x01}, 0}, {[]byte{0x21}, 1}, {[]byte{0x41}, 2}, {[]byte{0x65}, 3}, {[]byte{0x67, 0x42}, 3}} {
		if got := NALRefIDC(tc.nalu); got != tc.want {
			t.Errorf("NALRefIDC(% x) = %d, want %d", tc.nalu, got, tc.want)
		}
	}
}

func TestSliceFrameNum(t *testing.T) {
	sps := SPS{Log2MaxFrameNum: 4}
	// first_mb_in_slice 0 (1), slice_type 5 (00110), pps 0 (1), frame_num
	// 0b1011: 1 00110 1 1011 ...
	slice := []byte{0x41, 0b1001_1011, 0b0110_0000}
	if fn, ok := SliceFrameNum(slice, &sps); !ok || fn != 11 {
		t.Errorf("frame_num %d, %v; want 11", fn, ok)
	}
	// With colour_plane_id (2 bits) before it: 1 00110 1 00 1011.
	sep := SPS{Log2MaxFrameNum: 4, SeparateColourPlane: true}
	if fn, ok := SliceFrameNum([]byte{0x41, 0b1001_1010, 0b0101_1000}, &sep); !ok || fn != 11 {
		t.Errorf("separate colour planes: frame_num %d, %v; want 11", fn, ok)
	}
	for _, tc := range []struct {
		name string
		nalu []byte
		sps  SPS
	}{
		{"short", slice[:2], sps},
		{"SPS", []byte{0x67, 0xff, 0xff}, sps},
		{"partition B", []byte{0x43, 0xff, 0xff}, sps},
		{"no SPS", slice, SPS{}},
		{"empty", nil, sps},
	} {
		if fn, ok := SliceFrameNum(tc.nalu, &tc.sps); ok {
			t.Errorf("%s: frame_num %d", tc.name, fn)
		}
	}
}

// TestSliceFrameNumTestdata: frame_num counts the reference pictures of
// the testdata stream (x264: B-frames are references with b-pyramid, so
// every picture of this stream is one).
func TestSliceFrameNumTestdata(t *testing.T) {
	b, err := os.ReadFile("testdata/high-636x358.h264")
	if err != nil {
		t.Fatal(err)
	}
	var sps SPS
	r := NewAccessUnitReader(bytes.NewReader(b))
	prevRef, n := -1, 0
	for {
		au, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		for rest := au; ; {
			var nalu []byte
			nalu, rest = NextNALU(rest)
			if nalu == nil {
				break
			}
			switch NALUType(nalu) {
			case NALUTypeSPS:
				if sps, err = ParseSPS(nalu); err != nil {
					t.Fatal(err)
				}
			case NALUTypeIDR, NALUTypeNonIDR:
				fn, ok := SliceFrameNum(nalu, &sps)
				want := (prevRef + 1) % (1 << sps.Log2MaxFrameNum)
				if NALUType(nalu) == NALUTypeIDR {
					want = 0
				}
				if !ok || int(fn) != want {
					t.Fatalf("access unit %d: frame_num %d, %v; want %d", n, fn, ok, want)
				}
				if NALRefIDC(nalu) != 0 {
					prevRef = int(fn)
				}
				rest = nil // one slice per picture is enough
			}
		}
		n++
	}
	if n == 0 {
		t.Fatal("no access units")
	}
}

func FuzzSliceFrameNum(f *testing.F) {
	f.Add([]byte{0x41, 0b1001_1011, 0b0110_0000}, uint8(4), false)
	f.Add([]byte{0x65, 0x00, 0x00, 0x03, 0x01, 0x88}, uint8(16), true)
	f.Fuzz(func(t *testing.T, b []byte, log2 uint8, sep bool) {
		sps := SPS{Log2MaxFrameNum: log2, SeparateColourPlane: sep}
		fn, ok := SliceFrameNum(b, &sps)
		if ok && (log2 < 4 || log2 > 16 || fn >= 1<<log2) {
			t.Errorf("frame_num %d with log2 %d", fn, log2)
		}
	})
}
