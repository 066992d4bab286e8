package storage_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	mr "github.com/gomediarecorder/mediarecorder"
	"github.com/gomediarecorder/mediarecorder/internal/mediatest"
	"github.com/gomediarecorder/mediarecorder/storage"
)

// recordInto records loops of testdata/vp8.ivf through Recorder.StartFile
// into w until it holds at least size bytes, then stops the recorder and
// waits for its stop event (the file finished in place).
func recordInto(t *testing.T, w storage.Writer, size int64) {
	t.Helper()
	frames := mediatest.IVFFrames(t, mediatest.Testdata(t, "vp8.ivf"))
	track := mr.NewSampleTrack(mr.Codec{MimeType: "video/VP8", ClockRate: 90000})
	r, err := mr.New(mr.NewStream(track), mr.Options{MimeType: "video/webm"})
	if err != nil {
		t.Fatal(err)
	}
	stopped := make(chan struct{})
	r.OnStop(func() { close(stopped) })
	if err := r.StartFile(w, 0); err != nil {
		t.Fatal(err)
	}
	for w.Size() < size {
		for _, f := range frames {
			if err := track.WriteSample(mr.Sample{Data: f, Duration: 33 * time.Millisecond}); err != nil {
				t.Fatal(err)
			}
		}
		time.Sleep(time.Millisecond) // let the recorder keep up (what it drops would only be missing)
	}
	if err := r.Stop(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-stopped:
	case <-time.After(2 * time.Minute):
		t.Fatal("no stop event")
	}
}

// A real recording, WebM of more than three parts, through the S3 writer:
// the object is the local file byte for byte, and a finished, seekable
// WebM (SeekHead, Duration, Cues) that ffmpeg decodes cleanly.
func TestRecorderIntoS3(t *testing.T) {
	mediatest.RequireTool(t, "ffmpeg")
	mediatest.RequireTool(t, "mkvinfo")
	eachBackend(t, false, func(t *testing.T, b backend) {
		st := newStore(t, b, t.TempDir(), func(o *storage.S3Options) { o.KeepSpool = true })
		w := create(t, st, "rec.webm")
		recordInto(t, w, 3*ps+ps/2)
		if err := w.Commit(context.Background()); err != nil {
			t.Fatal(err)
		}
		local, err := os.ReadFile(w.Name())
		if err != nil {
			t.Fatal(err)
		}
		obj := readObject(t, st, "rec.webm")
		sameBytes(t, "object", obj, local)
		t.Logf("%d bytes, stats %+v", len(obj), s3w(t, w).Stats())
		path := filepath.Join(t.TempDir(), "object.webm")
		if err := os.WriteFile(path, obj, 0o644); err != nil {
			t.Fatal(err)
		}
		if out := mediatest.Decode(t, path); out != "" {
			t.Fatalf("ffmpeg: %s", out)
		}
		info := mediatest.MKVInfo(t, path)
		for _, want := range []string{"Cues", "Seek head", "Duration"} {
			if !strings.Contains(info, want) {
				t.Errorf("the object has no %s", want)
			}
		}
	})
}
