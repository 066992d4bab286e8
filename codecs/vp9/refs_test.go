package vp9

import (
	"testing"

	"github.com/gomediarecorder/mediarecorder/internal/mediatest"
)

func TestRefreshFrameFlags(t *testing.T) {
	tests := []struct {
		name  string
		frame []byte
		flags uint8
		indep bool
		err   error
	}{
		// frame_marker 2, profile 0, show_existing_frame 0, frame_type 1,
		// show_frame 1, error_resilient_mode 1, refresh_frame_flags.
		{"inter, error resilient, stored nowhere", []byte{0b1000_0111, 0b0000_0000, 0b0_0000000}, 0, true, nil},
		{"inter, error resilient, slot 0", []byte{0b1000_0111, 0b0000_0001}, 1, true, nil},
		// error_resilient_mode 0: reset_frame_context (2 bits) first.
		{"inter, slots 0-7", []byte{0b1000_0110, 0b0011_1111, 0b1100_0000}, 0xff, false, nil},
		{"inter, short", []byte{0b1000_0111}, 0, false, ErrShortFrame},
		{"show existing frame", []byte{0b1000_1010}, 0, false, nil},
		{"not vp9", []byte{0x00, 0x00}, 0, false, ErrFrameMarker},
		{"empty", nil, 0, false, ErrShortFrame},
	}
	for _, tc := range tests {
		flags, err := RefreshFrameFlags(tc.frame)
		if flags != tc.flags || err != tc.err {
			t.Errorf("%s: RefreshFrameFlags = %08b, %v; want %08b, %v", tc.name, flags, err, tc.flags, tc.err)
		}
		if got := IndependentOfPast(tc.frame); got != tc.indep {
			t.Errorf("%s: IndependentOfPast = %v, want %v", tc.name, got, tc.indep)
		}
	}
}

// TestRefreshFrameFlagsTestdata: the key frame stores itself everywhere,
// every other frame (libvpx two-pass, no temporal layers) somewhere.
func TestRefreshFrameFlagsTestdata(t *testing.T) {
	for i, f := range mediatest.IVFFrames(t, "testdata/superframe.ivf") {
		flags, err := RefreshFrameFlags(f)
		if err != nil || (i == 0) != (flags == 0xff) || flags == 0 {
			t.Errorf("frame %d: %08b, %v", i, flags, err)
		}
		if IndependentOfPast(f) != (i == 0) {
			t.Errorf("frame %d: IndependentOfPast %v", i, !(i == 0))
		}
	}
}

func FuzzRefreshFrameFlags(f *testing.F) {
	f.Add([]byte{0b1000_0111, 0b0000_0000, 0b0_0000000})
	f.Add([]byte{0b1000_0110, 0b0011_1111, 0b1100_0000})
	f.Add([]byte{0x82, 0x49, 0x83, 0x42, 0x00})
	f.Fuzz(func(t *testing.T, b []byte) {
		flags, err := RefreshFrameFlags(b)
		if err != nil && flags != 0 {
			t.Errorf("flags %08b with error %v", flags, err)
		}
		if IsKeyFrame(b) && err == nil && flags != 0xff {
			t.Errorf("key frame with flags %08b", flags)
		}
		IndependentOfPast(b)
	})
}
