package mediarecorder

import (
	"bytes"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/gomediarecorder/mediarecorder/internal/mediatest"
)

// TestFileOutMatchesMemory drives the buffered file output and the
// in-memory output with the same random writes, patches and writes built in
// AvailableBuffer, and checks that the file ends up with the same bytes.
func TestFileOutMatchesMemory(t *testing.T) {
	for seed := range uint64(20) {
		rng := rand.New(rand.NewPCG(seed, 7))
		f, err := os.Create(filepath.Join(t.TempDir(), "out"))
		if err != nil {
			t.Fatal(err)
		}
		fo, err := newFileOut(f)
		if err != nil {
			t.Fatal(err)
		}
		var mem memFile
		for op := range 400 {
			n := rng.IntN(3000)
			if rng.IntN(50) == 0 {
				n = fileBufferSize + rng.IntN(1000) // larger than the buffer
			}
			p := make([]byte, n)
			for i := range p {
				p[i] = byte(op + i)
			}
			switch rng.IntN(4) {
			case 0: // a patch somewhere before the end, then back to the end
				end, _ := mem.Seek(0, io.SeekEnd)
				if end < 8 {
					continue
				}
				at := rng.Int64N(end - 7)
				patch := []byte{1, 2, 3, 4, 5, 6, 7, byte(op)}
				for _, w := range []io.WriteSeeker{fo, &mem} {
					w.Seek(at, io.SeekStart)
					w.Write(patch)
					w.Seek(0, io.SeekEnd)
				}
			case 1: // built in the lent buffer
				b := fo.AvailableBuffer()
				if cap(b) >= len(p) {
					b = append(b, p...)
					if _, err := fo.Write(b); err != nil {
						t.Fatal(err)
					}
				} else if _, err := fo.Write(p); err != nil {
					t.Fatal(err)
				}
				mem.Write(p)
			default:
				if _, err := fo.Write(p); err != nil {
					t.Fatal(err)
				}
				mem.Write(p)
			}
		}
		if err := fo.finish(); err != nil {
			t.Fatal(err)
		}
		got, _ := os.ReadFile(f.Name())
		f.Close()
		if !bytes.Equal(got, mem.takeBytes()) {
			t.Fatalf("seed %d: the file differs from the same writes in memory", seed)
		}
	}
}

// TestFileOutCutOnFailure: when a write that extends the file fails part
// way (a full disk), the file is cut back to the last place the muxer
// marked (Boundary), or to the last whole Write when it marks none; bytes
// already in the file stay.
func TestFileOutCutOnFailure(t *testing.T) {
	for _, mode := range []string{"writes", "marked", "flushed"} {
		// writes: every whole Write is a cut; marked: only Boundary
		// calls are; flushed: the periodic flush has emptied the buffer
		// just before each Boundary (a loaded live recording: its cuts
		// were forgotten, and a full disk cut the file back to its header).
		marked := mode != "writes"
		for _, limit := range []int64{0, 1, 999, 1000, 5000, 70_000, 200_000, 1 << 20} {
			f, err := os.Create(filepath.Join(t.TempDir(), "out"))
			if err != nil {
				t.Fatal(err)
			}
			ff := &mediatest.FullDisk{File: f, Limit: limit}
			fo, err := newFileOut(ff)
			if err != nil {
				t.Fatal(err)
			}
			var cuts []int64 // every offset the file may end at
			var end int64
			var failed bool
			for i := 0; i < 2000 && !failed; i++ {
				if !marked || i%10 == 0 {
					cuts = append(cuts, end)
				}
				if marked && i%10 == 0 {
					if mode == "flushed" {
						_ = fo.flush()
					}
					fo.Boundary()
				}
				p := bytes.Repeat([]byte{byte(i)}, 1000)
				if _, err := fo.Write(p); err != nil {
					failed = true
				}
				end += 1000
			}
			if err := fo.finish(); err == nil && limit < end {
				t.Errorf("%s, limit %d: no error", mode, limit)
			}
			st, _ := f.Stat()
			f.Close()
			want := int64(0)
			for _, c := range cuts {
				if c <= limit {
					want = c
				}
			}
			if st.Size() != want {
				t.Errorf("%s, limit %d: file size %d, want %d", mode, limit, st.Size(), want)
			}
		}
	}
}
