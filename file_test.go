package mediarecorder_test

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	mr "github.com/gomediarecorder/mediarecorder"
	"github.com/gomediarecorder/mediarecorder/internal/mediatest"
)

// recordFile records ms through StartFile into a new file.
func recordFile(t *testing.T, path, mime string, timeslice time.Duration, ms ...media) (*mr.Recorder, *collector) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	fd := newFeeder(ms...)
	r, err := mr.New(fd.stream(), mr.Options{MimeType: mime})
	if err != nil {
		t.Fatal(err)
	}
	c := collect(r)
	must(t, r.StartFile(f, timeslice))
	fd.feedAll(t)
	must(t, r.Stop())
	c.wait(t)
	return r, c
}

func TestStartFile(t *testing.T) {
	mediatest.RequireTool(t, "ffprobe")
	mediatest.RequireTool(t, "mkvinfo")
	for _, tc := range []struct {
		name, mime, ext string
		timeslice       time.Duration
		load            func(testing.TB) []media
	}{
		{"webm", "", ".webm", 0, func(t testing.TB) []media {
			return []media{loadIVF(t, "vp8.ivf", "video/VP8"), loadOpus(t, "opus-stereo.ogg")}
		}},
		{"webm timeslice", "", ".webm", 250 * time.Millisecond, func(t testing.TB) []media {
			return []media{loadIVF(t, "vp9.ivf", "video/VP9"), loadOpus(t, "opus-stereo.ogg")}
		}},
		{"matroska h264", "", ".mkv", 500 * time.Millisecond, func(t testing.TB) []media {
			return []media{loadH264(t, "h264.h264"), loadOpus(t, "opus-stereo.ogg")}
		}},
		{"ogg", "audio/ogg", ".ogg", 300 * time.Millisecond, func(t testing.TB) []media {
			return []media{loadOpus(t, "opus-stereo.ogg")}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "rec"+tc.ext)
			_, c := recordFile(t, path, tc.mime, tc.timeslice, tc.load(t)...)
			if out := mediatest.Decode(t, path); out != "" {
				t.Fatalf("ffmpeg: %s", out)
			}
			p := mediatest.FFprobe(t, path)
			if math.Abs(p.Duration-2.0) > 0.1 {
				t.Errorf("duration %.3f", p.Duration)
			}
			if tc.ext != ".ogg" {
				info := mediatest.MKVInfo(t, path)
				for _, want := range []string{"Cues", "Seek head", "Duration"} {
					if !strings.Contains(info, want) {
						t.Errorf("the file has no %s", want)
					}
				}
			}
			// The blobs are views of the file: concatenated after the stop,
			// they are the file.
			file, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			c.mu.Lock()
			defer c.mu.Unlock()
			var cat []byte
			var off int64
			for _, b := range c.blobs {
				if b.Data.Offset() != off {
					t.Errorf("blob at %d, want %d", b.Data.Offset(), off)
				}
				off += b.Data.Size()
				cat = append(cat, b.Data.Bytes()...)
				r, _ := io.ReadAll(b.Data.NewReader())
				if !bytes.Equal(r, b.Data.Bytes()) {
					t.Error("NewReader and Bytes differ")
				}
			}
			if !bytes.Equal(cat, file) {
				t.Errorf("blobs (%d bytes) are not the file (%d bytes)", len(cat), len(file))
			}
			if tc.timeslice > 0 && len(c.blobs) < 3 {
				t.Errorf("%d blobs", len(c.blobs))
			}
		})
	}
}

// A full disk: error (UnknownError), dataavailable, stop; what reached the
// file before is a valid recording.
func TestStartFileDiskFull(t *testing.T) {
	mediatest.RequireTool(t, "ffmpeg")
	path := filepath.Join(t.TempDir(), "full.webm")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	v := loadIVF(t, "vp8.ivf", "video/VP8")
	a := loadOpus(t, "opus-stereo.ogg")
	fd := newFeeder(v, a)
	r, err := mr.New(fd.stream(), mr.Options{})
	if err != nil {
		t.Fatal(err)
	}
	c := collect(r)
	must(t, r.StartFile(&mediatest.FullDisk{File: f, Limit: 300_000}, 0))
	fd.loop = true
	// 40 s of media (about 2 MB): more than the file buffer, so writes
	// reach the "disk" and fail while recording; the recorder stops itself.
	for i := range 40 {
		fd.feedUntil(t, time.Duration(i+1)*time.Second)
		time.Sleep(5 * time.Millisecond)
	}
	c.wait(t)
	c.mu.Lock()
	events := strings.Join(c.events, ",")
	errs := c.errs
	c.mu.Unlock()
	if events != "start,error,dataavailable,stop" {
		t.Fatalf("events %s", events)
	}
	if !errors.Is(errs[0], mr.ErrUnknown) || !strings.Contains(errs[0].Error(), "no space") {
		t.Errorf("error %v", errs[0])
	}
	if r.State() != mr.StateInactive {
		t.Errorf("state %s", r.State())
	}
	st, _ := os.Stat(path)
	if st.Size() == 0 || st.Size() > 300_000 {
		t.Fatalf("file size %d", st.Size())
	}
	// The disk filled mid-write: the file was cut back to the last whole
	// element, so it reads without a single complaint.
	if out := mediatest.Decode(t, path); out != "" {
		t.Errorf("ffmpeg on the file left by the full disk: %s", out)
	}
	p, _ := mediatest.FFprobeTruncated(t, path)
	if len(p.Streams) != 2 || p.Streams[0].NbReadFrames < 60 {
		t.Errorf("what was written before the disk filled does not read: %+v", p.Streams)
	}
}

// TestCrashSafety kills a process recording in real time with SIGKILL and
// decodes what it left: at most the last second is lost.
func TestCrashSafety(t *testing.T) {
	if os.Getenv("MR_CRASH_CHILD") != "" {
		crashChild(t, os.Getenv("MR_CRASH_CHILD"))
		return
	}
	mediatest.RequireTool(t, "ffmpeg")
	path := filepath.Join(t.TempDir(), "crash.webm")
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashSafety$", "-test.count=1")
	cmd.Env = append(os.Environ(), "MR_CRASH_CHILD="+path)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	must(t, cmd.Start())
	// Wait until the child has recorded a while.
	ready := make(chan struct{})
	lines := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if sc.Text() == "fed 3s" {
				close(ready)
			}
			select {
			case lines <- sc.Text():
			default:
			}
		}
	}()
	select {
	case <-ready:
	case <-time.After(20 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatalf("the child did not record (%d lines)", len(lines))
	}
	must(t, cmd.Process.Signal(syscall.SIGKILL))
	_ = cmd.Wait()
	if out := mediatest.Decode(t, path); out != "" {
		t.Fatalf("the file left by a crash does not decode cleanly: %s", out)
	}
	p := mediatest.FFprobe(t, path)
	var frames int
	for _, s := range p.Streams {
		if s.CodecType == "video" {
			frames = s.NbReadFrames
		}
	}
	// 3 s were fed (90 frames); at most 1 s may be lost.
	if len(p.Streams) != 2 || frames < 60 {
		t.Errorf("after the crash: %d video frames, streams %+v", frames, p.Streams)
	}
}

// crashChild records looped test media in real time into path until killed.
func crashChild(t *testing.T, path string) {
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	v := loadIVF(t, "vp8.ivf", "video/VP8")
	a := loadOpus(t, "opus-stereo.ogg")
	fd := newFeeder(v, a)
	r, err := mr.New(fd.stream(), mr.Options{})
	if err != nil {
		t.Fatal(err)
	}
	must(t, r.StartFile(f, 0))
	fd.loop = true
	start := time.Now()
	for step := 1; step <= 600; step++ { // 60 s in 100 ms steps, in real time
		until := time.Duration(step) * 100 * time.Millisecond
		time.Sleep(time.Until(start.Add(until)))
		fd.feedUntil(t, until)
		if step%10 == 0 {
			fmt.Printf("fed %ds\n", step/10)
		}
	}
}
