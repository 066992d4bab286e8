package main

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/gomediarecorder/mediarecorder/internal/mediatest"
)

// TestRecordFiles records testdata's VP8 and Opus files into one WebM and
// one Matroska file and has ffmpeg and ffprobe judge them.
func TestRecordFiles(t *testing.T) {
	if testing.Short() {
		t.Skip("runs ffmpeg")
	}
	mediatest.RequireTool(t, "ffmpeg")
	for _, c := range []struct{ mime, name string }{{"", "out.webm"}, {"video/x-matroska", "out.mkv"}} {
		out := filepath.Join(t.TempDir(), c.name)
		err := record(context.Background(), out, c.mime,
			mediatest.Testdata(t, "vp8.ivf"), mediatest.Testdata(t, "opus-stereo.ogg"))
		if err != nil {
			t.Fatal(err)
		}
		if msg := mediatest.Decode(t, out); msg != "" {
			t.Errorf("%s: ffmpeg: %s", c.name, msg)
		}
		p := mediatest.FFprobe(t, out)
		if len(p.Streams) != 2 || p.Duration < 1.9 || p.Duration > 2.1 {
			t.Errorf("%s: ffprobe %+v", c.name, p)
		}
	}
}

func TestRecordFilesErrors(t *testing.T) {
	dir := t.TempDir()
	if err := record(context.Background(), filepath.Join(dir, "x.webm"), "", filepath.Join(dir, "missing.ivf")); err == nil {
		t.Error("a missing input: no error")
	}
	err := record(context.Background(), filepath.Join(dir, "x.webm"), "audio/ogg", mediatest.Testdata(t, "vp8.ivf"))
	if err == nil {
		t.Error("VP8 into Ogg: no error")
	}
	if m, _ := filepath.Glob(filepath.Join(dir, "*")); len(m) != 0 {
		t.Errorf("failed recordings left files: %v", m)
	}
}
