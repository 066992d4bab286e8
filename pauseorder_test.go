package mediarecorder

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/gomediarecorder/mediarecorder/codecs/h264"
	"github.com/gomediarecorder/mediarecorder/internal/mediatest"
)

// TestPauseWhileWriting pauses and resumes a recording of H.264 with
// B-pyramids while its goroutine is writing the samples before the pause
// (as a loaded machine schedules it), and the frames after the resume
// come before it gets to the pause: the pause still applies after the
// frames before it, and the order's frames held at the pause are timed
// there. Before, the goroutine wrote every queued sample first, the
// resume's frames too, and the pause flushed the order in the middle of
// the next group of pictures: a P-frame took a B-frame's presentation
// time, ffmpeg output the pictures at times that went back, and
// TestH264BFramesPause failed under load ("frame 29 at 967 after 967").
func TestPauseWhileWriting(t *testing.T) {
	if testing.Short() {
		t.Skip("encodes with ffmpeg")
	}
	mediatest.RequireTool(t, "ffmpeg")
	mediatest.RequireTool(t, "ffprobe")
	dir := t.TempDir()
	src := mediatest.FFmpeg(t, dir, "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=30", "-frames:v", "60",
		"-pix_fmt", "yuv420p", "-c:v", "libx264", "-preset", "veryfast", "-b:v", "400k",
		"-bf", "3", "-g", "12", "-x264-params", "b-pyramid=normal", "-f", "h264", "bf.h264")
	raw, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	var aus [][]byte
	for rd := h264.NewAccessUnitReader(bytes.NewReader(raw)); ; {
		au, err := rd.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		aus = append(aus, slices.Clone(au))
	}
	for _, ext := range []string{".mkv", ".mp4"} {
		t.Run(ext, func(t *testing.T) {
			mime := "video/x-matroska;codecs=avc1"
			if ext == ".mp4" {
				mime = "video/mp4;codecs=avc1"
			}
			tr := NewSampleTrack(Codec{MimeType: "video/H264", ClockRate: 90000})
			r := mustNew(t, NewStream(tr), Options{MimeType: mime})
			l := watch(r)
			var mu sync.Mutex // feed runs on the test's goroutine and in the hook
			next := 0
			feed := func(to int) {
				mu.Lock()
				defer mu.Unlock()
				for ; next < to; next++ {
					if err := tr.WriteSample(Sample{Data: aus[next], Duration: time.Second / 30}); err != nil {
						t.Error(err)
					}
				}
			}
			// While the goroutine writes frame 20, the last before the
			// pause at 700 ms: pause, frames 21-29 (dropped), resume, and
			// frames 30-37 (the key frame at 36 and the P-frame after it,
			// whose B-frames have yet to come).
			writes := 0
			testHookWrite = func() error {
				if writes++; writes == 21 {
					if err := r.Pause(); err != nil {
						t.Error(err)
					}
					feed(30)
					if err := r.Resume(); err != nil {
						t.Error(err)
					}
					feed(38)
				}
				return nil
			}
			defer func() { testHookWrite = nil }()
			must(t, r.Start(0))
			feed(21)
			deadline := time.Now().Add(10 * time.Second)
			for !slices.Contains(l.names(), "resume") && time.Now().Before(deadline) {
				time.Sleep(time.Millisecond)
			}
			feed(len(aus))
			must(t, r.Stop())
			l.waitStop(t)
			out := filepath.Join(dir, "paused"+ext)
			if err := os.WriteFile(out, l.data(), 0o644); err != nil {
				t.Fatal(err)
			}
			mediatest.Decode(t, out)
			ts := mediatest.FrameTimestamps(t, out, "v:0")
			for i := 1; i < len(ts); i++ {
				if ts[i] <= ts[i-1] {
					t.Errorf("frame %d at %d after %d: %v", i, ts[i], ts[i-1], ts)
					break
				}
			}
			if len(ts) != 21+24 {
				t.Errorf("%d frames, want 21 before the pause and 24 from the key frame after it", len(ts))
			}
		})
	}
}
