package mediarecorder_test

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	mr "github.com/gomediarecorder/mediarecorder"
	"github.com/gomediarecorder/mediarecorder/internal/mediatest"
	"github.com/gomediarecorder/mediarecorder/mp4"
	"github.com/gomediarecorder/mediarecorder/ogg"
)

// TestCrashSafetyMP4 kills a process that records VP9 with a key frame
// every 10 s (as WebRTC senders send them) and Opus into an MP4 file in
// real time, then repairs what it left with mp4.Fix: it decodes cleanly
// and at most the last second is lost. Before fragments were cut every
// half second and flushed, everything after the first key frame's
// fragment was lost (the fragment in flight waited for the next key frame
// or 5 s).
func TestCrashSafetyMP4(t *testing.T) {
	if os.Getenv("MR_CRASH_FIX_CHILD") != "" {
		crashFixChild(t)
		return
	}
	testCrashFix(t, "video/mp4", ".mp4", func(dst *os.File, src *os.File) (time.Duration, error) {
		rep, err := mp4.Fix(dst, src, mp4.FixOptions{})
		return rep.Duration, err
	})
}

// TestCrashSafetyOgg is TestCrashSafetyMP4 for Ogg Opus and ogg.Fix.
func TestCrashSafetyOgg(t *testing.T) {
	if os.Getenv("MR_CRASH_FIX_CHILD") != "" {
		crashFixChild(t)
		return
	}
	testCrashFix(t, "audio/ogg", ".ogg", func(dst *os.File, src *os.File) (time.Duration, error) {
		rep, err := ogg.Fix(dst, src)
		return rep.Duration, err
	})
}

// crashKillAt is the media time after which the child is killed: between
// two half-second fragments, long before the second key frame.
const crashKillAt = 4300 * time.Millisecond

func testCrashFix(t *testing.T, mime, ext string, fix func(dst, src *os.File) (time.Duration, error)) {
	mediatest.RequireTool(t, "ffmpeg")
	if testing.Short() {
		t.Skip("runs a recorder in real time for 4 s")
	}
	dir := t.TempDir()
	if d := os.Getenv("MR_CRASH_KEEP"); d != "" {
		dir = d
	}
	video := ""
	if strings.HasPrefix(mime, "video/") {
		video = filepath.Join(dir, "gop10s.ivf")
		mediatest.FFmpeg(t, dir, "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=30", "-t", "6",
			"-c:v", "libvpx-vp9", "-g", "300", "-keyint_min", "300", "-deadline", "realtime", "-cpu-used", "8",
			"-b:v", "300k", "-f", "ivf", "gop10s.ivf")
	}
	path := filepath.Join(dir, "crash"+ext)
	cmd := exec.Command(os.Args[0], "-test.run=^"+t.Name()+"$", "-test.count=1")
	cmd.Env = append(os.Environ(), "MR_CRASH_FIX_CHILD="+path, "MR_CRASH_FIX_MIME="+mime, "MR_CRASH_FIX_VIDEO="+video)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	must(t, cmd.Start())
	fed := make(chan time.Duration, 1000)
	var output bytes.Buffer
	readDone := make(chan struct{})
	go func() {
		defer close(readDone)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			output.WriteString(sc.Text() + "\n")
			if ms, ok := strings.CutPrefix(sc.Text(), "fed ms "); ok {
				n, _ := strconv.Atoi(ms)
				fed <- time.Duration(n) * time.Millisecond
			}
		}
	}()
	killAt := crashKillAt
	if s := os.Getenv("MR_CRASH_KILL_AT"); s != "" { // to measure other points
		killAt, _ = time.ParseDuration(s)
	}
	var last time.Duration
	timeout := time.After(60 * time.Second)
	for last < killAt {
		select {
		case last = <-fed:
		case <-timeout:
			_ = cmd.Process.Kill()
			t.Fatalf("the child did not record")
		}
	}
	must(t, cmd.Process.Signal(syscall.SIGKILL))
	_ = cmd.Wait()
	<-readDone
	for len(fed) > 0 {
		last = <-fed // fed before the kill took effect
	}

	src, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	fixedPath := filepath.Join(dir, "fixed"+ext)
	dst, err := os.Create(fixedPath)
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Close()
	dur, err := fix(dst, src)
	if err != nil {
		t.Fatalf("fix: %v\nchild: %s", err, output.String())
	}
	if out := mediatest.DecodeVFR(t, fixedPath); out != "" {
		t.Errorf("the repaired file does not decode cleanly: %s", out)
	}
	p := mediatest.FFprobe(t, fixedPath)
	lost := last - dur
	t.Logf("fed %v, repaired %v (ffprobe %.3f s): lost %v", last, dur, p.Duration, lost)
	if lost > time.Second || lost < 0 {
		t.Errorf("fed %v before the kill, the repaired file holds %v", last, dur)
	}
	if d := time.Duration(p.Duration * float64(time.Second)); last-d > time.Second {
		t.Errorf("ffprobe: %v", p.Duration)
	}
}

// crashFixChild records in real time into the file named by
// MR_CRASH_FIX_CHILD until it is killed, printing the media time fed.
func crashFixChild(t *testing.T) {
	f, err := os.Create(os.Getenv("MR_CRASH_FIX_CHILD"))
	if err != nil {
		t.Fatal(err)
	}
	ms := []media{loadOpus(t, "opus-stereo.ogg")}
	if v := os.Getenv("MR_CRASH_FIX_VIDEO"); v != "" {
		ms = append([]media{loadIVFPath(t, v, "video/VP9")}, ms...)
	}
	fd := newFeeder(ms...)
	r, err := mr.New(fd.stream(), mr.Options{MimeType: os.Getenv("MR_CRASH_FIX_MIME")})
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
		fmt.Printf("fed ms %d\n", fd.fed().Milliseconds())
	}
}

// fed returns the media time up to which some track has been fed: no
// recording of what was fed can last longer.
func (f *feeder) fed() time.Duration {
	var d time.Duration
	for _, a := range f.at {
		d = max(d, a)
	}
	return d
}

// loadIVFPath is loadIVF for a file anywhere.
func loadIVFPath(t testing.TB, path, mime string) media {
	t.Helper()
	h, frames, err := mediatest.ReadIVF(path)
	if err != nil {
		t.Fatal(err)
	}
	unit := time.Second * time.Duration(h.TimebaseNum) / time.Duration(h.TimebaseDen)
	m := media{codec: mr.Codec{MimeType: mime, ClockRate: 90000}}
	for i, fr := range frames {
		d := unit
		if i+1 < len(frames) {
			d = time.Duration(frames[i+1].PTS-fr.PTS) * unit
		}
		m.samples = append(m.samples, mr.Sample{Data: fr.Data, Duration: d})
	}
	return m
}
