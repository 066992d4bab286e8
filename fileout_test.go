package mediarecorder

import (
	"bytes"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
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
