package filesource

import (
	"context"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

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
	sizes := make([]int, n)
	for i := range sizes {
		sizes[i] = size
	}
	return writeIVFSizes(t, sizes)
}

// writeIVFSizes writes an IVF file with frames of the given sizes; byte j
// of frame i is byte(i+j).
func writeIVFSizes(t *testing.T, sizes []int) string {
	t.Helper()
	n := len(sizes)
	b := make([]byte, ivfHeaderLen)
	copy(b, "DKIF")
	binary.LittleEndian.PutUint16(b[6:], ivfHeaderLen)
	copy(b[8:], "VP80")
	binary.LittleEndian.PutUint16(b[12:], 640)
	binary.LittleEndian.PutUint16(b[14:], 480)
	binary.LittleEndian.PutUint32(b[16:], 30) // rate
	binary.LittleEndian.PutUint32(b[20:], 1)  // scale
	binary.LittleEndian.PutUint32(b[24:], uint32(n))
	for i, size := range sizes {
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

// openPrefetched opens path, a file large enough to be read ahead, and
// checks that it is; the file is closed when the test ends.
func openPrefetched(t *testing.T, path string) *File {
	t.Helper()
	f, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	if f.pre == nil {
		t.Fatal("not read ahead")
	}
	return f
}

// TestPrefetchedIVF reads a file large enough to be read ahead, with
// frames of every size around the chunk size: every frame arrives whole
// and in order.
func TestPrefetchedIVF(t *testing.T) {
	var sizes []int
	for i := range 60 {
		sizes = append(sizes, []int{1, 1000, chunkSize - 12, chunkSize, chunkSize + 1, 3 * chunkSize / 2, 70_000}[i%7])
	}
	path := writeIVFSizes(t, sizes)
	f := openPrefetched(t, path)
	s := newSink()
	f.Tracks()[0].Subscribe(s)
	if err := Play(context.Background(), []*File{f}, nil); err != nil {
		t.Fatal(err)
	}
	got := s.get()
	if len(got) != len(sizes) {
		t.Fatalf("%d frames, want %d", len(got), len(sizes))
	}
	for i, g := range got {
		if len(g.Data) != sizes[i] {
			t.Fatalf("frame %d: %d bytes, want %d", i, len(g.Data), sizes[i])
		}
		for j, c := range g.Data {
			if c != byte(i+j) {
				t.Fatalf("frame %d: byte %d is %d, want %d", i, j, c, byte(i+j))
			}
		}
	}
}

// TestPrefetchedTruncated: a file read ahead that ends in the middle of a
// frame plays up to the cut, then Play reports where the file is cut.
func TestPrefetchedTruncated(t *testing.T) {
	path := writeBigIVF(t, 100, 64<<10)
	const cut = 3<<20 + 1000
	if err := os.Truncate(path, cut); err != nil {
		t.Fatal(err)
	}
	f := openPrefetched(t, path)
	s := newSink()
	f.Tracks()[0].Subscribe(s)
	err := Play(context.Background(), []*File{f}, nil)
	var fe *Error
	if !errors.As(err, &fe) || !errors.Is(err, ErrTruncated) {
		t.Fatalf("Play: %v, want a truncation *Error", err)
	}
	if n, want := len(s.get()), (cut-ivfHeaderLen)/(ivfFrameHeaderLen+64<<10); n != want {
		t.Errorf("%d frames before the cut, want the %d whole ones", n, want)
	}
}

// TestPrefetchClose: closing a file read ahead that is never played ends
// its read-ahead goroutine.
func TestPrefetchClose(t *testing.T) {
	path := writeBigIVF(t, 200, 64<<10)
	before := runtime.NumGoroutine()
	f := openPrefetched(t, path)
	f.Close()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			t.Fatalf("%d goroutines, %d before Open", runtime.NumGoroutine(), before)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
