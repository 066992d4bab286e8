package mp4_test

import (
	"bytes"
	"os"
	"testing"
	"time"

	"github.com/gomediarecorder/mediarecorder/mp4"
)

// FuzzFix checks that Fix never panics or hangs, and that what it writes
// is a finished file: Probe reads it whole, and fixing it again changes
// nothing.
func FuzzFix(f *testing.F) {
	for _, name := range []string{"chrome-av-5s-head.mp4", "chrome-audio-3s.mp4", "chrome-avc1-init.mp4"} {
		b, err := os.ReadFile("testdata/" + name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b[:min(len(b), 4000)])
	}
	opts, samples := chromeLike()
	data, bounds := crashed(f, opts, samples)
	f.Add(data[:min(len(data), bounds[min(2, len(bounds)-1)]+100)])
	f.Fuzz(func(t *testing.T, data []byte) {
		start := time.Now()
		var out seekBuf
		rep, err := mp4.Fix(&out, bytes.NewReader(data), mp4.FixOptions{})
		if d := time.Since(start); d > 10*time.Second { // a hang guard

			t.Errorf("took %v for %d bytes", d, len(data))
		}
		if err != nil {
			return
		}
		if rep.Size != int64(len(out.b)) || rep.Kept > int64(len(data)) || rep.Duration < 0 {
			t.Fatalf("%+v for %d bytes in, %d out", rep, len(data), len(out.b))
		}
		p, err := mp4.Probe(bytes.NewReader(out.b))
		if err != nil {
			t.Fatalf("Probe of the output: %v", err)
		}
		for _, pr := range p.Problems {
			if bytes.Contains([]byte(pr), []byte("truncated")) || bytes.Contains([]byte(pr), []byte("garbage")) {
				t.Fatalf("the output: %v", p.Problems)
			}
		}
		var again seekBuf
		rep2, err := mp4.Fix(&again, bytes.NewReader(out.b), mp4.FixOptions{})
		if err != nil || !bytes.Equal(again.b, out.b) || rep2.Truncated || rep2.Duration != rep.Duration {
			t.Fatalf("fixing again: %v %+v (first %+v)", err, rep2, rep)
		}
	})
}
