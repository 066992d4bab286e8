package filesource

import (
	"bytes"
	"testing"
	"time"

	"github.com/gomediarecorder/mediarecorder/codecs/opus"
	"github.com/gomediarecorder/mediarecorder/webm"
)

// makeWebM writes a WebM of n seconds of 30 fps "VP8" frames (not real
// ones: the reader does not look inside) and 20 ms Opus packets.
func makeWebM(t testing.TB, n int) []byte {
	t.Helper()
	head, _ := opus.DefaultHead(2, 48000).MarshalBinary()
	var b bytes.Buffer
	w, err := webm.NewWriter(&b, webm.Options{Tracks: []webm.TrackEntry{
		{Number: 1, Type: webm.TrackTypeVideo, CodecID: "V_VP8", PixelWidth: 320, PixelHeight: 240},
		{Number: 2, Type: webm.TrackTypeAudio, CodecID: "A_OPUS", CodecPrivate: head, SamplingFrequency: 48000, Channels: 2},
	}})
	if err != nil {
		t.Fatal(err)
	}
	frame := make([]byte, 1000)
	pkt := make([]byte, 160)
	pkt[0] = 0xfc
	for v, a := 0, 0; v < 30*n || a < 50*n; {
		vt, at := time.Duration(v)*time.Second/30, time.Duration(a)*20*time.Millisecond
		if v < 30*n && vt <= at {
			if err := w.WriteFrame(1, vt, v%30 == 0, frame); err != nil {
				t.Fatal(err)
			}
			v++
		} else {
			if err := w.WriteFrame(2, at, true, pkt); err != nil {
				t.Fatal(err)
			}
			a++
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestReadAllocs checks that the readers allocate nothing per sample once
// their buffers have grown.
func TestReadAllocs(t *testing.T) {
	wb := makeWebM(t, 20)
	cases := []struct {
		name string
		open func(t *testing.T) source
	}{
		{"vp8.ivf", func(t *testing.T) source { return openTestdata(t, "vp8.ivf", Options{}).src }},
		{"h264.h264", func(t *testing.T) source { return openTestdata(t, "h264.h264", Options{}).src }},
		{"opus-stereo.ogg", func(t *testing.T) source { return openTestdata(t, "opus-stereo.ogg", Options{}).src }},
		{"pcm.wav", func(t *testing.T) source { return openTestdata(t, "pcm.wav", Options{}).src }},
		{"webm", func(t *testing.T) source {
			info, err := openWebM(bytes.NewReader(wb))
			if err != nil {
				t.Fatal(err)
			}
			return info.src
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			src := c.open(t)
			// Let the buffers grow to their size on the first samples.
			for range 10 {
				if _, err := src.next(); err != nil {
					t.Fatal(err)
				}
			}
			n := 0
			a := testing.AllocsPerRun(1, func() {
				for {
					if _, err := src.next(); err != nil {
						return
					}
					n++
				}
			})
			t.Logf("%v allocations for %d samples", a, n)
			if a > 4 {
				t.Errorf("%v allocations for %d samples", a, n)
			}
		})
	}
}
