package filesource_test

import (
	"context"
	"math"
	"path/filepath"
	"testing"
	"time"

	"github.com/gomediarecorder/mediarecorder/filesource"
	"github.com/gomediarecorder/mediarecorder/internal/mediatest"
)

// mediaCase is one input file and what its recording must hold.
type mediaCase struct {
	name   string
	path   func(t *testing.T) string
	format filesource.Format
	codec  string // ffprobe codec_name of the recording
	width  int
	height int
	// duration is the input's duration (0: as ffprobe reports it, or
	// frames/30 for a raw H.264 stream).
	duration float64
	// frames: the input's frame count (0: as ffprobe counts it); -1: do
	// not compare (PCM, whose packets are cut differently).
	frames   int
	mime     string // the recorder's MIME type
	hasDur   bool   // Duration known from the headers
	channels int
}

func testdata(name string) func(t *testing.T) string {
	return func(t *testing.T) string { return mediatest.Testdata(t, name) }
}

var testdataCases = []mediaCase{
	{name: "vp8.ivf", path: testdata("vp8.ivf"), format: filesource.FormatIVF, codec: "vp8", width: 320, height: 240, mime: "video/webm;codecs=vp8", hasDur: true},
	{name: "vp9.ivf", path: testdata("vp9.ivf"), format: filesource.FormatIVF, codec: "vp9", width: 320, height: 240, mime: "video/webm;codecs=vp9", hasDur: true},
	{name: "av1.ivf", path: testdata("av1.ivf"), format: filesource.FormatIVF, codec: "av1", width: 320, height: 240, hasDur: true},
	{name: "vp8-resize.ivf", path: testdata("vp8-resize.ivf"), format: filesource.FormatIVF, codec: "vp8", width: 320, height: 240, hasDur: true},
	{name: "h264.h264", path: testdata("h264.h264"), format: filesource.FormatH264, codec: "h264", width: 320, height: 240},
	{name: "h264-high.h264", path: testdata("h264-high.h264"), format: filesource.FormatH264, codec: "h264", width: 636, height: 358},
	{name: "opus-stereo.ogg", path: testdata("opus-stereo.ogg"), format: filesource.FormatOgg, codec: "opus", channels: 2, mime: "audio/webm;codecs=opus", hasDur: true},
	{name: "opus-mono-60ms.ogg", path: testdata("opus-mono-60ms.ogg"), format: filesource.FormatOgg, codec: "opus", channels: 1, hasDur: true},
	{name: "pcm.wav", path: testdata("pcm.wav"), format: filesource.FormatWAV, codec: "pcm_s16le", channels: 1, frames: -1, hasDur: true},
}

func TestRecordTestdata(t *testing.T) {
	for _, c := range testdataCases {
		t.Run(c.name, func(t *testing.T) { checkRecord(t, c, c.path(t)) })
	}
}

// checkRecord opens path, records it and checks the recording against
// the input with ffmpeg and ffprobe.
func checkRecord(t *testing.T, c mediaCase, path string) {
	t.Helper()
	in := mediatest.FFprobe(t, path)
	f := open(t, path, filesource.Options{})
	if f.Format() != c.format {
		t.Errorf("Format = %q, want %q", f.Format(), c.format)
	}
	if f.Path() != path {
		t.Errorf("Path = %q", f.Path())
	}
	if len(f.Tracks()) != 1 {
		t.Fatalf("%d tracks, want 1", len(f.Tracks()))
	}
	wantDur := c.duration
	if wantDur == 0 {
		wantDur = in.Duration
	}
	if wantDur == 0 {
		wantDur = float64(in.Streams[0].NbReadFrames) / 30
	}
	d, ok := f.Duration()
	if ok != c.hasDur {
		t.Errorf("Duration known = %v, want %v", ok, c.hasDur)
	}
	if ok && math.Abs(d.Seconds()-wantDur) > 0.05 {
		t.Errorf("Duration = %v, want %.4f s", d, wantDur)
	}
	r := recordFiles(t, context.Background(), f)
	if r.playErr != nil {
		t.Fatalf("Play: %v", r.playErr)
	}
	if len(r.errs) > 0 {
		t.Errorf("error events: %v", r.errs)
	}
	if r.stats.Dropped > 0 || r.stats.Skipped > 0 {
		t.Errorf("recorder stats %+v, want nothing dropped or skipped", r.stats)
	}
	if c.mime != "" && r.mime != c.mime {
		t.Errorf("recorder MimeType %q, want %q", r.mime, c.mime)
	}
	mediatest.Decode(t, r.path)
	out := mediatest.FFprobe(t, r.path)
	if len(out.Streams) != 1 {
		t.Fatalf("recording has %d streams, want 1", len(out.Streams))
	}
	s := out.Streams[0]
	if s.CodecName != c.codec {
		t.Errorf("codec %q, want %q", s.CodecName, c.codec)
	}
	if s.Width != c.width || s.Height != c.height {
		t.Errorf("size %dx%d, want %dx%d", s.Width, s.Height, c.width, c.height)
	}
	if c.channels != 0 && s.Channels != c.channels {
		t.Errorf("%d channels, want %d", s.Channels, c.channels)
	}
	wantFrames := c.frames
	if wantFrames == 0 {
		wantFrames = in.Streams[0].NbReadFrames
	}
	if wantFrames > 0 && s.NbReadFrames != wantFrames {
		t.Errorf("%d frames, want %d", s.NbReadFrames, wantFrames)
	}
	if math.Abs(out.Duration-wantDur) > 0.05 {
		t.Errorf("duration %.4f s, want %.4f s", out.Duration, wantDur)
	}
}

func TestMultiFile(t *testing.T) {
	video := open(t, mediatest.Testdata(t, "vp8.ivf"), filesource.Options{})
	audio := open(t, mediatest.Testdata(t, "opus-stereo.ogg"), filesource.Options{})
	r := recordFiles(t, context.Background(), video, audio)
	if r.playErr != nil {
		t.Fatal(r.playErr)
	}
	if r.mime != "video/webm;codecs=vp8,opus" {
		t.Errorf("MimeType %q", r.mime)
	}
	mediatest.Decode(t, r.path)
	p := mediatest.FFprobe(t, r.path)
	if len(p.Streams) != 2 || p.Streams[0].CodecName != "vp8" || p.Streams[1].CodecName != "opus" {
		t.Fatalf("streams %+v, want vp8 and opus", p.Streams)
	}
	if p.Streams[0].NbReadFrames != 60 || p.Streams[1].NbReadFrames != 101 {
		t.Errorf("frames %d and %d, want 60 and 101", p.Streams[0].NbReadFrames, p.Streams[1].NbReadFrames)
	}
	st := startTimes(t, r.path)
	if len(st) != 2 || math.Abs(st[0]-st[1]) > 0.030 {
		t.Errorf("start times %v, want within 30 ms", st)
	}
	if math.Abs(p.Duration-2.0065) > 0.05 {
		t.Errorf("duration %.4f", p.Duration)
	}
}

func TestRealtime(t *testing.T) {
	dir := t.TempDir()
	clip := filepath.Join(dir, "clip.ivf")
	ffmpeg(t, "-f", "lavfi", "-i", "testsrc2=size=160x120:rate=30:duration=1", "-pix_fmt", "yuv420p",
		"-c:v", "libvpx", "-deadline", "realtime", "-cpu-used", "8", "-b:v", "100k", clip)
	f := open(t, clip, filesource.Options{Realtime: true})
	var last time.Duration
	calls := 0
	start := time.Now()
	err := filesource.Play(context.Background(), []*filesource.File{f}, func(d time.Duration) {
		calls++
		if d < last {
			t.Errorf("progress went back: %v after %v", d, last)
		}
		last = d
	})
	el := time.Since(start)
	if err != nil {
		t.Fatal(err)
	}
	if el < 950*time.Millisecond || el > 3*time.Second {
		t.Errorf("a 1 s clip played in %v", el)
	}
	if last != time.Second {
		t.Errorf("final progress %v, want 1s", last)
	}
	// Every 100 ms at most, plus the final call.
	if calls < 5 || calls > 12 {
		t.Errorf("%d progress calls in %v", calls, el)
	}
	for _, tr := range f.Tracks() {
		if tr.ReadyState() != "ended" {
			t.Error("track not ended after Play")
		}
	}
	f.Close()
}

func TestCancel(t *testing.T) {
	f := open(t, mediatest.Testdata(t, "vp8.ivf"), filesource.Options{Realtime: true})
	g := open(t, mediatest.Testdata(t, "opus-stereo.ogg"), filesource.Options{Realtime: true})
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(300*time.Millisecond, cancel)
	r := recordFiles(t, ctx, f, g)
	if r.playErr != context.Canceled {
		t.Fatalf("Play = %v, want context.Canceled", r.playErr)
	}
	for _, tr := range append(f.Tracks(), g.Tracks()...) {
		if tr.ReadyState() != "ended" {
			t.Error("track not ended after a cancelled Play")
		}
	}
	mediatest.Decode(t, r.path)
	p := mediatest.FFprobe(t, r.path)
	if p.Duration < 0.2 || p.Duration > 1.5 {
		t.Errorf("cancelled after 300 ms, recorded %.3f s", p.Duration)
	}
}
