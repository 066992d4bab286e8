package mediarecorder_test

import (
	"bytes"
	"encoding/binary"
	"io"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	mr "github.com/gomediarecorder/mediarecorder"
	"github.com/gomediarecorder/mediarecorder/codecs/h264"
	"github.com/gomediarecorder/mediarecorder/internal/mediatest"
)

// h264Inputs are the libx264 streams TestH264BFrames records: B-frames,
// B-pyramids, interlacing and open GOPs (pic_order_cnt_type 0), and none
// (type 2).
var h264Inputs = []struct {
	name  string
	args  []string
	type1 bool // rewritten to pic_order_cnt_type 1 (mediatest.H264POCType1)
}{
	{"bf2-pyramid", []string{"-bf", "2", "-g", "30", "-x264-params", "b-pyramid=normal"}, false},
	{"bf3-strict-pyramid", []string{"-bf", "3", "-g", "24", "-x264-params", "b-pyramid=strict"}, false},
	{"bf1", []string{"-bf", "1", "-g", "15", "-x264-params", "b-pyramid=none"}, false},
	{"interlaced-bf2", []string{"-flags", "+ildct+ilme", "-bf", "2", "-g", "20"}, false},
	{"open-gop-bf3", []string{"-bf", "3", "-g", "16", "-x264-params", "open-gop=1"}, false},
	{"bf0", []string{"-bf", "0", "-g", "30"}, false},
	{"poc-type-1-pyramid", []string{"-coder", "0", "-bf", "3", "-g", "20", "-x264-params", "b-pyramid=normal"}, true},
}

// makeH264 encodes 2 s (60 frames at 30 fps) of testsrc2 with libx264 and
// the given options into an Annex B file in dir.
func makeH264(t *testing.T, dir, name string, args []string) string {
	t.Helper()
	a := []string{"-f", "lavfi", "-i", "testsrc2=size=320x240:rate=30", "-frames:v", "60",
		"-pix_fmt", "yuv420p", "-c:v", "libx264", "-preset", "veryfast", "-b:v", "400k"}
	a = append(append(a, args...), "-f", "h264", name+".h264")
	return mediatest.FFmpeg(t, dir, a...)
}

// rewritePOCType1 writes the stream at path with pic_order_cnt_type 1
// next to it and returns the new file's path.
func rewritePOCType1(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if data, err = mediatest.H264POCType1(data); err != nil {
		t.Fatal(err)
	}
	out := strings.TrimSuffix(path, ".h264") + "-type1.h264"
	if err := os.WriteFile(out, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return out
}

// loadH264Path reads the access units of an Annex B file at path (30 fps).
func loadH264Path(t testing.TB, path string) media {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	r := h264.NewAccessUnitReader(bytes.NewReader(data))
	m := media{codec: mr.Codec{MimeType: "video/H264", ClockRate: 90000}}
	for {
		au, err := r.Next()
		if err == io.EOF {
			return m
		}
		if err != nil {
			t.Fatal(err)
		}
		m.samples = append(m.samples, mr.Sample{Data: bytes.Clone(au), Duration: time.Second / 30})
	}
}

// TestH264BFrames records H.264 streams with B-frames (decoding order
// differs from presentation order) into Matroska and MP4, in one blob and
// in timeslices, alone and with Opus: every frame is kept, and the
// recording shows the input's pictures in the input's order at increasing
// times. Before presentation times came from the picture order, frames were
// stamped in decoding order and ffmpeg dropped some of them ("non
// monotonically increasing dts"): 59 of 60 decoded.
func TestH264BFrames(t *testing.T) {
	if testing.Short() {
		t.Skip("encodes with ffmpeg")
	}
	mediatest.RequireTool(t, "ffmpeg")
	mediatest.RequireTool(t, "ffprobe")
	dir := t.TempDir()
	for _, in := range h264Inputs {
		t.Run(in.name, func(t *testing.T) {
			t.Parallel()
			src := makeH264(t, dir, in.name, in.args)
			if in.type1 {
				src = rewritePOCType1(t, src)
			}
			video := loadH264Path(t, src)
			for _, c := range []struct {
				name, mime string
				timeslice  time.Duration
				opus       bool
			}{
				{"mkv", "video/x-matroska;codecs=avc1", 0, false},
				{"mp4", "video/mp4;codecs=avc1", 0, false},
				{"mkv-opus-timeslice", "video/x-matroska;codecs=avc1,opus", 300 * time.Millisecond, true},
				{"mp4-opus-timeslice", "video/mp4;codecs=avc1,opus", 300 * time.Millisecond, true},
			} {
				t.Run(c.name, func(t *testing.T) {
					ms := []media{video}
					if c.opus {
						ms = append(ms, loadOpus(t, "opus-stereo.ogg"))
					}
					_, col, _ := record(t, c.mime, c.timeslice, ms...)
					if len(col.errs) > 0 {
						t.Fatalf("errors: %v", col.errs)
					}
					ext := ".mkv"
					if strings.HasPrefix(c.mime, "video/mp4") {
						ext = ".mp4"
					}
					out := col.file(t, in.name+"-"+c.name+ext)
					mediatest.SamePictures(t, src, out)
					if ext == ".mp4" && in.name == "bf0" {
						// Without reordering the samples are stored as
						// before: no composition offsets.
						if f := truns(t, out); f&0x800 != 0 {
							t.Errorf("trun flags %#x: composition offsets for a stream without B-frames", f)
						}
					}
					if ext == ".mp4" && in.name == "bf2-pyramid" {
						if f := truns(t, out); f&0x800 == 0 {
							t.Errorf("trun flags %#x: no composition offsets", f)
						}
					}
				})
			}
		})
	}
}

// truns returns the union of the flags of the MP4 file's trun boxes.
func truns(t *testing.T, path string) uint32 {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var flags uint32
	for i := 4; i+8 <= len(data); i++ {
		if string(data[i:i+4]) == "trun" {
			flags |= binary.BigEndian.Uint32(data[i+4:]) & 0xffffff
		}
	}
	return flags
}

// TestH264BFramesPause pauses and resumes a recording of a stream with
// B-pyramids: frames held for their presentation time at the pause are
// written, the file decodes cleanly at increasing times.
func TestH264BFramesPause(t *testing.T) {
	if testing.Short() {
		t.Skip("encodes with ffmpeg")
	}
	mediatest.RequireTool(t, "ffmpeg")
	src := makeH264(t, t.TempDir(), "bf", []string{"-bf", "3", "-g", "12", "-x264-params", "b-pyramid=normal"})
	video := loadH264Path(t, src)
	for _, ext := range []string{".mkv", ".mp4"} {
		t.Run(ext, func(t *testing.T) {
			mime := "video/x-matroska;codecs=avc1"
			if ext == ".mp4" {
				mime = "video/mp4;codecs=avc1"
			}
			f := newFeeder(video)
			f.wait = true
			r, err := mr.New(f.stream(), mr.Options{MimeType: mime})
			if err != nil {
				t.Fatal(err)
			}
			c := collect(r)
			if err := r.Start(0); err != nil {
				t.Fatal(err)
			}
			f.feedUntil(t, 700*time.Millisecond) // mid-GOP
			if err := r.Pause(); err != nil {
				t.Fatal(err)
			}
			f.feedUntil(t, 1000*time.Millisecond)
			if err := r.Resume(); err != nil {
				t.Fatal(err)
			}
			f.feedAll(t)
			ts := stopPaused(t, r, c, ext)
			if len(ts) < 30 || len(ts) > 60 {
				t.Errorf("%d frames", len(ts))
			}
			t.Logf("%d frames", len(ts))
		})
	}
}

// stopPaused stops r, checks that its recording (a file of type ext)
// decodes cleanly with its video frames at increasing times, and returns
// their times.
func stopPaused(t *testing.T, r *mr.Recorder, c *collector, ext string) []int64 {
	t.Helper()
	if err := r.Stop(); err != nil {
		t.Fatal(err)
	}
	c.wait(t)
	if len(c.errs) > 0 {
		t.Fatalf("errors: %v", c.errs)
	}
	out := c.file(t, "paused"+ext)
	mediatest.Decode(t, out)
	ts := mediatest.FrameTimestamps(t, out, "v:0")
	for i := 1; i < len(ts); i++ {
		if ts[i] <= ts[i-1] {
			t.Fatalf("frame %d at %d after %d: %v", i, ts[i], ts[i-1], ts)
		}
	}
	return ts
}

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
	video := loadH264Path(t, makeH264(t, dir, "bf", []string{"-bf", "3", "-g", "12", "-x264-params", "b-pyramid=normal"}))
	for _, ext := range []string{".mkv", ".mp4"} {
		t.Run(ext, func(t *testing.T) {
			mime := "video/x-matroska;codecs=avc1"
			if ext == ".mp4" {
				mime = "video/mp4;codecs=avc1"
			}
			tr := mr.NewSampleTrack(video.codec)
			r, err := mr.New(mr.NewStream(tr), mr.Options{MimeType: mime})
			if err != nil {
				t.Fatal(err)
			}
			c := collect(r)
			var mu sync.Mutex // feed runs on the test's goroutine and in the hook
			next := 0
			feed := func(to int) {
				mu.Lock()
				defer mu.Unlock()
				for ; next < to; next++ {
					if err := tr.WriteSample(video.samples[next]); err != nil {
						t.Error(err)
					}
				}
			}
			// While the goroutine writes frame 20, the last before the
			// pause at 700 ms: pause, frames 21-29 (dropped), resume, and
			// frames 30-37 (the key frame at 36 and the P-frame after it,
			// whose B-frames have yet to come).
			writes := 0
			resumed := make(chan struct{})
			defer mr.SetWriteHook(func() error {
				if writes++; writes == 21 {
					if err := r.Pause(); err != nil {
						t.Error(err)
					}
					feed(30)
					if err := r.Resume(); err != nil {
						t.Error(err)
					}
					feed(38)
					close(resumed)
				}
				return nil
			})()
			if err := r.Start(0); err != nil {
				t.Fatal(err)
			}
			feed(21)
			<-resumed
			feed(len(video.samples))
			ts := stopPaused(t, r, c, ext)
			if len(ts) != 21+24 {
				t.Errorf("%d frames, want 21 before the pause and 24 from the key frame after it", len(ts))
			}
		})
	}
}
