package filesource_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	mr "github.com/gomediarecorder/mediarecorder"
	"github.com/gomediarecorder/mediarecorder/filesource"
	"github.com/gomediarecorder/mediarecorder/internal/mediatest"
)

// recording is what recordFiles produced.
type recording struct {
	path    string // the blob, written to a file
	mime    string
	playErr error
	stats   mr.Stats
	errs    []error // error events
}

// recordFiles records the tracks of files through a Recorder (one blob,
// Start(0)) while Play feeds them, and writes the blob to a file.
func recordFiles(t *testing.T, ctx context.Context, files ...*filesource.File) recording {
	t.Helper()
	var tracks []mr.Track
	for _, f := range files {
		for _, tr := range f.Tracks() {
			tracks = append(tracks, tr)
		}
	}
	rec, err := mr.New(mr.NewStream(tracks...), mr.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu   sync.Mutex
		data []byte
		mime string
		errs []error
	)
	stopped := make(chan struct{})
	rec.OnDataAvailable(func(e mr.BlobEvent) {
		mu.Lock()
		data = append(data, e.Data.Bytes()...)
		mime = e.Data.Type()
		mu.Unlock()
	})
	rec.OnError(func(err error) {
		mu.Lock()
		errs = append(errs, err)
		mu.Unlock()
	})
	rec.OnStop(func() { close(stopped) })
	if err := rec.Start(0); err != nil {
		t.Fatal(err)
	}
	playErr := filesource.Play(ctx, files, nil)
	select {
	case <-stopped:
	case <-time.After(20 * time.Second):
		t.Fatal("the recorder did not stop after the tracks ended")
	}
	for _, f := range files {
		if err := f.Close(); err != nil {
			t.Error(err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	ext := ".webm"
	if strings.Contains(mime, "matroska") {
		ext = ".mkv"
	}
	out := filepath.Join(t.TempDir(), "out"+ext)
	if err := os.WriteFile(out, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return recording{path: out, mime: mime, playErr: playErr, stats: rec.Stats(), errs: errs}
}

// ffmpeg runs ffmpeg with args (after -y -v error) and fails the test on
// any failure.
func ffmpeg(t testing.TB, args ...string) {
	t.Helper()
	bin := mediatest.RequireTool(t, "ffmpeg")
	args = append([]string{"-nostdin", "-hide_banner", "-y", "-v", "error"}, args...)
	out, err := exec.Command(bin, args...).CombinedOutput()
	if err != nil || len(out) > 0 {
		t.Fatalf("ffmpeg %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// startTimes returns ffprobe's start_time of each stream of path.
func startTimes(t testing.TB, path string) []float64 {
	t.Helper()
	bin := mediatest.RequireTool(t, "ffprobe")
	out, err := exec.Command(bin, "-v", "error", "-show_entries", "stream=start_time",
		"-of", "csv=p=0", path).CombinedOutput()
	if err != nil {
		t.Fatalf("ffprobe: %v\n%s", err, out)
	}
	var ts []float64
	for _, l := range strings.Fields(string(out)) {
		v, err := strconv.ParseFloat(strings.TrimSuffix(l, ","), 64)
		if err != nil {
			t.Fatalf("ffprobe start_time %q: %v", l, err)
		}
		ts = append(ts, v)
	}
	return ts
}

// cut writes the first n bytes of src to a new file named name.
func cut(t testing.TB, src string, n int64, name string) string {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if n > int64(len(b)) {
		t.Fatalf("cut %s at %d: only %d bytes", src, n, len(b))
	}
	out := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(out, b[:n], 0o644); err != nil {
		t.Fatal(err)
	}
	return out
}

func open(t testing.TB, path string, opt filesource.Options) *filesource.File {
	t.Helper()
	f, err := filesource.Open(path, opt)
	if err != nil {
		t.Fatal(err)
	}
	return f
}
