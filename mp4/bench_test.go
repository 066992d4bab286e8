package mp4

import (
	"io"
	"testing"
	"time"
)

// BenchmarkWriteSample writes 1 KB video frames at 30 fps with a key frame
// (and so a fragment) every 30 samples into io.Discard.
func BenchmarkWriteSample(b *testing.B) {
	w, err := NewWriter(io.Discard, Options{Tracks: []Track{testVP9}})
	if err != nil {
		b.Fatal(err)
	}
	frame := make([]byte, 1024)
	b.SetBytes(int64(len(frame)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if err := w.WriteSample(1, time.Duration(i)*time.Second/30, 0, i%30 == 0, frame); err != nil {
			b.Fatal(err)
		}
	}
}
