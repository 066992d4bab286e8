package cli

import (
	"bytes"
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gomediarecorder/mediarecorder/internal/mediatest"
)

// readFIFO starts ffmpeg reading path (a FIFO) and decoding every frame
// (framecrc); the returned func waits for it and returns its frame lines,
// failing the test on an ffmpeg error.
func readFIFO(t *testing.T, path string) func() []string {
	t.Helper()
	ffmpeg := mediatest.RequireTool(t, "ffmpeg")
	// A hang guard: ffmpeg waits for a writer that may never come.
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	t.Cleanup(cancel)
	cmd := exec.CommandContext(ctx, ffmpeg, "-nostdin", "-hide_banner", "-v", "error",
		"-i", path, "-map", "0", "-f", "framecrc", "-")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return func() []string {
		t.Helper()
		if err := cmd.Wait(); err != nil || stderr.Len() > 0 {
			t.Errorf("ffmpeg reading the FIFO: %v\n%s", err, stderr.Bytes())
		}
		var lines []string
		for _, l := range strings.Split(stdout.String(), "\n") {
			if l != "" && !strings.HasPrefix(l, "#") {
				lines = append(lines, l)
			}
		}
		return lines
	}
}

func mkfifo(t *testing.T, path string) {
	t.Helper()
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Skipf("no FIFOs here: %v", err)
	}
}

func fileMode(t *testing.T, path string) os.FileMode {
	t.Helper()
	st, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	return st.Mode()
}

// A FIFO OUT is written in place as a live stream that ffmpeg, reading the
// other end, decodes whole; the FIFO stays a FIFO. (Before the fix the
// temporary file was renamed over it: ffmpeg never got a byte and the
// FIFO became a regular file.)
func TestRecordIntoFIFO(t *testing.T) {
	mediatest.RequireTool(t, "ffmpeg")
	if testing.Short() {
		t.Skip("runs ffmpeg")
	}
	for _, c := range []struct {
		name   string
		mime   string
		inputs []string
		frames int // at least
	}{
		{"webm", "video/webm", []string{"vp8.ivf", "opus-stereo.ogg"}, 150},
		{"ogg", "audio/ogg", []string{"opus-stereo.ogg"}, 90},
		{"mp4", "video/mp4", []string{"h264.h264", "opus-stereo.ogg"}, 150},
	} {
		t.Run(c.name, func(t *testing.T) {
			fifo := filepath.Join(t.TempDir(), "out."+c.name)
			mkfifo(t, fifo)
			wait := readFIFO(t, fifo)
			args := []string{"record", "-o", fifo, "-mime", c.mime}
			for _, in := range c.inputs {
				args = append(args, mediatest.Testdata(t, in))
			}
			code, _, stderr := runCLI(args...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			if frames := wait(); len(frames) < c.frames {
				t.Errorf("ffmpeg decoded %d frames from the FIFO, want at least %d", len(frames), c.frames)
			}
			if m := fileMode(t, fifo); m&os.ModeNamedPipe == 0 {
				t.Errorf("OUT is now %v, not a FIFO", m)
			}
		})
	}
}

func TestFixIntoFIFO(t *testing.T) {
	mediatest.RequireTool(t, "ffmpeg")
	if testing.Short() {
		t.Skip("runs ffmpeg")
	}
	in := fixture(t, "browser/webm-ts1000/concat.webm")
	fifo := filepath.Join(t.TempDir(), "fixed.webm")
	mkfifo(t, fifo)
	wait := readFIFO(t, fifo)
	code, _, stderr := runCLI("fix", in, fifo)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if got, want := len(wait()), len(mediatest.FrameMD5(t, in)); got != want {
		t.Errorf("ffmpeg decoded %d frames from the FIFO, %d from IN", got, want)
	}
	if m := fileMode(t, fifo); m&os.ModeNamedPipe == 0 {
		t.Errorf("OUT is now %v, not a FIFO", m)
	}
}

// -o - writes the recording to standard output; so does fix IN -.
func TestStdout(t *testing.T) {
	mediatest.RequireTool(t, "ffmpeg")
	dir := t.TempDir()
	for _, c := range []struct {
		name string
		args []string
	}{
		{"record.webm", []string{"record", "-o", "-", mediatest.Testdata(t, "vp8.ivf"), mediatest.Testdata(t, "opus-stereo.ogg")}},
		{"record.mp4", []string{"record", "-o", "-", "-mime", "video/mp4", mediatest.Testdata(t, "vp9.ivf")}},
		{"fix.webm", []string{"fix", fixture(t, "browser/webm-requestdata/concat.webm"), "-"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(c.args...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			out := filepath.Join(dir, c.name)
			if err := os.WriteFile(out, []byte(stdout), 0o644); err != nil {
				t.Fatal(err)
			}
			mediatest.Decode(t, out)
			if p := mediatest.FFprobe(t, out); len(p.Streams) == 0 || p.Streams[0].NbReadFrames < 10 {
				t.Errorf("streams %+v", p.Streams)
			}
			if leftovers, _ := filepath.Glob(".*.part"); len(leftovers) > 0 {
				t.Errorf("temporary files left: %v", leftovers)
			}
		})
	}
}

// A character device OUT (here a private copy of /dev/null, made with
// mknod) is written in place and stays a device; so does /dev/null itself.
// Root only: mknod and writing /dev/null's directory need it.
func TestCharDeviceOut(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root (mknod; a rename over /dev/null)")
	}
	dev := filepath.Join(t.TempDir(), "null")
	if err := syscall.Mknod(dev, syscall.S_IFCHR|0o666, 1<<8|3); err != nil {
		t.Skipf("mknod: %v", err)
	}
	vp8 := mediatest.Testdata(t, "vp8.ivf")
	webmIn := fixture(t, "browser/webm-ts1000/concat.webm")
	for _, args := range [][]string{
		{"record", "-o", dev, vp8},
		{"fix", webmIn, dev},
	} {
		code, _, stderr := runCLI(args...)
		if code != 0 {
			t.Errorf("%v: exit %d: %s", args, code, stderr)
		}
		if m := fileMode(t, dev); m&os.ModeCharDevice == 0 {
			t.Fatalf("%v: OUT is now %v, not a character device", args, m)
		}
	}
	// The same on the real /dev/null, now that the private one passed.
	for _, args := range [][]string{{"record", "-o", "/dev/null", vp8}, {"fix", webmIn, "/dev/null"}} {
		if code, _, stderr := runCLI(args...); code != 0 {
			t.Errorf("%v: exit %d: %s", args, code, stderr)
		}
		if m := fileMode(t, "/dev/null"); m&os.ModeCharDevice == 0 {
			t.Fatalf("/dev/null is now %v", m)
		}
	}
}

// OUT that cannot be written as a stream is refused, and left alone.
func TestOutRefused(t *testing.T) {
	dir := t.TempDir()
	sock := filepath.Join(dir, "s.webm")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Skipf("no unix sockets: %v", err)
	}
	defer l.Close()
	sub := filepath.Join(dir, "sub.webm")
	os.Mkdir(sub, 0o755)
	vp8 := mediatest.Testdata(t, "vp8.ivf")
	for _, c := range []struct {
		out, want string
		mode      os.FileMode
	}{
		{sock, "socket", os.ModeSocket},
		{sub, "is a directory", os.ModeDir},
	} {
		for _, args := range [][]string{{"record", "-o", c.out, vp8}, {"fix", fixture(t, "browser/av-5s.webm"), c.out}} {
			code, _, stderr := runCLI(args...)
			if code != 1 || !strings.Contains(stderr, c.out) || !strings.Contains(stderr, c.want) {
				t.Errorf("%v: exit %d: %q", args, code, stderr)
			}
			if m := fileMode(t, c.out); m&c.mode == 0 {
				t.Errorf("%s is now %v", c.out, m)
			}
		}
	}
	if leftovers, _ := filepath.Glob(filepath.Join(dir, ".*.part")); len(leftovers) > 0 {
		t.Errorf("temporary files left: %v", leftovers)
	}
}

// A FIFO reader that goes away makes record fail (exit 1, one line naming
// OUT) instead of hanging or claiming success. The recording (PCM, about
// 190 KB) is larger than the pipe's buffer, so the write fails whatever
// the timing.
func TestRecordReaderGone(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "out.webm")
	mkfifo(t, fifo)
	go func() {
		f, err := os.Open(fifo)
		if err != nil {
			return
		}
		f.Read(make([]byte, 1000))
		f.Close()
	}()
	code, _, stderr := runCLI("record", "-o", fifo, mediatest.Testdata(t, "pcm.wav"))
	if code != 1 || !strings.Contains(stderr, fifo) || !strings.Contains(stderr, "broken pipe") ||
		strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
	t.Logf("stderr: %s", stderr)
	if m := fileMode(t, fifo); m&os.ModeNamedPipe == 0 {
		t.Errorf("OUT is now %v", m)
	}
}

// A symbolic link to a regular file stays a link; its target gets the
// recording.
func TestRecordThroughSymlink(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "target.webm")
	os.WriteFile(target, []byte("old"), 0o644)
	link := filepath.Join(dir, "link.webm")
	if err := os.Symlink("target.webm", link); err != nil {
		t.Skip(err)
	}
	if code, _, stderr := runCLI("record", "-o", link, mediatest.Testdata(t, "vp8.ivf")); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if m := fileMode(t, link); m&os.ModeSymlink == 0 {
		t.Errorf("the link is now %v", m)
	}
	if st, err := os.Stat(target); err != nil || st.Size() < 1000 {
		t.Errorf("target: %v %v", st, err)
	}
}

// The producer waits while the stream reader lags and a write is under
// way, and goes on once the write is done or the lag is small.
func TestStreamWriterWait(t *testing.T) {
	s := &streamWriter{slice: time.Second}
	s.busy.Store(true)
	done := make(chan struct{})
	go func() {
		s.wait(context.Background(), 10*time.Second) // 10 s fed, 0 written
		close(done)
	}()
	select {
	case <-done:
		t.Fatal("did not wait for a lagging reader")
	case <-time.After(50 * time.Millisecond):
	}
	s.written.Store(int64(8 * time.Second))
	<-done // lag 2 s: goes on
	s.written.Store(0)
	s.busy.Store(false)
	s.wait(context.Background(), time.Hour) // no write under way: no wait
	s.busy.Store(true)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	s.wait(ctx, time.Hour) // cancelled: no wait
}
