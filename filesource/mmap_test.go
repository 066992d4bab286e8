package filesource

import (
	"context"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"github.com/gomediarecorder/mediarecorder"
)

// frameSink keeps copies of the samples of a track.
type frameSink struct {
	mu  sync.Mutex
	got []mediarecorder.TimedSample
}

func newSink() *frameSink { return &frameSink{} }

func (s *frameSink) WriteSample(ts mediarecorder.TimedSample) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ts.Data = slices.Clone(ts.Data)
	s.got = append(s.got, ts)
}

func (s *frameSink) TrackEnded() {}

func (s *frameSink) get() []mediarecorder.TimedSample {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.got
}

// writeBigIVF writes an IVF file of n frames of size bytes each.
func writeBigIVF(t *testing.T, n, size int) string {
	t.Helper()
	b := make([]byte, ivfHeaderLen, ivfHeaderLen+n*(ivfFrameHeaderLen+size))
	copy(b, "DKIF")
	binary.LittleEndian.PutUint16(b[6:], ivfHeaderLen)
	copy(b[8:], "VP80")
	binary.LittleEndian.PutUint16(b[12:], 640)
	binary.LittleEndian.PutUint16(b[14:], 480)
	binary.LittleEndian.PutUint32(b[16:], 30) // rate
	binary.LittleEndian.PutUint32(b[20:], 1)  // scale
	binary.LittleEndian.PutUint32(b[24:], uint32(n))
	for i := range n {
		var h [ivfFrameHeaderLen]byte
		binary.LittleEndian.PutUint32(h[:], uint32(size))
		binary.LittleEndian.PutUint64(h[4:], uint64(i))
		b = append(b, h[:]...)
		frame := make([]byte, size)
		for j := range frame {
			frame[j] = byte(i + j)
		}
		b = append(b, frame...)
	}
	path := filepath.Join(t.TempDir(), "big.ivf")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestMappedIVF reads a file large enough to be memory-mapped: every
// frame arrives whole and in order, the same as through reads.
func TestMappedIVF(t *testing.T) {
	path := writeBigIVF(t, 40, 64<<10)
	f, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if f.mem == nil {
		t.Skip("no memory map on this system")
	}
	s := newSink()
	f.Tracks()[0].Subscribe(s)
	if err := Play(context.Background(), []*File{f}, nil); err != nil {
		t.Fatal(err)
	}
	got := s.get()
	if len(got) != 40 {
		t.Fatalf("%d frames, want 40", len(got))
	}
	for i, g := range got {
		if len(g.Data) != 64<<10 || g.Data[0] != byte(i) || g.Data[len(g.Data)-1] != byte(i+64<<10-1) {
			t.Fatalf("frame %d: %d bytes starting %d", i, len(g.Data), g.Data[0])
		}
	}
}

// TestMappedFileShrinks: a memory-mapped file cut short by someone else
// while it is played makes Play return ErrFileChanged instead of crashing
// the process on the missing pages.
func TestMappedFileShrinks(t *testing.T) {
	path := writeBigIVF(t, 100, 64<<10)
	f, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if f.mem == nil {
		t.Skip("no memory map on this system")
	}
	if err := os.Truncate(path, 1<<20); err != nil {
		t.Fatal(err)
	}
	s := newSink()
	f.Tracks()[0].Subscribe(s)
	err = Play(context.Background(), []*File{f}, nil)
	if !errors.Is(err, ErrFileChanged) {
		t.Fatalf("Play: %v, want ErrFileChanged", err)
	}
	t.Logf("Play: %v after %d frames", err, len(s.get()))
	if n := len(s.get()); n < 10 || n > 16 {
		t.Errorf("%d frames before the cut, want the 15 the first MiB holds", n)
	}
}
