package vp8

import (
	"testing"

	"github.com/gomediarecorder/mediarecorder/internal/mediatest"
)

// TestParseUpdatesTestdata: libvpx without temporal layers refreshes the
// last frame with every inter frame, and keeps its probability updates.
func TestParseUpdatesTestdata(t *testing.T) {
	for i, f := range mediatest.IVFFrames(t, "testdata/636x358.ivf") {
		u, ok, err := ParseUpdates(f)
		if err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		key := i == 0 || i == 3
		if ok == key {
			t.Errorf("frame %d: inter %v, want %v", i, ok, !key)
		}
		if !key && (!u.RefreshLast || !u.RefreshEntropy || u.Discardable() || IsDiscardable(f)) {
			t.Errorf("frame %d: %+v", i, u)
		}
	}
}

func TestParseUpdatesErrors(t *testing.T) {
	frames := mediatest.IVFFrames(t, "testdata/636x358.ivf")
	inter := frames[1]
	for _, n := range []int{0, 2, 3, 4} {
		if _, _, err := ParseUpdates(inter[:n]); err != ErrShortFrame {
			t.Errorf("%d bytes: %v, want ErrShortFrame", n, err)
		}
	}
	if IsDiscardable(inter[:4]) || IsDiscardable(frames[0]) {
		t.Error("a short frame or a key frame is discardable")
	}
	// A tag that says inter frame, then bytes the bool decoder reads as
	// zeros: no update at all.
	u, ok, err := ParseUpdates([]byte{0x01, 0x00, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0})
	if err != nil || !ok || !u.Discardable() {
		t.Errorf("all-zero header: %+v, %v, %v", u, ok, err)
	}
}

func FuzzParseUpdates(f *testing.F) {
	for _, fr := range mediatest.IVFFrames(f, "testdata/636x358.ivf") {
		f.Add(fr[:min(len(fr), 64)])
	}
	f.Add([]byte{0x01, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		u, ok, err := ParseUpdates(b)
		if (err != nil || !ok) && u != (Updates{}) {
			t.Errorf("updates %+v with ok %v, error %v", u, ok, err)
		}
		if u.AllLoopFilterDeltas && !u.LoopFilterDeltas {
			t.Errorf("all deltas but no delta update: %+v", u)
		}
		if IsDiscardable(b) != (err == nil && ok && u.Discardable()) {
			t.Error("IsDiscardable disagrees with ParseUpdates")
		}
	})
}
