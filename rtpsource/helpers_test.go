package rtpsource

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"

	"github.com/gomediarecorder/mediarecorder"
	"github.com/gomediarecorder/mediarecorder/codecs/h264"
	"github.com/gomediarecorder/mediarecorder/internal/mediatest"
	"github.com/gomediarecorder/mediarecorder/internal/opusfile"
)

// clip is real media from the module's testdata, frame by frame.
type clip struct {
	name   string
	codec  mediarecorder.Codec
	frames [][]byte
	ticks  []uint32 // RTP clock ticks of each frame
	pay    func() rtp.Payloader
}

var clipNames = []string{"vp8", "vp9", "av1", "h264", "opus"}

func loadClip(t testing.TB, name string) clip {
	t.Helper()
	video := func(mime string, frames [][]byte, pay func() rtp.Payloader) clip {
		c := clip{name: name, codec: mediarecorder.Codec{MimeType: mime, ClockRate: 90000}, frames: frames, pay: pay}
		for range frames {
			c.ticks = append(c.ticks, 3000) // 30 fps
		}
		return c
	}
	switch name {
	case "vp8":
		return video("video/VP8", mediatest.IVFFrames(t, mediatest.Testdata(t, "vp8.ivf")), func() rtp.Payloader { return &codecs.VP8Payloader{EnablePictureID: true} })
	case "vp9":
		return video("video/VP9", mediatest.IVFFrames(t, mediatest.Testdata(t, "vp9.ivf")), func() rtp.Payloader { return &codecs.VP9Payloader{} })
	case "av1":
		return video("video/AV1", mediatest.IVFFrames(t, mediatest.Testdata(t, "av1.ivf")), func() rtp.Payloader { return &codecs.AV1Payloader{} })
	case "h264":
		b, err := os.ReadFile(mediatest.Testdata(t, "h264.h264"))
		if err != nil {
			t.Fatal(err)
		}
		r := h264.NewAccessUnitReader(bytes.NewReader(b))
		var frames [][]byte
		for {
			au, err := r.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			frames = append(frames, append([]byte(nil), au...))
		}
		return video("video/H264", frames, func() rtp.Payloader { return &codecs.H264Payloader{} })
	case "opus":
		head, pkts, err := opusfile.Read(mediatest.Testdata(t, "opus-stereo.ogg"))
		if err != nil {
			t.Fatal(err)
		}
		c := clip{name: name, codec: mediarecorder.Codec{MimeType: "audio/opus", ClockRate: 48000, Channels: uint16(head.Channels)},
			pay: func() rtp.Payloader { return &codecs.OpusPayloader{} }}
		for _, p := range pkts {
			c.frames = append(c.frames, p.Data)
			c.ticks = append(c.ticks, uint32(p.Samples))
		}
		return c
	}
	t.Fatalf("no clip %q", name)
	return clip{}
}

// sent is one RTP packet with the frame it carries and when it is sent.
type sent struct {
	p     *rtp.Packet
	frame int
	at    time.Duration // media time of its frame
}

// packetize packetizes frames [from, to) of c with the given SSRC, first
// sequence number and first RTP timestamp.
func packetize(c clip, from, to int, ssrc uint32, seq uint16, ts uint32) []sent {
	pz := rtp.NewPacketizer(1200, 96, ssrc, c.pay(), rtp.NewFixedSequencer(seq), c.codec.ClockRate)
	var out []sent
	var tick uint64
	for i := from; i < to; i++ {
		at := time.Duration(tick * uint64(time.Second) / uint64(c.codec.ClockRate))
		for _, p := range pz.Packetize(c.frames[i], c.ticks[i]) {
			p.Timestamp = ts + uint32(tick)
			out = append(out, sent{p: p, frame: i, at: at})
		}
		tick += uint64(c.ticks[i])
	}
	return out
}

// shuffle delays each packet by a random 0 to maxDelay and sorts them by
// arrival: packets arrive out of order, none later than maxDelay.
func shuffle(pkts []sent, maxDelay time.Duration, rng *rand.Rand) []sent {
	out := append([]sent(nil), pkts...)
	for i := range out {
		out[i].at += time.Duration(rng.Int64N(int64(maxDelay)))
	}
	sort.SliceStable(out, func(a, b int) bool { return out[a].at < out[b].at })
	return out
}

func feed(t testing.TB, tr *Track, pkts []sent, base time.Time) {
	t.Helper()
	for _, s := range pkts {
		if err := tr.WritePacket(s.p, base.Add(s.at)); err != nil {
			t.Fatal(err)
		}
	}
}

// recording records tracks with a real recorder (one blob) until they end.
type recording struct {
	rec     *mediarecorder.Recorder
	mu      sync.Mutex
	data    bytes.Buffer
	stopped chan struct{}
}

func startRecording(t testing.TB, tracks ...mediarecorder.Track) *recording {
	t.Helper()
	rec, err := mediarecorder.New(mediarecorder.NewStream(tracks...), mediarecorder.Options{})
	if err != nil {
		t.Fatal(err)
	}
	r := &recording{rec: rec, stopped: make(chan struct{})}
	rec.OnDataAvailable(func(e mediarecorder.BlobEvent) {
		r.mu.Lock()
		r.data.Write(e.Data.Bytes())
		r.mu.Unlock()
	})
	rec.OnError(func(err error) { t.Errorf("recorder error: %v", err) })
	rec.OnStop(func() { close(r.stopped) })
	if err := rec.Start(0); err != nil {
		t.Fatal(err)
	}
	return r
}

// file waits for the recorder to stop (its tracks ended) and writes the
// recording to a file.
func (r *recording) file(t testing.TB) string {
	t.Helper()
	select {
	case <-r.stopped:
	case <-time.After(20 * time.Second):
		buf := make([]byte, 1<<20)
		t.Fatalf("recorder did not stop (state %v); goroutines:\n%s", r.rec.State(), buf[:runtime.Stack(buf, true)])
	}
	ext := ".webm"
	if bytes.Contains([]byte(r.rec.MimeType()), []byte("matroska")) {
		ext = ".mkv"
	}
	path := filepath.Join(t.TempDir(), "rec"+ext)
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := os.WriteFile(path, r.data.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// checkFrames checks that the one-track file at path decodes without a
// message and holds frames frames.
func checkFrames(t *testing.T, path string, frames int) {
	t.Helper()
	if out := mediatest.Decode(t, path); out != "" {
		return // Decode reported it
	}
	p := mediatest.FFprobe(t, path)
	if len(p.Streams) != 1 || p.Streams[0].NbReadFrames != frames {
		t.Errorf("ffprobe: %+v, want %d frames", p.Streams, frames)
	}
}

// sink keeps the samples a track publishes.
type sink struct {
	mu      sync.Mutex
	samples []mediarecorder.TimedSample
	ended   bool
}

func (s *sink) WriteSample(ts mediarecorder.TimedSample) {
	s.mu.Lock()
	ts.Data = append([]byte(nil), ts.Data...)
	s.samples = append(s.samples, ts)
	s.mu.Unlock()
}

func (s *sink) TrackEnded() {
	s.mu.Lock()
	s.ended = true
	s.mu.Unlock()
}

func (s *sink) get() []mediarecorder.TimedSample {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]mediarecorder.TimedSample(nil), s.samples...)
}

func newTrack(t testing.TB, c clip, opt Options) *Track {
	t.Helper()
	tr, err := NewTrack(c.codec, opt)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}
