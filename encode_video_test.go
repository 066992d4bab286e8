//go:build libvpx

package mediarecorder_test

import (
	"errors"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	mr "github.com/gomediarecorder/mediarecorder"
	_ "github.com/gomediarecorder/mediarecorder/encode/vpx"
	"github.com/gomediarecorder/mediarecorder/internal/mediatest"
)

// source is raw I420 video that ffmpeg generates (lavfi), kept in a file so
// that the recording can be compared with it.
type source struct {
	path          string
	width, height int
	fps           int
	frames        int
}

func (s source) frameSize() int { return s.width*s.height + 2*((s.width+1)/2)*((s.height+1)/2) }

// genVideo has ffmpeg make secs of lavfi graph (e.g. "testsrc2") as raw I420.
func genVideo(t *testing.T, graph string, w, h, fps int, secs float64) source {
	t.Helper()
	name := "src.yuv"
	p := mediatest.FFmpeg(t, t.TempDir(), "-f", "lavfi", "-i",
		graph+"=size="+strconv.Itoa(w)+"x"+strconv.Itoa(h)+":rate="+strconv.Itoa(fps),
		"-t", strconv.FormatFloat(secs, 'f', -1, 64), "-pix_fmt", "yuv420p", "-f", "rawvideo", name)
	st, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	s := source{path: p, width: w, height: h, fps: fps}
	s.frames = int(st.Size()) / s.frameSize()
	return s
}

// frame returns frame i of s.
func (s source) frame(t *testing.T, f *os.File, i int) mr.VideoFrame {
	t.Helper()
	buf := make([]byte, s.frameSize())
	if _, err := f.ReadAt(buf, int64(i)*int64(len(buf))); err != nil && err != io.EOF {
		t.Fatal(err)
	}
	ysz, csz := s.width*s.height, ((s.width+1)/2)*((s.height+1)/2)
	return mr.VideoFrame{Format: mr.PixelI420, Width: s.width, Height: s.height,
		Planes: [3][]byte{buf[:ysz], buf[ysz : ysz+csz], buf[ysz+csz:]}}
}

// feed writes frames [from, to) of s into tr, stamped from base at the
// source's rate, as fast as the recorders take them.
func (s source) feed(t *testing.T, tr *mr.VideoTrack, base time.Duration, from, to int) {
	t.Helper()
	f, err := os.Open(s.path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for i := from; i < to; i++ {
		fr := s.frame(t, f, i)
		fr.Duration = time.Second / time.Duration(s.fps)
		if err := tr.WriteFrameWait(fr, base+time.Duration(i)*time.Second/time.Duration(s.fps)); err != nil {
			t.Fatal(err)
		}
	}
}

// recordVideo records all of s through a raw VideoTrack.
func recordVideo(t *testing.T, s source, opts mr.Options) (*collector, string) {
	t.Helper()
	tr := mr.NewVideoTrack()
	r, err := mr.New(mr.NewStream(tr), opts)
	if err != nil {
		t.Fatal(err)
	}
	c := collect(r)
	if err := r.Start(0); err != nil {
		t.Fatal(err)
	}
	s.feed(t, tr, mr.Now(), 0, s.frames)
	tr.Stop()
	c.wait(t)
	if len(c.errs) > 0 {
		t.Fatalf("errors: %v", c.errs)
	}
	if strings.HasPrefix(opts.MimeType, "video/mp4") {
		return c, c.file(t, "out.mp4")
	}
	return c, c.file(t, "out.webm")
}

var ssimAll = regexp.MustCompile(`All:([0-9.]+)`)

// ssim compares the video of path with the raw source, frame by frame:
// both decoded to raw I420 (every frame, none dropped or repeated) and
// compared by ffmpeg's ssim filter.
func ssim(t *testing.T, path string, s source) float64 {
	t.Helper()
	ffmpeg := mediatest.RequireTool(t, "ffmpeg")
	dec := mediatest.FFmpeg(t, t.TempDir(), "-i", path, "-fps_mode", "passthrough", "-f", "rawvideo", "-pix_fmt", "yuv420p", "dec.yuv")
	size, rate := strconv.Itoa(s.width)+"x"+strconv.Itoa(s.height), strconv.Itoa(s.fps)
	out, err := exec.CommandContext(t.Context(), ffmpeg, "-nostdin", "-hide_banner",
		"-f", "rawvideo", "-pix_fmt", "yuv420p", "-s", size, "-r", rate, "-i", dec,
		"-f", "rawvideo", "-pix_fmt", "yuv420p", "-s", size, "-r", rate, "-i", s.path,
		"-lavfi", "[0:v][1:v]ssim", "-f", "null", "-").CombinedOutput()
	if err != nil {
		t.Fatalf("ffmpeg ssim: %v\n%s", err, out)
	}
	m := ssimAll.FindAllSubmatch(out, -1)
	if m == nil {
		t.Fatalf("no SSIM in ffmpeg's output:\n%s", out)
	}
	v, _ := strconv.ParseFloat(string(m[len(m)-1][1]), 64)
	return v
}

// keyFrames returns the key-frame flags of the video packets of path, and
// their pts in ms.
func keyFrames(t *testing.T, path string) (keys []bool, pts []int64) {
	t.Helper()
	for _, l := range mediatest.FFprobeLines(t, path, "-select_streams", "v", "-show_entries", "packet=pts,flags", "-of", "csv=p=0") {
		f := strings.Split(l, ",")
		p, _ := strconv.ParseInt(f[0], 10, 64)
		pts = append(pts, p)
		keys = append(keys, len(f) > 1 && strings.Contains(f[1], "K"))
	}
	return keys, pts
}

// SSIM thresholds: testsrc2 at 320x240, 30 fps and 500 kb/s (0.22 bits per
// pixel, plenty for this size) comes out near 0.985-0.99 with both codecs at
// cpu-used 8. A wrong plane order, a chroma offset, a stride error or a
// frame shifted in time drops it below 0.8; 0.9 leaves room for libvpx
// versions and still catches those.
const minSSIM = 0.90

func TestRawVideoVPx(t *testing.T) {
	if testing.Short() {
		t.Skip("encodes video with ffmpeg checks")
	}
	s := genVideo(t, "testsrc2", 320, 240, 30, 3)
	for _, tc := range []struct{ codec, mime string }{
		{"vp8", "video/webm;codecs=vp8"},
		{"vp9", "video/webm;codecs=vp9"},
		{"vp9", "video/mp4"}, // the recorder's choice for MP4, which holds no VP8
	} {
		codec := tc.codec
		t.Run(tc.mime, func(t *testing.T) {
			_, path := recordVideo(t, s, mr.Options{MimeType: tc.mime, VideoBitsPerSecond: 500_000})
			mediatest.Decode(t, path)
			v := streamOf(mediatest.FFprobe(t, path), "video")
			if v == nil || v.CodecName != codec || v.Width != 320 || v.Height != 240 || v.NbReadFrames != s.frames {
				t.Fatalf("video stream %+v, want %s 320x240 with %d frames", v, codec, s.frames)
			}
			got := ssim(t, path, s)
			t.Logf("%s: SSIM %.4f over %d frames", codec, got, s.frames)
			if got < minSSIM {
				t.Errorf("SSIM %.4f < %.2f", got, minSSIM)
			}
			keys, _ := keyFrames(t, path)
			if len(keys) == 0 || !keys[0] {
				t.Errorf("the first frame is not a key frame: %v", keys)
			}
		})
	}
}

// TestRawVideoBitrate measures the bitrate over 30 s of varied content (a
// different picture each frame: testsrc2's moving pattern, then the
// mandelbrot zoom), for each codec: within ±10 % of the target.
func TestRawVideoBitrate(t *testing.T) {
	if testing.Short() {
		t.Skip("encodes 30 s of video")
	}
	for _, tc := range []struct {
		codec, graph string
		bps          uint64
	}{
		{"vp8", "testsrc2", 400_000},
		{"vp9", "mandelbrot", 300_000},
	} {
		t.Run(tc.codec, func(t *testing.T) {
			s := genVideo(t, tc.graph, 320, 240, 30, 30)
			_, path := recordVideo(t, s, mr.Options{MimeType: "video/webm;codecs=" + tc.codec, VideoBitsPerSecond: tc.bps})
			mediatest.Decode(t, path)
			got, n := streamBitrate(t, path, "v")
			t.Logf("%s on %s: %d frames, %.0f b/s for a target of %d (%+.1f %%)", tc.codec, tc.graph, n, got, tc.bps, 100*(got-float64(tc.bps))/float64(tc.bps))
			if math.Abs(got-float64(tc.bps))/float64(tc.bps) > 0.10 {
				t.Errorf("bitrate %.0f, want %d ±10 %%", got, tc.bps)
			}
		})
	}
}

func TestRawVideoKeyFrameOptions(t *testing.T) {
	if testing.Short() {
		t.Skip("encodes video with ffprobe checks")
	}
	s := genVideo(t, "testsrc2", 160, 120, 30, 2)
	// The interval is a longest gap: the recorder may ask for an extra key
	// frame (at its start, which it may reach after the first frames when
	// the machine is busy), after which the count starts again.
	t.Run("count", func(t *testing.T) {
		_, path := recordVideo(t, s, mr.Options{MimeType: "video/webm;codecs=vp8", VideoKeyFrameIntervalCount: 10})
		keys, _ := keyFrames(t, path)
		last, n := 0, 0
		for i, k := range keys {
			if k {
				n++
				last = i
			} else if i-last >= 10 {
				t.Fatalf("frame %d: %d frames since the key frame %d; flags %v", i, i-last, last, keys)
			}
		}
		if !keys[0] || n < len(keys)/10 || n > len(keys)/10+2 {
			t.Errorf("%d key frames in %d frames; flags %v", n, len(keys), keys)
		}
	})
	t.Run("duration", func(t *testing.T) {
		_, path := recordVideo(t, s, mr.Options{MimeType: "video/webm;codecs=vp9", VideoKeyFrameIntervalDuration: 500 * time.Millisecond})
		keys, pts := keyFrames(t, path)
		var at []int64
		for i, k := range keys {
			if k {
				at = append(at, pts[i])
			} else if pts[i]-at[len(at)-1] > 500 {
				t.Fatalf("frame at %d ms: more than 500 ms after the key frame at %d ms", pts[i], at[len(at)-1])
			}
		}
		if at[0] != 0 || len(at) < 4 || len(at) > 6 {
			t.Errorf("key frames at %v ms, want every 500 ms from 0", at)
		}
	})
	t.Run("pause", func(t *testing.T) {
		tr := mr.NewVideoTrack()
		r, err := mr.New(mr.NewStream(tr), mr.Options{MimeType: "video/webm;codecs=vp8"})
		if err != nil {
			t.Fatal(err)
		}
		c := collect(r)
		must(t, r.Start(0))
		base := mr.Now()
		s.feed(t, tr, base, 0, 20)
		must(t, r.Pause())
		s.feed(t, tr, base, 20, 30)
		must(t, r.Resume())
		s.feed(t, tr, base, 30, s.frames)
		tr.Stop()
		c.wait(t)
		path := c.file(t, "out.webm")
		mediatest.Decode(t, path)
		keys, pts := keyFrames(t, path)
		// Frames 20-29 were written while paused: they are not in the
		// file, and frame 30, the first after the resume, is a key frame
		// (the timeline closes the gap: it is the file's frame 20).
		if len(keys) != s.frames-10 || !keys[0] || !keys[20] {
			t.Errorf("%d frames, want %d, with key frames at 0 and 20: pts %v, flags %v", len(keys), s.frames-10, pts, keys)
		}
	})
}

// TestRawVideoBadFrames writes broken frames between good ones: each gets
// an ErrBadFrame, nothing crashes, and the recording holds the good ones.
func TestRawVideoBadFrames(t *testing.T) {
	tr := mr.NewVideoTrack()
	r, err := mr.New(mr.NewStream(tr), mr.Options{MimeType: "video/webm;codecs=vp8"})
	if err != nil {
		t.Fatal(err)
	}
	c := collect(r)
	must(t, r.Start(0))
	good := func() mr.VideoFrame {
		return mr.VideoFrame{Format: mr.PixelI420, Width: 64, Height: 48,
			Planes: [3][]byte{make([]byte, 64*48), make([]byte, 32*24), make([]byte, 32*24)}}
	}
	base := mr.Now()
	ts := func(i int) time.Duration { return base + time.Duration(i)*33*time.Millisecond }
	must(t, tr.WriteFrameAt(good(), ts(0)))
	bad := []mr.VideoFrame{
		{},
		{Format: mr.PixelI420, Width: -1, Height: 48},
		{Format: 99, Width: 64, Height: 48},
		func() mr.VideoFrame { f := good(); f.Planes[1] = f.Planes[1][:10]; return f }(),
		func() mr.VideoFrame { f := good(); f.Strides[0] = 10; return f }(),
		func() mr.VideoFrame { f := good(); f.Width, f.Height = 66, 48; return f }(), // planes too short
		{Format: mr.PixelI420, Width: 32, Height: 24, Planes: [3][]byte{make([]byte, 32*24), make([]byte, 16*12), make([]byte, 16*12)}},
		{Format: mr.PixelNV12, Width: 64, Height: 48, Planes: [3][]byte{make([]byte, 64*48), make([]byte, 64*24)}},
		func() mr.VideoFrame { f := good(); f.Format = mr.PixelNV12; return f }(), // a third plane for NV12
	}
	for i, f := range bad {
		if err := tr.WriteFrameAt(f, ts(1)); !errors.Is(err, mr.ErrBadFrame) {
			t.Errorf("bad frame %d: %v, want ErrBadFrame", i, err)
		} else {
			t.Logf("bad frame %d: %v", i, err)
		}
	}
	for i := 1; i < 10; i++ {
		must(t, tr.WriteFrameAt(good(), ts(i)))
	}
	tr.Stop()
	c.wait(t)
	if len(c.errs) > 0 {
		t.Fatalf("errors: %v", c.errs)
	}
	path := c.file(t, "out.webm")
	mediatest.Decode(t, path)
	if v := streamOf(mediatest.FFprobe(t, path), "video"); v == nil || v.NbReadFrames != 10 {
		t.Errorf("video %+v, want 10 frames", v)
	}
}

// TestRawVideoNV12AndImage records NV12 frames and image.Image frames: the
// conversions keep the picture (SSIM against the I420 source).
func TestRawVideoNV12(t *testing.T) {
	if testing.Short() {
		t.Skip("encodes video with ffmpeg checks")
	}
	s := genVideo(t, "testsrc2", 320, 240, 30, 1)
	tr := mr.NewVideoTrack()
	r, err := mr.New(mr.NewStream(tr), mr.Options{MimeType: "video/webm;codecs=vp8", VideoBitsPerSecond: 1_000_000})
	if err != nil {
		t.Fatal(err)
	}
	c := collect(r)
	must(t, r.Start(0))
	f, err := os.Open(s.path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	base := mr.Now()
	for i := range s.frames {
		fr := s.frame(t, f, i)
		uv := make([]byte, 2*len(fr.Planes[1]))
		for j := range fr.Planes[1] {
			uv[2*j], uv[2*j+1] = fr.Planes[1][j], fr.Planes[2][j]
		}
		nv := mr.VideoFrame{Format: mr.PixelNV12, Width: fr.Width, Height: fr.Height, Planes: [3][]byte{fr.Planes[0], uv}}
		must(t, tr.WriteFrameWait(nv, base+time.Duration(i)*time.Second/30))
	}
	tr.Stop()
	c.wait(t)
	path := filepath.Join(t.TempDir(), "nv12.webm")
	path = c.file(t, filepath.Base(path))
	mediatest.Decode(t, path)
	got := ssim(t, path, s)
	t.Logf("NV12: SSIM %.4f", got)
	if got < minSSIM {
		t.Errorf("SSIM %.4f < %.2f", got, minSSIM)
	}
}
