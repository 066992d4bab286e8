package mediatest

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"testing"
)

// buildIVF returns an IVF file holding h and frames.
func buildIVF(h IVFHeader, frames []IVFFrame) []byte {
	b := []byte("DKIF")
	b = binary.LittleEndian.AppendUint16(b, 0)
	b = binary.LittleEndian.AppendUint16(b, ivfHeaderSize)
	b = append(b, h.FourCC...)
	b = binary.LittleEndian.AppendUint16(b, h.Width)
	b = binary.LittleEndian.AppendUint16(b, h.Height)
	b = binary.LittleEndian.AppendUint32(b, h.TimebaseDen)
	b = binary.LittleEndian.AppendUint32(b, h.TimebaseNum)
	b = binary.LittleEndian.AppendUint32(b, h.NumFrames)
	b = binary.LittleEndian.AppendUint32(b, 0)
	for _, f := range frames {
		b = binary.LittleEndian.AppendUint32(b, uint32(len(f.Data)))
		b = binary.LittleEndian.AppendUint64(b, uint64(f.PTS))
		b = append(b, f.Data...)
	}
	return b
}

var ivfTestHeader = IVFHeader{FourCC: "VP80", Width: 64, Height: 48, TimebaseDen: 1000, TimebaseNum: 1, NumFrames: 2}

var ivfTestFrames = []IVFFrame{{PTS: 0, Data: []byte{1, 2, 3}}, {PTS: 33, Data: []byte{4}}}

func TestParseIVF(t *testing.T) {
	h, frames, err := parseIVF(buildIVF(ivfTestHeader, ivfTestFrames))
	if err != nil {
		t.Fatal(err)
	}
	if h != ivfTestHeader {
		t.Errorf("header %+v, want %+v", h, ivfTestHeader)
	}
	if fmt.Sprint(frames) != fmt.Sprint(ivfTestFrames) {
		t.Errorf("frames %v, want %v", frames, ivfTestFrames)
	}
	// Appending to one frame must not overwrite the next.
	_ = append(frames[0].Data, 0xFF)
	if frames[1].Data[0] != 4 {
		t.Error("frame data slices share capacity")
	}

	// A longer header is skipped.
	long := buildIVF(ivfTestHeader, nil)
	binary.LittleEndian.PutUint16(long[6:], 36)
	long = append(long, 0, 0, 0, 0)
	long = append(long, buildIVF(ivfTestHeader, ivfTestFrames)[ivfHeaderSize:]...)
	if _, frames, err := parseIVF(long); err != nil || len(frames) != 2 {
		t.Errorf("36-byte header: %d frames, %v", len(frames), err)
	}

	// A file without frames is valid.
	if _, frames, err := parseIVF(buildIVF(ivfTestHeader, nil)); err != nil || len(frames) != 0 {
		t.Errorf("no frames: %d frames, %v", len(frames), err)
	}
}

func TestParseIVFErrors(t *testing.T) {
	good := buildIVF(ivfTestHeader, ivfTestFrames)
	edit := func(f func(b []byte) []byte) []byte { return f(bytes.Clone(good)) }
	tests := []struct {
		name       string
		data       []byte
		wantFrames int // frames returned with the error
	}{
		{"empty", nil, 0},
		{"short header", good[:31], 0},
		{"bad signature", edit(func(b []byte) []byte { b[0] = 'X'; return b }), 0},
		{"bad version", edit(func(b []byte) []byte { b[4] = 1; return b }), 0},
		{"header length 16", edit(func(b []byte) []byte { b[6] = 16; return b }), 0},
		{"header length past end", edit(func(b []byte) []byte { b[6], b[7] = 0xFF, 0xFF; return b }), 0},
		{"truncated frame header", good[:32+12+3+5], 1},
		{"truncated frame", good[:len(good)-1], 1},
		{"huge frame size", edit(func(b []byte) []byte { binary.LittleEndian.PutUint32(b[32:], 0xFFFFFFFF); return b }), 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, frames, err := parseIVF(tc.data)
			if !errors.Is(err, ErrInvalidIVF) {
				t.Errorf("err = %v, want ErrInvalidIVF", err)
			}
			if len(frames) != tc.wantFrames {
				t.Errorf("%d frames returned, want %d", len(frames), tc.wantFrames)
			}
		})
	}
	if _, _, err := ReadIVF("no/such/file.ivf"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}

func FuzzParseIVF(f *testing.F) {
	f.Add(buildIVF(ivfTestHeader, ivfTestFrames))
	f.Add(buildIVF(ivfTestHeader, nil))
	f.Add([]byte("DKIF"))
	for _, name := range []string{"vp8.ivf", "av1.ivf"} {
		if b, err := os.ReadFile("../../testdata/" + name); err == nil {
			f.Add(b[:min(len(b), 4096)])
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		h, frames, err := parseIVF(data)
		if err != nil {
			if !errors.Is(err, ErrInvalidIVF) {
				t.Fatalf("error %v does not wrap ErrInvalidIVF", err)
			}
			return
		}
		// A valid file survives a round trip when its header is 32 bytes.
		if binary.LittleEndian.Uint16(data[6:]) != ivfHeaderSize {
			return
		}
		if rebuilt := buildIVF(h, frames); !bytes.Equal(rebuilt[:24], data[:24]) || !bytes.Equal(rebuilt[32:], data[32:]) {
			t.Fatalf("round trip differs")
		}
	})
}

func ExampleReadIVF() {
	h, frames, err := ReadIVF("../../testdata/vp8-resize.ivf")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%s %dx%d, time base %d/%d, %d frames\n",
		h.FourCC, h.Width, h.Height, h.TimebaseNum, h.TimebaseDen, len(frames))
	fmt.Println("last frame PTS:", frames[len(frames)-1].PTS)
	// Output:
	// VP80 320x240, time base 1/30, 60 frames
	// last frame PTS: 59
}
