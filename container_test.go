package mediarecorder_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	mr "github.com/gomediarecorder/mediarecorder"
	"github.com/gomediarecorder/mediarecorder/internal/mediatest"
)

// TestContainerForAgreesWithStart: for a table of streams and requested
// types, ContainerFor names the essence that the recorder's MimeType has
// once started, and fails exactly when Start does.
func TestContainerForAgreesWithStart(t *testing.T) {
	vp8 := mr.Codec{MimeType: "video/VP8", ClockRate: 90000}
	vp9 := mr.Codec{MimeType: "video/VP9", ClockRate: 90000}
	av1 := mr.Codec{MimeType: "video/AV1", ClockRate: 90000}
	h264 := mr.Codec{MimeType: "video/H264", ClockRate: 90000}
	opus := mr.Codec{MimeType: "audio/opus", ClockRate: 48000, Channels: 2}
	pcm := mr.Codec{MimeType: "audio/L16", ClockRate: 48000, Channels: 2}
	cases := []struct {
		codecs    []mr.Codec
		mime      string
		essence   string
		ext       string
		wantError bool
	}{
		{[]mr.Codec{vp8, opus}, "", "video/webm", ".webm", false},
		{[]mr.Codec{vp9}, "", "video/webm", ".webm", false},
		{[]mr.Codec{av1, opus}, "", "video/webm", ".webm", false},
		{[]mr.Codec{h264, opus}, "", "video/x-matroska", ".mkv", false},
		{[]mr.Codec{h264}, "", "video/x-matroska", ".mkv", false},
		{[]mr.Codec{opus}, "", "audio/webm", ".webm", false},
		{[]mr.Codec{pcm}, "", "audio/webm", ".webm", false},
		{[]mr.Codec{vp8, opus}, "video/x-matroska", "video/x-matroska", ".mkv", false},
		{[]mr.Codec{vp8, opus}, "video/webm;codecs=vp8,opus", "video/webm", ".webm", false},
		{[]mr.Codec{opus}, "audio/ogg", "audio/ogg", ".ogg", false},
		{[]mr.Codec{opus}, "audio/ogg;codecs=opus", "audio/ogg", ".ogg", false},
		{[]mr.Codec{h264, opus}, "video/mp4", "video/mp4", ".mp4", false},
		{[]mr.Codec{opus}, "audio/mp4", "audio/mp4", ".mp4", false},
		{[]mr.Codec{av1}, "video/mp4;codecs=av01.0.04M.08", "video/mp4", ".mp4", false},
		{[]mr.Codec{opus}, "video/webm", "video/webm", ".webm", false},
		// Start refuses these; so does ContainerFor.
		{[]mr.Codec{h264, opus}, "video/webm", "", "", true},
		{[]mr.Codec{vp8}, "audio/webm", "", "", true},
		{[]mr.Codec{vp8, opus}, "audio/ogg", "", "", true},
		{[]mr.Codec{vp8}, "video/mp4", "", "", true},
		{[]mr.Codec{vp8}, "video/webm;codecs=vp9", "", "", true},
	}
	for _, c := range cases {
		var names []string
		var tracks []mr.Track
		for _, codec := range c.codecs {
			names = append(names, codec.MimeType)
			tracks = append(tracks, mr.NewSampleTrack(codec))
		}
		name := strings.Join(names, "+") + " as " + c.mime
		stream := mr.NewStream(tracks...)
		essence, ext, err := mr.ContainerFor(stream, c.mime)
		if c.wantError {
			if !errors.Is(err, mr.ErrNotSupported) {
				t.Errorf("%s: ContainerFor error %v, want a NotSupportedError", name, err)
			}
		} else if err != nil || essence != c.essence || ext != c.ext {
			t.Errorf("%s: ContainerFor = %q, %q, %v; want %q, %q", name, essence, ext, err, c.essence, c.ext)
		}

		rec, err := mr.New(stream, mr.Options{MimeType: c.mime})
		if err != nil {
			t.Fatalf("%s: New: %v", name, err)
		}
		started := make(chan struct{})
		rec.OnStart(func() { close(started) })
		err = rec.Start(0)
		if c.wantError {
			if !errors.Is(err, mr.ErrNotSupported) {
				t.Errorf("%s: Start error %v, want a NotSupportedError", name, err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: Start: %v", name, err)
		}
		<-started
		if got, _, _ := strings.Cut(rec.MimeType(), ";"); got != essence {
			t.Errorf("%s: Start chose %q, ContainerFor said %q", name, rec.MimeType(), essence)
		}
		must(t, rec.Stop())
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		_ = rec.Wait(ctx)
		cancel()
	}
}

func TestContainerForBadType(t *testing.T) {
	s := mr.NewStream(mr.NewSampleTrack(mr.Codec{MimeType: "audio/opus", ClockRate: 48000, Channels: 2}))
	for _, typ := range []string{"text/plain", "video/webm;codecs=foo", "garbage;;"} {
		if _, _, err := mr.ContainerFor(s, typ); !errors.Is(err, mr.ErrNotSupported) {
			t.Errorf("ContainerFor(%q) error %v, want a NotSupportedError", typ, err)
		}
	}
	if e, ext, err := mr.ContainerFor(nil, ""); err != nil || e != "audio/webm" || ext != ".webm" {
		t.Errorf("ContainerFor(nil, \"\") = %q, %q, %v", e, ext, err)
	}
}

// TestRecorderDuration: Duration grows while recording and, after the stop,
// matches the media fed in and the duration ffprobe reads from the file,
// in every container. The last Opus packet is cut short (as an Ogg file's
// end trimming does), where WebM's writer estimates the last frame's
// length from the one before it.
func TestRecorderDuration(t *testing.T) {
	for _, c := range []struct {
		mime, video, videoFile string
	}{
		{"", "video/VP8", "vp8.ivf"},
		{"video/x-matroska", "video/VP9", "vp9.ivf"},
		{"video/mp4", "video/VP9", "vp9.ivf"},
		{"audio/ogg", "", ""},
	} {
		t.Run(strings.ReplaceAll(c.mime+" "+c.video, "/", "_"), func(t *testing.T) {
			audio := loadOpus(t, "opus-stereo.ogg")
			audio.samples[len(audio.samples)-1].Duration = 7 * time.Millisecond
			ms := []media{audio}
			want := audio.duration()
			if c.video != "" {
				video := loadIVF(t, c.videoFile, c.video)
				ms = append(ms, video)
				want = max(want, video.duration())
			}
			f := newFeeder(ms...)
			f.wait = true
			rec, err := mr.New(f.stream(), mr.Options{MimeType: c.mime})
			if err != nil {
				t.Fatal(err)
			}
			if d := rec.Duration(); d != 0 {
				t.Fatalf("Duration before Start = %v, want 0", d)
			}
			_, ext, err := mr.ContainerFor(f.stream(), c.mime)
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(t.TempDir(), "out"+ext)
			out, err := os.Create(path)
			if err != nil {
				t.Fatal(err)
			}
			defer out.Close()
			must(t, rec.StartFile(out, 0))
			f.feedUntil(t, time.Second)
			for rec.Duration() == 0 { // the recorder writes behind the feeder
				time.Sleep(10 * time.Millisecond)
			}
			f.feedAll(t)
			must(t, rec.Stop())
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			must(t, rec.Wait(ctx))
			got := rec.Duration()
			if d := got - want; d < -50*time.Millisecond || d > 50*time.Millisecond {
				t.Errorf("Duration() = %v, media fed %v", got, want)
			}
			if testing.Short() {
				return
			}
			mediatest.RequireTool(t, "ffprobe")
			p := mediatest.FFprobe(t, path)
			probed := time.Duration(p.Duration * float64(time.Second))
			if d := got - probed; d < -time.Millisecond || d > time.Millisecond {
				t.Errorf("Duration() = %v, ffprobe says %v", got, probed)
			}
			t.Logf("Duration() %v, fed %v, ffprobe %v", got, want, probed)
		})
	}
}
