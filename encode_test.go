package mediarecorder_test

import (
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	mr "github.com/gomediarecorder/mediarecorder"
	_ "github.com/gomediarecorder/mediarecorder/encode/opus"
	"github.com/gomediarecorder/mediarecorder/internal/mediatest"
)

// tone returns n frames of interleaved 16-bit PCM: a 440 Hz tone with
// some noise (a test signal an encoder cannot code for nothing), starting
// at sample offset off.
func tone(rng *rand.Rand, rate, channels, off, n int) []int16 {
	pcm := make([]int16, 0, n*channels)
	for i := range n {
		t := float64(off+i) / float64(rate)
		for c := range channels {
			v := 0.4*math.Sin(2*math.Pi*(440+110*float64(c))*t) + 0.1*(rng.Float64()*2-1)
			pcm = append(pcm, int16(v*32767))
		}
	}
	return pcm
}

// recordAudio records d of generated audio at rate and channels through a
// raw AudioTrack, fed in 10 ms buffers faster than real time, and returns
// the file.
func recordAudio(t *testing.T, opts mr.Options, rate, channels int, d time.Duration) (*mr.Recorder, *collector, string) {
	t.Helper()
	tr, err := mr.NewAudioTrack(rate, channels)
	if err != nil {
		t.Fatal(err)
	}
	r, err := mr.New(mr.NewStream(tr), opts)
	if err != nil {
		t.Fatal(err)
	}
	c := collect(r)
	if err := r.Start(0); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	base := mr.Now()
	chunk := rate / 100
	for off := 0; off < int(int64(d)*int64(rate)/int64(time.Second)); off += chunk {
		tr.WaitRoom()
		ts := base + time.Duration(int64(off)*int64(time.Second)/int64(rate))
		if err := tr.WriteInt16At(tone(rng, rate, channels, off, chunk), ts); err != nil {
			t.Fatal(err)
		}
	}
	tr.Stop()
	c.wait(t)
	if len(c.errs) > 0 {
		t.Fatalf("errors: %v", c.errs)
	}
	ext := ".webm"
	if strings.HasPrefix(r.MimeType(), "audio/ogg") {
		ext = ".ogg"
	}
	return r, c, c.file(t, "out"+ext)
}

// streamBitrate returns the bits per second of the packets of the streams sel
// selects, over the span of their timestamps.
func streamBitrate(t *testing.T, path, sel string) (bps float64, packets int) {
	t.Helper()
	lines := mediatest.FFprobeLines(t, path, "-select_streams", sel, "-show_entries", "packet=pts_time,duration_time,size", "-of", "csv=p=0")
	var bytes int
	first, last := math.Inf(1), math.Inf(-1)
	for _, l := range lines {
		f := strings.Split(l, ",")
		if len(f) < 3 {
			t.Fatalf("ffprobe line %q", l)
		}
		pts, _ := strconv.ParseFloat(f[0], 64)
		dur, _ := strconv.ParseFloat(f[1], 64)
		size, _ := strconv.Atoi(f[2])
		bytes += size
		first, last = min(first, pts), max(last, pts+dur)
	}
	if len(lines) == 0 || last <= first {
		t.Fatalf("%s: no packets in stream %s", path, sel)
	}
	return float64(bytes*8) / (last - first), len(lines)
}

func TestRawAudioOpus(t *testing.T) {
	if testing.Short() {
		t.Skip("records with ffmpeg checks")
	}
	for _, tc := range []struct {
		rate, channels int
		mime           string
	}{
		{48000, 2, "audio/webm;codecs=opus"},
		{44100, 2, "audio/ogg"},
		{16000, 1, ""},
	} {
		t.Run(strconv.Itoa(tc.rate)+"/"+strconv.Itoa(tc.channels), func(t *testing.T) {
			const bps = 64000
			r, _, path := recordAudio(t, mr.Options{MimeType: tc.mime, AudioBitsPerSecond: bps, AudioBitrateMode: mr.BitrateConstant}, tc.rate, tc.channels, 3*time.Second)
			_ = r
			mediatest.Decode(t, path)
			p := mediatest.FFprobe(t, path)
			a := streamOf(p, "audio")
			if a == nil || a.CodecName != "opus" || a.Channels != tc.channels {
				t.Fatalf("streams %+v", p.Streams)
			}
			if math.Abs(a.Duration-3) > 0.1 && math.Abs(p.Duration-3) > 0.1 {
				t.Errorf("duration %.3f / %.3f s, want 3 s", a.Duration, p.Duration)
			}
			got, n := streamBitrate(t, path, "a")
			t.Logf("%d Opus packets, %.0f b/s (target %d, constant)", n, got, bps)
			if n < 145 || math.Abs(got-bps)/bps > 0.05 {
				t.Errorf("%d packets at %.0f b/s, want 150 at %d b/s ±5%%", n, got, bps)
			}
		})
	}
}

func TestRawAudioPCM(t *testing.T) {
	if testing.Short() {
		t.Skip("records with ffmpeg checks")
	}
	r, _, path := recordAudio(t, mr.Options{MimeType: "audio/webm;codecs=pcm"}, 44100, 2, time.Second)
	if r.MimeType() != "audio/webm;codecs=pcm" {
		t.Errorf("mimeType %q", r.MimeType())
	}
	mediatest.Decode(t, path)
	a := streamOf(mediatest.FFprobe(t, path), "audio")
	if a == nil || !strings.HasPrefix(a.CodecName, "pcm_s16le") || a.SampleRate != 44100 || a.Channels != 2 {
		t.Fatalf("stream %+v", a)
	}
}

func TestRawAudioBadInput(t *testing.T) {
	for _, f := range [][2]int{{0, 1}, {7999, 1}, {48000, 0}, {48000, 3}, {400000, 2}} {
		if _, err := mr.NewAudioTrack(f[0], f[1]); !errors.Is(err, mr.ErrBadFrame) {
			t.Errorf("NewAudioTrack(%d, %d) = %v, want ErrBadFrame", f[0], f[1], err)
		}
	}
	tr, err := mr.NewAudioTrack(48000, 2)
	if err != nil {
		t.Fatal(err)
	}
	if err := tr.WriteInt16(make([]int16, 3)); !errors.Is(err, mr.ErrBadFrame) {
		t.Errorf("odd stereo buffer: %v", err)
	}
	if err := tr.WriteFloat32([]float32{float32(math.NaN()), float32(math.Inf(1))}); err != nil {
		t.Errorf("NaN and Inf samples (clipped): %v", err)
	}
	tr.Stop()
	if err := tr.WriteInt16(make([]int16, 2)); !errors.Is(err, mr.ErrTrackEnded) {
		t.Errorf("after Stop: %v", err)
	}
}

func TestEncodersList(t *testing.T) {
	if e := mr.Encoders(); !slices.Contains(e, "opus") || !slices.Contains(e, "pcm") {
		t.Errorf("Encoders() = %v, want opus and pcm among them", e)
	}
}

// TestRawAudioOpusVBR: audioBitrateMode "variable" lets packet sizes vary
// around the target.
func TestRawAudioOpusVBR(t *testing.T) {
	if testing.Short() {
		t.Skip("records with ffmpeg checks")
	}
	const bps = 96000
	_, _, path := recordAudio(t, mr.Options{MimeType: "audio/webm;codecs=opus", AudioBitsPerSecond: bps}, 48000, 2, 3*time.Second)
	mediatest.Decode(t, path)
	sizes := map[string]bool{}
	for _, l := range mediatest.FFprobeLines(t, path, "-select_streams", "a", "-show_entries", "packet=size", "-of", "csv=p=0") {
		sizes[l] = true
	}
	got, _ := streamBitrate(t, path, "a")
	t.Logf("VBR: %.0f b/s for a target of %d, %d packet sizes", got, bps, len(sizes))
	if len(sizes) < 5 || math.Abs(got-bps)/bps > 0.25 {
		t.Errorf("VBR: %d packet sizes, %.0f b/s; want varied sizes near %d", len(sizes), got, bps)
	}
}

// TestRawAudioTwoRecorders: two recorders of one raw track encode it each
// their own way.
func TestRawAudioTwoRecorders(t *testing.T) {
	if testing.Short() {
		t.Skip("records with ffmpeg checks")
	}
	tr, err := mr.NewAudioTrack(48000, 1)
	if err != nil {
		t.Fatal(err)
	}
	s := mr.NewStream(tr)
	var cs []*collector
	for _, o := range []mr.Options{{MimeType: "audio/ogg", AudioBitsPerSecond: 32000, AudioBitrateMode: mr.BitrateConstant}, {MimeType: "audio/webm;codecs=pcm"}} {
		r, err := mr.New(s, o)
		if err != nil {
			t.Fatal(err)
		}
		c := collect(r)
		must(t, r.Start(0))
		cs = append(cs, c)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	base := mr.Now()
	for i := range 100 {
		tr.WaitRoom()
		must(t, tr.WriteInt16At(tone(rng, 48000, 1, i*480, 480), base+time.Duration(i)*10*time.Millisecond))
	}
	tr.Stop()
	for i, c := range cs {
		c.wait(t)
		path := c.file(t, []string{"a.ogg", "b.webm"}[i])
		mediatest.Decode(t, path)
		p := mediatest.FFprobe(t, path)
		a := streamOf(p, "audio")
		want := []string{"opus", "pcm_s16le"}[i]
		if a == nil || a.CodecName != want || math.Abs(max(a.Duration, p.Duration)-1) > 0.05 {
			t.Errorf("recorder %d: %+v, want 1 s of %s", i, a, want)
		}
	}
}

// TestRawNoEncoder: a codec no encoder is registered for is a
// NotSupportedError at Start that says so.
func TestRawNoEncoder(t *testing.T) {
	tr, err := mr.NewAudioTrack(48000, 2)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ mime, want string }{
		{"video/x-matroska;codecs=h264", "no encoder for the raw video track to h264"},
		{"audio/mp4;codecs=opus", ""},
	} {
		tracks := []mr.Track{tr}
		if strings.HasPrefix(tc.mime, "video") {
			tracks = []mr.Track{mr.NewVideoTrack()}
		}
		r, err := mr.New(mr.NewStream(tracks...), mr.Options{MimeType: tc.mime})
		if err != nil {
			t.Fatal(err)
		}
		err = r.Start(0)
		if tc.want == "" {
			if err != nil {
				t.Errorf("%s: %v", tc.mime, err)
			} else {
				must(t, r.Stop())
			}
			continue
		}
		if !errors.Is(err, mr.ErrNotSupported) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want a NotSupportedError with %q", tc.mime, err, tc.want)
		}
	}
}

// TestRawAudioPause: audio written while paused is not recorded; the file
// decodes cleanly and lasts what was recorded. On synctest's clock: the
// pause comes after what was written before it however slowly a loaded
// machine encodes (on the wall clock, a pause later than the time of the
// samples after the resume took them for late ones, and kept the gap).
func TestRawAudioPause(t *testing.T) {
	if testing.Short() {
		t.Skip("records with ffmpeg checks")
	}
	var data []byte
	synctest.Test(t, func(t *testing.T) {
		mr.UseBubbleClock(t)
		tr, err := mr.NewAudioTrack(44100, 2)
		if err != nil {
			t.Fatal(err)
		}
		r, err := mr.New(mr.NewStream(tr), mr.Options{MimeType: "audio/webm;codecs=opus"})
		if err != nil {
			t.Fatal(err)
		}
		c := collect(r)
		must(t, r.Start(0))
		rng := rand.New(rand.NewPCG(5, 6))
		base := mr.Now()
		write := func(from, to int) { // in 10 ms buffers
			for i := from; i < to; i++ {
				tr.WaitRoom()
				must(t, tr.WriteInt16At(tone(rng, 44100, 2, i*441, 441), base+time.Duration(i)*10*time.Millisecond))
			}
		}
		write(0, 100)
		must(t, r.Pause())
		write(100, 150)
		must(t, r.Resume())
		write(150, 250)
		tr.Stop()
		c.wait(t)
		c.mu.Lock()
		for _, e := range c.blobs {
			data = append(data, e.Data.Bytes()...)
		}
		c.mu.Unlock()
	})
	path := filepath.Join(t.TempDir(), "out.webm")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	mediatest.Decode(t, path)
	p := mediatest.FFprobe(t, path)
	if a := streamOf(p, "audio"); a == nil || math.Abs(p.Duration-2) > 0.06 {
		t.Errorf("duration %.3f s, want 2 s (2.5 s written, 0.5 s while paused)", p.Duration)
	}
}
