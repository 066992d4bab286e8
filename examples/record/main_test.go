package main

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/gomediarecorder/mediarecorder/internal/mediatest"
)

// TestRecord runs the example (two seconds in real time) as one finished
// blob and as half-second blobs, and has ffmpeg and ffprobe judge the files.
func TestRecord(t *testing.T) {
	if testing.Short() {
		t.Skip("records in real time and runs ffmpeg")
	}
	mediatest.RequireTool(t, "ffmpeg")
	dir := t.TempDir()
	t.Chdir("../..") // the example reads testdata/ from the module root
	for _, timeslice := range []time.Duration{0, 500 * time.Millisecond} {
		out := filepath.Join(dir, "out"+timeslice.String()+".webm")
		if err := run(out, timeslice); err != nil {
			t.Fatal(err)
		}
		// A live stream (timeslice) has no Duration: decode on its own times.
		if msg := mediatest.DecodeVFR(t, out); msg != "" {
			t.Errorf("timeslice %v: ffmpeg: %s", timeslice, msg)
		}
		p := mediatest.FFprobe(t, out)
		if len(p.Streams) != 2 {
			t.Errorf("timeslice %v: ffprobe %+v", timeslice, p)
		}
	}
}

func TestReadIVF(t *testing.T) {
	frames, err := readIVF(mediatest.Testdata(t, "vp8.ivf"))
	if err != nil || len(frames) != 60 {
		t.Fatalf("readIVF: %d frames, %v; want 60", len(frames), err)
	}
	if _, err := readIVF(mediatest.Testdata(t, "opus-stereo.ogg")); err == nil {
		t.Error("readIVF read an Ogg file")
	}
}
