package cli

import (
	"math"
	"path/filepath"
	"testing"

	"github.com/gomediarecorder/mediarecorder/internal/browsertest"
	"github.com/gomediarecorder/mediarecorder/internal/mediatest"
)

// TestRecordPlaysInChromium: what `record` writes plays and seeks in
// Chromium, with the duration ffprobe reports.
func TestRecordPlaysInChromium(t *testing.T) {
	b := browsertest.New(t)
	dir := t.TempDir()
	files := map[string]string{}
	for name, inputs := range map[string][]string{
		"vp8-opus.webm": {"vp8.ivf", "opus-stereo.ogg"},
		"vp9-opus.webm": {"vp9.ivf", "opus-stereo.ogg"},
		"opus.ogg":      {"opus-stereo.ogg"},
		"h264-opus.mp4": {"h264.h264", "opus-stereo.ogg"},
		"vp9-opus.mp4":  {"vp9.ivf", "opus-stereo.ogg"},
		"av1.mp4":       {"av1.ivf"},
	} {
		out := filepath.Join(dir, name)
		args := []string{"record", "-o", out}
		switch filepath.Ext(name) {
		case ".ogg":
			args = append(args, "-mime", "audio/ogg")
		case ".mp4":
			args = append(args, "-mime", "video/mp4")
		}
		for _, in := range inputs {
			args = append(args, mediatest.Testdata(t, in))
		}
		if code, _, stderr := runCLI(args...); code != 0 {
			t.Fatalf("%s: exit %d: %s", name, code, stderr)
		}
		files[name] = out
	}
	base := browsertest.Serve(t, files)
	for name, path := range files {
		want := mediatest.FFprobe(t, path).Duration
		r := b.PlayAndSeek(t, base+"/"+name)
		if r.Error != "" || !r.CanPlay {
			t.Errorf("%s: Chromium: %q (canplay %v)", name, r.Error, r.CanPlay)
			continue
		}
		if math.Abs(r.Duration-want) > 0.2 || !r.Seekable || !r.Seeked || math.Abs(r.SeekedTo-r.Duration/2) > 0.15 {
			t.Errorf("%s: Chromium reports %+v; ffprobe says %.3f s", name, r, want)
		}
	}
}
