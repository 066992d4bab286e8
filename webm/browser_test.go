package webm_test

// A browser test: files finished by this package play and seek in
// Chromium, and live recordings that Fix repaired do too, while the
// unrepaired Firefox recording does not.

import (
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gomediarecorder/mediarecorder/internal/browsertest"
	"github.com/gomediarecorder/mediarecorder/internal/mediatest"
	"github.com/gomediarecorder/mediarecorder/webm"
)

// Live recordings made by browsers' MediaRecorder: unknown-size Segment
// and Clusters, no Duration, no Cues.
const (
	chromiumLive = "/work/shared/fixtures/browser/webm-ts1000/concat.webm"
	firefoxLive  = "/work/shared/fixtures/firefox/av-4s.webm"
)

func TestBrowserSeekable(t *testing.T) {
	mediatest.RequireTool(t, "ffmpeg")
	mediatest.RequireTool(t, "ffprobe")
	b := browsertest.New(t)
	dir := t.TempDir()

	src := mediatest.FFmpeg(t, dir,
		"-f", "lavfi", "-i", "testsrc2=size=320x240:rate=30", "-f", "lavfi", "-i", "sine",
		"-t", "6", "-c:v", "libvpx", "-g", "30", "-deadline", "realtime", "-cpu-used", "8",
		"-c:a", "libopus", "-f", "webm", "src.webm")
	files := map[string]string{"written.webm": remuxSeekable(t, src, filepath.Join(dir, "written.webm"))}
	// want lists the files that must play and seek.
	want := []string{"written.webm"}

	haveFixtures := true
	for _, p := range []string{chromiumLive, firefoxLive} {
		if _, err := os.Stat(p); err != nil {
			t.Logf("fixture %s: %v; only the written file is tested", p, err)
			haveFixtures = false
		}
	}
	if haveFixtures {
		files["chromium-fixed.webm"] = fixFile(t, chromiumLive, filepath.Join(dir, "chromium-fixed.webm"))
		files["firefox-fixed.webm"] = fixFile(t, firefoxLive, filepath.Join(dir, "firefox-fixed.webm"))
		files["firefox-live.webm"] = firefoxLive
		files["chromium-live.webm"] = chromiumLive
		want = append(want, "chromium-fixed.webm", "firefox-fixed.webm")
	}
	base := browsertest.Serve(t, files)

	for _, name := range want {
		t.Run(name, func(t *testing.T) {
			path := files[name]
			probe := mediatest.FFprobe(t, path)
			res := b.PlayAndSeek(t, base+"/"+name)
			t.Logf("Chromium: %+v (ffprobe duration %.3f s)", res, probe.Duration)
			if res.Error != "" {
				t.Errorf("error: %s", res.Error)
			}
			if !res.CanPlay {
				t.Error("no canplay")
			}
			if math.IsInf(res.Duration, 0) || math.IsNaN(res.Duration) ||
				math.Abs(res.Duration-probe.Duration) > 0.2 {
				t.Errorf("duration %v, ffprobe says %.3f", res.Duration, probe.Duration)
			}
			if !res.Seekable {
				t.Errorf("not seekable: seekable end %v, duration %v", res.SeekableEnd, res.Duration)
			}
			if mid := res.Duration / 2; !res.Seeked || math.Abs(res.SeekedTo-mid) > 0.1 {
				t.Errorf("seek to the middle (%.3f): seeked %v, currentTime %v", mid, res.Seeked, res.SeekedTo)
			}
			for _, s := range probe.Streams {
				if s.CodecType == "video" && (res.VideoWidth != s.Width || res.VideoHeight != s.Height) {
					t.Errorf("size %dx%d, ffprobe says %dx%d", res.VideoWidth, res.VideoHeight, s.Width, s.Height)
				}
			}
		})
	}
	if !haveFixtures {
		return
	}

	// The live recordings as the browsers wrote them (unknown sizes, no
	// Duration or a Duration of 0, no Cues). Chromium 156 reports duration
	// Infinity and one seekable range [0, Infinity] for both: a player
	// shows no length and no usable seek bar. That is what Fix is for.
	for _, name := range []string{"firefox-live.webm", "chromium-live.webm"} {
		t.Run(name, func(t *testing.T) {
			res := b.PlayAndSeek(t, base+"/"+name)
			t.Logf("Chromium: %+v", res)
			if res.Error != "" {
				t.Errorf("error: %s", res.Error)
			}
			if !math.IsInf(res.Duration, 1) && res.Seekable {
				t.Errorf("unfixed live recording: finite duration %v and seekable; Fix would not be needed", res.Duration)
			}
		})
	}
}

// remuxSeekable copies every frame of the WebM file src into a new file dst
// through a Seekable Writer, with the track entries of src's Header.
func remuxSeekable(t *testing.T, src, dst string) string {
	t.Helper()
	in, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	rd, err := webm.NewReader(in)
	if err != nil {
		t.Fatal(err)
	}
	hdr := rd.Header()
	out, err := os.Create(dst)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	w, err := webm.NewWriter(out, webm.Options{
		Tracks:         hdr.Tracks,
		Seekable:       true,
		TimestampScale: time.Duration(hdr.TimestampScale),
	})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for {
		f, err := rd.ReadFrame()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("frame %d: %v", n, err)
		}
		if err := w.WriteBlock(f); err != nil {
			t.Fatalf("frame %d: %v", n, err)
		}
		n++
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
	t.Logf("%s: %d frames, Duration %v", filepath.Base(dst), n, w.Duration())
	return dst
}

// fixFile repairs src into dst with Fix.
func fixFile(t *testing.T, src, dst string) string {
	t.Helper()
	in, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	rep, err := webm.Fix(out, in, webm.FixOptions{})
	if err != nil {
		t.Fatalf("Fix %s: %v", src, err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
	t.Logf("Fix %s: %d frames, Duration %v, problems %q", src, rep.Frames, rep.Duration, rep.Problems)
	return dst
}
