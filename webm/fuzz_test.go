package webm

import (
	"bytes"
	"testing"
	"time"
)

// FuzzWriter drives the writer with arbitrary frames (track numbers,
// timestamps, key flags and sizes taken from the input) in both modes and
// checks that nothing panics, rejected frames leave the writer usable, and
// the output parses with every accepted frame in it.
func FuzzWriter(f *testing.F) {
	f.Add([]byte{1, 0, 0, 1, 5, 2, 0, 20, 1, 3, 1, 0, 33, 0, 4}, false)
	f.Add([]byte{1, 0, 0, 1, 5, 2, 0x7F, 0xFF, 1, 3, 2, 0x80, 0x00, 1, 3, 1, 0xFF, 0xFF, 1, 0}, true)
	f.Add([]byte{3, 0, 0, 1, 5, 2, 0, 0, 0, 0, 1, 0x40, 0, 1, 9}, true)
	f.Fuzz(func(t *testing.T, in []byte, seekable bool) {
		m := &memFile{}
		w, err := NewWriter(m, Options{
			Tracks:             []TrackEntry{vp8Track, opusTrack},
			Seekable:           seekable,
			MaxClusterDuration: 2 * time.Second,
		})
		if err != nil {
			t.Fatal(err)
		}
		var ts [3]time.Duration
		accepted := 0
		for len(in) >= 5 {
			track := uint64(in[0] % 4) // 0 and 3 are not tracks
			delta := time.Duration(int16(uint16(in[1])<<8|uint16(in[2]))) * 10 * time.Millisecond
			key := in[3]&1 == 1
			n := int(in[4])
			in = in[5:]
			n = min(n, len(in))
			data := in[:n]
			in = in[n:]
			cur := time.Duration(0)
			if track < 3 {
				cur = ts[track]
			}
			err := w.WriteFrame(track, cur+delta, key, data)
			switch {
			case err == nil:
				accepted++
				ts[track] = cur + delta
			case err == ErrTrackNumber && (track == 0 || track == 3):
			case err == ErrTimestamp && (delta < 0):
			default:
				t.Fatalf("WriteFrame(%d, %v, %v): %v", track, cur+delta, key, err)
			}
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		top, err := parseFile(m.b)
		if err != nil || len(top) != 2 {
			t.Fatalf("output does not parse: %v", err)
		}
		blocks := 0
		for _, c := range top[1].all(idCluster) {
			blocks += len(c.all(idSimpleBlock))
		}
		if blocks != accepted {
			t.Fatalf("%d blocks for %d frames", blocks, accepted)
		}
		if !bytes.HasPrefix(m.b, []byte{0x1A, 0x45, 0xDF, 0xA3}) {
			t.Fatal("no EBML header")
		}
	})
}
