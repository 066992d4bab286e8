package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gomediarecorder/mediarecorder/internal/mediatest"
)

// TestFixCutMP4Ogg: fix finishes MP4 and Ogg files cut off mid-fragment
// or mid-page (a crash), keeping what was whole; before, it refused
// them as not WebM.
func TestFixCutMP4Ogg(t *testing.T) {
	mediatest.RequireTool(t, "ffmpeg")
	dir := t.TempDir()
	for _, c := range []struct {
		in, ext string
		min     float64 // seconds left
	}{
		{fixture(t, "browser/av-5s.mp4"), ".mp4", 2.5},
		{fixture(t, "browser/av-pause-resume.mp4"), ".mp4", 1},
		{fixture(t, "firefox/audio-3s.ogg"), ".ogg", 1.5},
	} {
		data, err := os.ReadFile(c.in)
		if err != nil {
			t.Fatal(err)
		}
		cut := filepath.Join(dir, "cut"+c.ext)
		if err := os.WriteFile(cut, data[:len(data)*2/3], 0o644); err != nil {
			t.Fatal(err)
		}
		for _, in := range []string{c.in, cut} {
			out := filepath.Join(dir, "fixed"+c.ext)
			code, _, stderr := runCLI("fix", in, out)
			if code != 0 {
				t.Fatalf("%s: exit %d: %s", in, code, stderr)
			}
			if in == cut && !strings.Contains(stderr, "truncated") {
				t.Errorf("%s: stderr %q", in, stderr)
			}
			if o := mediatest.DecodeVFR(t, out); o != "" {
				t.Errorf("%s: ffmpeg: %s", in, o)
			}
			p := mediatest.FFprobe(t, out)
			if p.Duration < c.min {
				t.Errorf("%s: %.3f s left", in, p.Duration)
			}
			code, stdout, _ := runCLI("probe", out)
			if c.ext == ".mp4" && (code != 0 || !strings.Contains(stdout, `"seekable": true`)) {
				t.Errorf("%s: fixed file is not seekable: %s", in, stdout)
			}
			t.Logf("%s: %.3f s", in, p.Duration)
		}
	}
}
