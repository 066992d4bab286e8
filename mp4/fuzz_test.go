package mp4_test

import (
	"bytes"
	"os"
	"testing"
	"time"

	"github.com/gomediarecorder/mediarecorder/mp4"
)

// FuzzProbe checks that Probe never panics, reads no more than it is
// given, and says the same with and without seeking.
func FuzzProbe(f *testing.F) {
	for _, name := range []string{"chrome-av-5s-head.mp4", "chrome-audio-3s.mp4", "chrome-avc1-init.mp4", "chrome-ts1000-chunk-000.mp4"} {
		b, err := os.ReadFile("testdata/" + name)
		if err != nil {
			f.Fatal(err)
		}
		// Seeds stay small: the fuzzer minimizes every new input, which
		// takes very long for tens of kilobytes. The first 1600 bytes
		// hold the init segment and the first moof.
		f.Add(b[:min(len(b), 1600)])
	}
	opts, samples := chromeLike()
	for _, seekable := range []bool{false, true} {
		var s seekBuf
		var b bytes.Buffer
		var w *mp4.Writer
		var err error
		if seekable {
			opts.Seekable = true
			w, err = mp4.NewWriter(&s, opts)
		} else {
			w, err = mp4.NewWriter(&b, opts)
		}
		if err != nil {
			f.Fatal(err)
		}
		for _, x := range samples {
			w.WriteSample(x.track, x.ts, x.dur, x.key, x.data)
		}
		w.Close()
		out := b.Bytes()
		if seekable {
			out = s.b
		}
		f.Add(out)
		f.Add(out[:len(out)-10])
	}
	// Hand-made boxes: 64-bit sizes, size 0 (to the end), a trun with a
	// huge sample count and no per-sample fields, nested garbage.
	f.Add([]byte("\x00\x00\x00\x01ftyp\x00\x00\x00\x00\x00\x00\x00\x18isom\x00\x00\x00\x00"))
	f.Add([]byte("\x00\x00\x00\x00mdat\x01\x02\x03"))
	f.Add([]byte("\x00\x00\x00\x30moof\x00\x00\x00\x28traf\x00\x00\x00\x10tfhd\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x10trun\x00\x00\x00\x00\xff\xff\xff\xff"))
	f.Add([]byte("\x00\x00\x00\x10moov\x00\x00\x00\x08trak"))
	f.Fuzz(func(t *testing.T, data []byte) {
		start := time.Now()
		a, errA := mp4.Probe(bytes.NewReader(data))
		b, errB := mp4.Probe(readerOnly{bytes.NewReader(data)})
		if (errA == nil) != (errB == nil) {
			t.Fatalf("seeker: %v, reader: %v", errA, errB)
		}
		if errA != nil {
			return
		}
		if a.Size > int64(len(data)) || b.Size > int64(len(data)) {
			t.Errorf("sizes %d and %d of %d bytes", a.Size, b.Size, len(data))
		}
		if !sameProbe(a, b) || a.Fragments < 0 || a.Duration < 0 {
			t.Errorf("seeker %+v\nreader %+v", a, b)
		}
		if d := time.Since(start); d > time.Second {
			t.Errorf("took %v for %d bytes", d, len(data))
		}
	})
}

// seekBuf is an in-memory io.WriteSeeker.
type seekBuf struct {
	b   []byte
	pos int
}

func (s *seekBuf) Write(p []byte) (int, error) {
	if n := s.pos + len(p); n > len(s.b) {
		s.b = append(s.b, make([]byte, n-len(s.b))...)
	}
	copy(s.b[s.pos:], p)
	s.pos += len(p)
	return len(p), nil
}

func (s *seekBuf) Seek(off int64, whence int) (int64, error) {
	switch whence {
	case 1:
		off += int64(s.pos)
	case 2:
		off += int64(len(s.b))
	}
	s.pos = int(off)
	return off, nil
}
