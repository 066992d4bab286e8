package rtpsource

import (
	"testing"
	"time"
)

func TestVP8Descriptor(t *testing.T) {
	for _, tc := range []struct {
		name      string
		p         []byte
		id        uint16
		bits      uint8
		idOK      bool
		tid, tl0  uint8
		sync, tOK bool
	}{
		{"7-bit picture ID", []byte{0x90, 0x80, 0x05, 0}, 5, 7, true, 0, 0, false, false},
		{"15-bit picture ID", []byte{0x90, 0x80, 0x81, 0x02, 0}, 258, 15, true, 0, 0, false, false},
		{"15-bit picture ID cut short", []byte{0x90, 0x80, 0x81}, 0, 0, false, 0, 0, false, false},
		{"no extensions", []byte{0x10, 0}, 0, 0, false, 0, 0, false, false},
		{"no picture ID", []byte{0x90, 0x00, 0x05}, 0, 0, false, 0, 0, false, false},
		{"picture ID and layers", []byte{0x90, 0xe0, 0x05, 0x07, 0x60, 0}, 5, 7, true, 1, 7, true, true},
		{"15-bit picture ID and layers", []byte{0x90, 0xe0, 0x85, 0x01, 0x07, 0x40, 0}, 0x501, 15, true, 1, 7, false, true},
		{"layers without picture ID", []byte{0x90, 0x60, 0x09, 0x80, 0}, 0, 0, false, 2, 9, false, true},
		{"TID without TL0PICIDX", []byte{0x90, 0x20, 0x80, 0}, 0, 0, false, 0, 0, false, false},
		{"layers cut short", []byte{0x90, 0x60, 0x09}, 0, 0, false, 0, 0, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id, bits, ok := vp8PictureID(tc.p)
			if ok != tc.idOK || ok && (id != tc.id || bits != tc.bits) {
				t.Errorf("vp8PictureID = %d, %d, %v; want %d, %d, %v", id, bits, ok, tc.id, tc.bits, tc.idOK)
			}
			tid, sync, tl0, ok := vp8Layers(tc.p)
			if ok != tc.tOK || ok && (tid != tc.tid || sync != tc.sync || tl0 != tc.tl0) {
				t.Errorf("vp8Layers = %d, %v, %d, %v; want %d, %v, %d, %v", tid, sync, tl0, ok, tc.tid, tc.sync, tc.tl0, tc.tOK)
			}
		})
	}
}

func TestVP9PictureID(t *testing.T) {
	for _, tc := range []struct {
		p    []byte
		id   uint16
		bits uint8
		ok   bool
	}{
		{[]byte{0x80, 0x05}, 5, 7, true},
		{[]byte{0x88, 0x81, 0x02}, 258, 15, true},
		{[]byte{0x08, 0x05}, 0, 0, false},
		{[]byte{0x80, 0x81}, 0, 0, false},
		{[]byte{0x80}, 0, 0, false},
	} {
		id, bits, ok := vp9PictureID(tc.p)
		if ok != tc.ok || ok && (id != tc.id || bits != tc.bits) {
			t.Errorf("vp9PictureID(%x) = %d, %d, %v; want %d, %d, %v", tc.p, id, bits, ok, tc.id, tc.bits, tc.ok)
		}
	}
}

func TestH264PacketRefIdc(t *testing.T) {
	for _, tc := range []struct {
		name string
		p    []byte
		nri  uint8
		ok   bool
	}{
		{"IDR slice", []byte{0x65, 0x88}, 3, true},
		{"non-reference slice", []byte{0x01, 0x88}, 0, true},
		{"reference slice", []byte{0x41, 0x88}, 2, true},
		{"SPS: a key frame", []byte{0x67, 0x42}, 3, true},
		{"SEI", []byte{0x06, 0x05}, 0, false},
		{"STAP-A with an SPS", []byte{0x78, 0, 1, 0x67, 0, 1, 0x41}, 3, true},
		{"STAP-A: SEI and a slice", []byte{0x78, 0, 1, 0x06, 0, 1, 0x21}, 1, true},
		{"STAP-A: SEI only", []byte{0x78, 0, 1, 0x06}, 0, false},
		{"STAP-A with a bad length", []byte{0x78, 0, 9, 0x41}, 0, false},
		{"FU-A of an IDR slice", []byte{0x7c, 0x85, 0x88}, 3, true},
		{"FU-A of a non-reference slice", []byte{0x1c, 0x01, 0x88}, 0, true},
		{"FU-A of an SPS", []byte{0x7c, 0x87, 0x42}, 0, false},
		{"FU-A cut short", []byte{0x7c}, 0, false},
		{"empty", nil, 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			nri, ok := h264PacketRefIdc(tc.p)
			if ok != tc.ok || nri != tc.nri {
				t.Errorf("h264PacketRefIdc = %d, %v; want %d, %v", nri, ok, tc.nri, tc.ok)
			}
		})
	}
}

// TestFacts reads a frame's facts from its first packet (VP8) through the
// reorder window.
func TestFacts(t *testing.T) {
	w := newReorderWindow(time.Second)
	w.restart(0)
	w.insert(0, packet{}, []byte{0xb0, 0xe0, 0x05, 0x07, 0x60, 0}) // X N S; I L T; picture ID 5; TL0PICIDX 7; TID 1 Y
	w.insert(1, packet{}, []byte{0x80, 0xe0, 0x05, 0x07, 0x60, 0})
	l := newLossState(codecVP8)
	f := l.facts(&w, 0, 1)
	want := frameFacts{picID: 5, picBits: 7, nBit: true, hasTL: true, tid: 1, sync: true, tl0: 7, refIdc: -1, frameNum: -1}
	if f != want {
		t.Errorf("facts %+v, want %+v", f, want)
	}
	l = newLossState(codecOpus)
	if f := l.facts(&w, 0, 1); f.picID != -1 || f.refIdc != -1 || f.frameNum != -1 {
		t.Errorf("Opus facts %+v", f)
	}
}
