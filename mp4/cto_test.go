package mp4

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"
	"time"
)

// trunOffsets returns the version, flags and composition time offsets of
// each trun in b (read as signed for version 1, unsigned for version 0).
func trunOffsets(t *testing.T, b []byte) (versions []uint8, flags []uint32, ctos [][]int64) {
	t.Helper()
	for i := 4; i+12 <= len(b); i++ {
		if string(b[i:i+4]) != "trun" {
			continue
		}
		size := int(binary.BigEndian.Uint32(b[i-4:]))
		box := b[i+4 : i-4+size]
		v, f := box[0], binary.BigEndian.Uint32(box[0:4])&0xffffff
		n := int(binary.BigEndian.Uint32(box[4:]))
		p := 8
		if f&0x1 != 0 {
			p += 4
		}
		if f&0x4 != 0 {
			p += 4
		}
		per := 0
		for _, bit := range []uint32{0x100, 0x200, 0x400, 0x800} {
			if f&bit != 0 {
				per += 4
			}
		}
		var cs []int64
		if f&0x800 != 0 {
			for j := range n {
				u := binary.BigEndian.Uint32(box[p+j*per+per-4:])
				if v == 1 {
					cs = append(cs, int64(int32(u)))
				} else {
					cs = append(cs, int64(u))
				}
			}
		}
		if p+n*per != len(box) {
			t.Fatalf("trun of %d bytes for %d samples of %d bytes", len(box), n, per)
		}
		versions, flags, ctos = append(versions, v), append(flags, f), append(ctos, cs)
	}
	return versions, flags, ctos
}

// TestWriteSampleAt checks composition time offsets: a trun has them only
// when a sample's presentation time differs from its decode time, in
// version 1 when one is negative; with none, the output is what
// WriteSample writes, byte for byte.
func TestWriteSampleAt(t *testing.T) {
	const f = time.Second / 30 // 3000 units at 90 kHz
	type s struct {
		dts, pts time.Duration
		key      bool
	}
	for _, tt := range []struct {
		name     string
		samples  []s
		versions []uint8
		ctos     [][]int64
	}{
		{"none", []s{{0, 0, true}, {f, f, false}, {2 * f, 2 * f, false}}, []uint8{0}, [][]int64{nil}},
		// I0 P3 B1 B2 | I4: decode times as they come, presentation times
		// the same slots rearranged.
		{"B-frames", []s{{0, 0, true}, {f, 3 * f, false}, {2 * f, f, false}, {3 * f, 2 * f, false}, {4 * f, 4 * f, true}},
			[]uint8{1, 0}, [][]int64{{0, 6000, -3000, -3000}, nil}},
		{"positive only", []s{{0, f, true}, {f, 3 * f, false}, {2 * f, 2 * f, false}},
			[]uint8{0}, [][]int64{{3000, 6000, 0}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var at, plain bytes.Buffer
			wa, err := NewWriter(&at, Options{Tracks: []Track{testVP9}})
			if err != nil {
				t.Fatal(err)
			}
			wp, err := NewWriter(&plain, Options{Tracks: []Track{testVP9}})
			if err != nil {
				t.Fatal(err)
			}
			for i, x := range tt.samples {
				data := []byte{byte(i), 1, 2}
				if err := wa.WriteSampleAt(1, x.dts, x.pts, f, x.key, data); err != nil {
					t.Fatal(err)
				}
				if err := wp.WriteSample(1, x.dts, f, x.key, data); err != nil {
					t.Fatal(err)
				}
			}
			if err := wa.Close(); err != nil {
				t.Fatal(err)
			}
			if err := wp.Close(); err != nil {
				t.Fatal(err)
			}
			versions, flags, ctos := trunOffsets(t, at.Bytes())
			if len(versions) != len(tt.versions) {
				t.Fatalf("%d truns, want %d", len(versions), len(tt.versions))
			}
			for i := range versions {
				if versions[i] != tt.versions[i] || (flags[i]&0x800 != 0) != (tt.ctos[i] != nil) {
					t.Errorf("trun %d: version %d flags %#x, want version %d, offsets %v", i, versions[i], flags[i], tt.versions[i], tt.ctos[i])
				}
				if len(ctos[i]) != len(tt.ctos[i]) {
					t.Errorf("trun %d: offsets %v, want %v", i, ctos[i], tt.ctos[i])
					continue
				}
				for j := range ctos[i] {
					if ctos[i][j] != tt.ctos[i][j] {
						t.Errorf("trun %d: offsets %v, want %v", i, ctos[i], tt.ctos[i])
						break
					}
				}
			}
			if same := bytes.Equal(at.Bytes(), plain.Bytes()); same != (tt.name == "none") {
				t.Errorf("output equal to WriteSample's: %v", same)
			}
		})
	}
}

func TestWriteSampleAtErrors(t *testing.T) {
	w, err := NewWriter(&bytes.Buffer{}, Options{Tracks: []Track{testVP9}})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name     string
		dts, pts time.Duration
	}{
		{"negative pts", time.Second, -time.Millisecond},
		{"offset beyond int32", 0, 24 * time.Hour},
		{"negative offset beyond int32", 24 * time.Hour, 0},
	} {
		if err := w.WriteSampleAt(1, c.dts, c.pts, 0, true, []byte{1}); !errors.Is(err, ErrTimestamp) {
			t.Errorf("%s: %v, want ErrTimestamp", c.name, err)
		}
	}
	// The writer is still usable.
	if err := w.WriteSampleAt(1, 0, time.Second/30, 0, true, []byte{1}); err != nil {
		t.Fatal(err)
	}
}
