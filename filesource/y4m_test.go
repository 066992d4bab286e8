package filesource

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gomediarecorder/mediarecorder"
	"github.com/gomediarecorder/mediarecorder/internal/mediatest"
)

// y4mFile is a small hand-made Y4M stream: 4x2 at 10 fps.
func y4mFile(frames int) []byte {
	b := []byte("YUV4MPEG2 W4 H2 F10:1 Ip A1:1 C420jpeg XYSCSS=420JPEG\n")
	for i := range frames {
		b = append(b, "FRAME\n"...)
		b = append(b, bytes.Repeat([]byte{byte(i)}, 4*2+2*2)...)
	}
	return b
}

func TestY4M(t *testing.T) {
	info, err := openY4M(bytes.NewReader(y4mFile(3)), int64(len(y4mFile(3))))
	if err != nil {
		t.Fatal(err)
	}
	if !info.hasDur || info.dur != 300*time.Millisecond {
		t.Errorf("duration %v %v", info.dur, info.hasDur)
	}
	if _, ok := info.raw[0].(*mediarecorder.VideoTrack); !ok || len(info.raw) != 1 {
		t.Fatalf("tracks %v", info.raw)
	}
	for i := range 3 {
		s, err := info.src.next()
		if err != nil {
			t.Fatal(err)
		}
		if len(s.data) != 12 || s.data[0] != byte(i) || s.pts != time.Duration(i)*100*time.Millisecond || s.dur != 100*time.Millisecond {
			t.Errorf("frame %d: %d bytes at %v for %v", i, len(s.data), s.pts, s.dur)
		}
	}
	if _, err := info.src.next(); err == nil {
		t.Error("a frame after the end")
	}
}

func TestY4MBad(t *testing.T) {
	for _, tc := range []struct {
		data string
		want error
	}{
		{"YUV4MPEG2 W4 H2 C444\nFRAME\n", ErrUnsupportedCodec},
		{"YUV4MPEG2 W4 H2 It\n", ErrUnsupportedCodec},
		{"YUV4MPEG2 W0 H2\n", ErrInvalidFile},
		{"YUV4MPEG2 Wx H2\n", ErrInvalidFile},
		{"YUV4MPEG2 W4 H2 F0:1\n", ErrInvalidFile},
		{"YUV4MPEG2 W4 H2", ErrTruncated},
		{"YUV4MPEG3 W4 H2\n", ErrInvalidFile},
	} {
		if _, err := openY4M(bytes.NewReader([]byte(tc.data)), -1); !errors.Is(err, tc.want) {
			t.Errorf("%q: %v, want %v", tc.data, err, tc.want)
		}
	}
	// A cut frame and a missing FRAME marker, after good frames.
	for _, data := range [][]byte{y4mFile(2)[:len(y4mFile(2))-3], append(y4mFile(1), "FRAMX\n"...)} {
		info, err := openY4M(bytes.NewReader(data), -1)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := info.src.next(); err != nil {
			t.Fatal(err)
		}
		_, err = info.src.next()
		if !errors.Is(err, ErrTruncated) && !errors.Is(err, ErrInvalidFile) {
			t.Errorf("%q: %v", data[len(data)-8:], err)
		}
	}
}

// TestOpenY4MAndRawWAV opens ffmpeg's Y4M and WAV files: a raw video
// track, and with RawAudio a raw audio track.
func TestOpenY4MAndRawWAV(t *testing.T) {
	if testing.Short() {
		t.Skip("makes files with ffmpeg")
	}
	dir := t.TempDir()
	y := mediatest.FFmpeg(t, dir, "-f", "lavfi", "-i", "testsrc2=size=96x64:rate=30", "-t", "1", "-pix_fmt", "yuv420p", "in.y4m")
	w := mediatest.FFmpeg(t, dir, "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100", "-ac", "2", "-t", "1", "in.wav")
	vf, err := Open(y, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer vf.Close()
	if vf.Format() != FormatY4M || len(vf.Tracks()) != 0 || len(vf.AllTracks()) != 1 || vf.AllTracks()[0].Kind() != mediarecorder.KindVideo {
		t.Fatalf("format %s, tracks %v / %v", vf.Format(), vf.Tracks(), vf.AllTracks())
	}
	if d, ok := vf.Duration(); !ok || d != time.Second {
		t.Errorf("duration %v %v", d, ok)
	}
	af, err := Open(w, Options{RawAudio: true})
	if err != nil {
		t.Fatal(err)
	}
	defer af.Close()
	a, ok := af.AllTracks()[0].(*mediarecorder.AudioTrack)
	if !ok || a.SampleRate() != 44100 || a.Channels() != 2 {
		t.Fatalf("audio tracks %v", af.AllTracks())
	}
	// By extension too: the magic is what counts, the name is a fallback.
	data, _ := os.ReadFile(y)
	p := filepath.Join(dir, "noext")
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if f, err := Open(p, Options{}); err != nil || f.Format() != FormatY4M {
		t.Errorf("detect: %v", err)
	} else {
		f.Close()
	}
}

func FuzzY4M(f *testing.F) {
	f.Add(y4mFile(2))
	f.Add([]byte("YUV4MPEG2 W1 H1 F30000:1001\nFRAME Ixyz\n\x00\x01\x02"))
	f.Add([]byte("YUV4MPEG2 W16383 H16383\nFRAME\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		info, err := openY4M(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			return
		}
		if info.hasDur && info.dur < 0 {
			t.Fatalf("duration %v", info.dur)
		}
		drainFuzz(t, info.src, len(data))
	})
}
