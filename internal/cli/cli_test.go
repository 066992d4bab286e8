package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gomediarecorder/mediarecorder/internal/mediatest"
)

// runCLI runs the command line in-process and returns the exit status and
// what it printed.
func runCLI(args ...string) (code int, stdout, stderr string) {
	var o, e bytes.Buffer
	code = Main(args, &o, &e)
	return code, o.String(), e.String()
}

func fixture(t *testing.T, rel string) string {
	t.Helper()
	p := filepath.Join(mediatest.Testdata(t, "README.md"), "..", "..", "..", "shared", "fixtures", rel)
	if _, err := os.Stat(p); err != nil {
		t.Skipf("fixture %s not here: %v", rel, err)
	}
	return p
}

func TestRecord(t *testing.T) {
	mediatest.RequireTool(t, "ffprobe")
	dir := t.TempDir()
	for _, c := range []struct {
		name   string
		inputs []string
		args   []string
		ext    string
		codecs []string
	}{
		{"vp8+opus", []string{"vp8.ivf", "opus-stereo.ogg"}, nil, ".webm", []string{"vp8", "opus"}},
		{"vp9 timeslice", []string{"vp9.ivf", "opus-stereo.ogg"}, []string{"-timeslice", "500ms"}, ".webm", []string{"vp9", "opus"}},
		{"av1", []string{"av1.ivf"}, nil, ".webm", []string{"av1"}},
		{"h264+opus", []string{"h264.h264", "opus-stereo.ogg"}, nil, ".mkv", []string{"h264", "opus"}},
		{"ogg", []string{"opus-mono-60ms.ogg"}, []string{"-mime", "audio/ogg"}, ".ogg", []string{"opus"}},
		{"mp4", []string{"h264.h264", "opus-stereo.ogg"}, []string{"-mime", "video/mp4"}, ".mp4", []string{"h264", "opus"}},
		{"mp4 vp9 timeslice", []string{"vp9.ivf", "opus-stereo.ogg"}, []string{"-mime", "video/mp4", "-timeslice", "400ms"}, ".mp4", []string{"vp9", "opus"}},
		{"wav", []string{"pcm.wav"}, nil, ".webm", []string{"pcm_s16le"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			out := filepath.Join(dir, strings.ReplaceAll(c.name, " ", "-")+c.ext)
			args := append([]string{"record", "-o", out}, c.args...)
			for _, in := range c.inputs {
				args = append(args, mediatest.Testdata(t, in))
			}
			code, _, stderr := runCLI(args...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			if o := mediatest.Decode(t, out); o != "" {
				t.Fatalf("ffmpeg: %s", o)
			}
			p := mediatest.FFprobe(t, out)
			var got []string
			for _, s := range p.Streams {
				got = append(got, s.CodecName)
			}
			if strings.Join(got, ",") != strings.Join(c.codecs, ",") {
				t.Errorf("codecs %v, want %v", got, c.codecs)
			}
			if math.Abs(p.Duration-2) > 0.1 && !(c.name == "h264+opus" && math.Abs(p.Duration-2) < 0.1) {
				t.Errorf("duration %.3f", p.Duration)
			}
			if c.ext == ".mp4" {
				code, stdout, _ := runCLI("probe", out)
				if code != 0 || !strings.Contains(stdout, `"seekable": true`) {
					t.Errorf("probe of the MP4: %s", stdout)
				}
			} else if c.ext != ".ogg" && !strings.Contains(mediatest.MKVInfo(t, out), "Cues") {
				t.Errorf("no Cues")
			}
			leftovers, _ := filepath.Glob(filepath.Join(dir, ".*.part"))
			if len(leftovers) != 0 {
				t.Errorf("temporary files left: %v", leftovers)
			}
		})
	}
}

func TestRecordDuration(t *testing.T) {
	out := filepath.Join(t.TempDir(), "d.webm")
	code, _, stderr := runCLI("record", "-o", out, "-realtime", "-duration", "700ms", mediatest.Testdata(t, "vp8.ivf"))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	p := mediatest.FFprobe(t, out)
	if p.Duration < 0.4 || p.Duration > 1.0 {
		t.Errorf("recorded %.3f s for -duration 700ms", p.Duration)
	}
}

// Bad input: exit 1 with one line naming the file; never a panic; no OUT.
func TestRecordBadInput(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty.ivf")
	os.WriteFile(empty, nil, 0o644)
	garbage := filepath.Join(dir, "garbage.bin")
	os.WriteFile(garbage, bytes.Repeat([]byte("not media "), 100), 0o644)
	truncated := filepath.Join(dir, "cut.ivf")
	data, _ := os.ReadFile(mediatest.Testdata(t, "vp8.ivf"))
	os.WriteFile(truncated, data[:len(data)/2+7], 0o644)
	vp8 := mediatest.Testdata(t, "vp8.ivf")
	out := filepath.Join(dir, "out.webm")
	for _, c := range []struct {
		name string
		args []string
		code int
		want string // in the error line
	}{
		{"no args", []string{"record"}, 2, "-o OUT is required"},
		{"no input", []string{"record", "-o", out}, 2, "no INPUT"},
		{"bad flag", []string{"record", "-bogus"}, 2, ""},
		{"missing input", []string{"record", "-o", out, filepath.Join(dir, "nope.ivf")}, 1, "nope.ivf"},
		{"empty input", []string{"record", "-o", out, empty}, 1, "empty.ivf"},
		{"unknown format", []string{"record", "-o", out, garbage}, 1, "garbage.bin"},
		{"truncated input", []string{"record", "-o", out, truncated}, 1, "cut.ivf"},
		{"missing out dir", []string{"record", "-o", filepath.Join(dir, "no", "such", "out.webm"), vp8}, 1, "out.webm"},
		{"codec the type cannot hold", []string{"record", "-o", filepath.Join(dir, "out.ogg"), "-mime", "audio/ogg", vp8}, 1, "NotSupportedError"},
		{"codec the extension cannot hold", []string{"record", "-o", filepath.Join(dir, "out.ogg"), vp8}, 1, "NotSupportedError"},
		{"unsupported type", []string{"record", "-o", out, "-mime", "video/banana", vp8}, 1, "NotSupportedError"},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, _, stderr := runCLI(c.args...)
			if code != c.code {
				t.Fatalf("exit %d, want %d: %s", code, c.code, stderr)
			}
			if c.code == 1 {
				if lines := strings.Count(strings.TrimSpace(stderr), "\n") + 1; lines != 1 {
					t.Errorf("%d lines on stderr: %q", lines, stderr)
				}
			}
			if !strings.Contains(stderr, c.want) {
				t.Errorf("stderr %q does not say %q", stderr, c.want)
			}
			if _, err := os.Stat(out); err == nil {
				t.Errorf("OUT was left in place")
				os.Remove(out)
			}
			if leftovers, _ := filepath.Glob(filepath.Join(dir, ".*.part")); len(leftovers) != 0 {
				t.Errorf("temporary files left: %v", leftovers)
			}
		})
	}
}

func TestProbe(t *testing.T) {
	for _, c := range []struct {
		path      string
		container string
		seekable  bool
		problem   string
		tracks    int
	}{
		{fixture(t, "browser/av-5s.webm"), "webm", true, "", 2},
		{fixture(t, "browser/webm-ts1000/concat.webm"), "webm", false, "Cues", 2},
		{fixture(t, "browser/webm-requestdata/concat.webm"), "webm", false, "Duration", 2},
		{fixture(t, "browser/av-3s-h264.mkv"), "matroska", true, "", 2},
		{fixture(t, "firefox/av-4s.webm"), "webm", false, "Cues", 2},
		{fixture(t, "firefox/audio-3s.ogg"), "ogg", true, "", 1},
		{mediatest.Testdata(t, "vp8.ivf"), "ivf", false, "", 1},
		{fixture(t, "browser/av-5s.mp4"), "mp4", true, "", 2},
		{fixture(t, "browser/av-3s-avc1.mp4"), "mp4", true, "", 2},
		{fixture(t, "browser/audio-3s.mp4"), "mp4", false, "index", 1},
		{fixture(t, "browser/mp4-ts1000/chunk-000.mp4"), "mp4", false, "", 2},
		{mediatest.Testdata(t, "pcm.wav"), "wav", true, "", 1},
	} {
		code, stdout, stderr := runCLI("probe", c.path)
		if code != 0 {
			t.Errorf("%s: exit %d: %s", c.path, code, stderr)
			continue
		}
		var res probeResult
		if err := json.Unmarshal([]byte(stdout), &res); err != nil {
			t.Fatalf("%s: not JSON: %v\n%s", c.path, err, stdout)
		}
		if res.Container != c.container || res.Seekable != c.seekable || len(res.Tracks) != c.tracks {
			t.Errorf("%s: container %q seekable %v tracks %d; want %q %v %d", c.path, res.Container, res.Seekable, len(res.Tracks), c.container, c.seekable, c.tracks)
		}
		if c.problem != "" && !strings.Contains(strings.Join(res.Problems, ";"), c.problem) {
			t.Errorf("%s: problems %v do not mention %s", c.path, res.Problems, c.problem)
		}
		if res.Duration == nil && c.container != "ivf" && !strings.Contains(c.path, "chunk-000") {
			t.Errorf("%s: no duration", c.path)
		}
	}
	// A cut file says where.
	data, _ := os.ReadFile(fixture(t, "browser/av-5s.webm"))
	cut := filepath.Join(t.TempDir(), "cut.webm")
	os.WriteFile(cut, data[:len(data)*2/3], 0o644)
	code, stdout, _ := runCLI("probe", cut)
	if code != 0 || !strings.Contains(stdout, "truncated at byte") {
		t.Errorf("cut file: exit %d, %s", code, stdout)
	}
	if code, _, stderr := runCLI("probe", filepath.Join(t.TempDir(), "none")); code != 1 || !strings.Contains(stderr, "none") {
		t.Errorf("missing file: %d %s", code, stderr)
	}
}

func TestFix(t *testing.T) {
	mediatest.RequireTool(t, "ffprobe")
	dir := t.TempDir()
	for _, in := range []string{
		fixture(t, "browser/webm-ts1000/concat.webm"),
		fixture(t, "browser/webm-requestdata/concat.webm"),
		fixture(t, "firefox/av-4s.webm"),
		fixture(t, "firefox/ts1000/concat.webm"),
	} {
		out := filepath.Join(dir, "fixed.webm")
		code, _, stderr := runCLI("fix", in, out)
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", in, code, stderr)
		}
		// Firefox writes two frames at the same millisecond now and then;
		// ffmpeg says so for the input, and must say no more for the output.
		if o, i := decodeMessages(t, out), decodeMessages(t, in); o != i {
			t.Errorf("%s: ffmpeg on the fixed file: %q, on the input: %q", in, o, i)
		}
		if p := mediatest.FFprobe(t, out); p.Duration < 2.5 {
			t.Errorf("%s: duration %.3f", in, p.Duration)
		}
		a, b := mediatest.FrameMD5(t, in), mediatest.FrameMD5(t, out)
		if strings.Join(a, "\n") != strings.Join(b, "\n") {
			t.Errorf("%s: media changed", in)
		}
		code, stdout, _ := runCLI("probe", out)
		if code != 0 || !strings.Contains(stdout, `"seekable": true`) {
			t.Errorf("%s: fixed file is not seekable: %s", in, stdout)
		}
	}
	if code, _, stderr := runCLI("fix", mediatest.Testdata(t, "vp8.ivf"), filepath.Join(dir, "x.webm")); code != 1 || !strings.Contains(stderr, "vp8.ivf") {
		t.Errorf("fix of an IVF: %d %s", code, stderr)
	}
}

// decodeMessages returns what `ffmpeg -v error -i path -f null -` prints,
// without the pointer values that differ from run to run.
func decodeMessages(t *testing.T, path string) string {
	t.Helper()
	ffmpeg := mediatest.RequireTool(t, "ffmpeg")
	out, _ := exec.Command(ffmpeg, "-v", "error", "-i", path, "-f", "null", "-").CombinedOutput()
	return regexp.MustCompile(`@ 0x[0-9a-f]+`).ReplaceAllString(string(out), "@")
}

func TestUsage(t *testing.T) {
	if code, _, _ := runCLI(); code != 2 {
		t.Errorf("no command: %d", code)
	}
	if code, _, _ := runCLI("bogus"); code != 2 {
		t.Errorf("unknown command: %d", code)
	}
	for _, cmd := range []string{"record", "probe", "fix"} {
		code, _, stderr := runCLI(cmd, "-h")
		if code != 0 || !strings.Contains(stderr, "usage: mediarecorder "+cmd) {
			t.Errorf("%s -h: %d %q", cmd, code, stderr)
		}
	}
}

// TestRecordSDP records RTP that ffmpeg sends over UDP, described by an SDP
// file, until -duration passes.
func TestRecordSDP(t *testing.T) {
	ffmpeg := mediatest.RequireTool(t, "ffmpeg")
	ports := mediatest.FreeUDPPorts(t, 2)
	dir := t.TempDir()
	sdp := filepath.Join(dir, "in.sdp")
	os.WriteFile(sdp, []byte(fmt.Sprintf("v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=test\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"+
		"m=video %d RTP/AVP 96\r\na=rtpmap:96 VP8/90000\r\n"+
		"m=audio %d RTP/AVP 111\r\na=rtpmap:111 opus/48000/2\r\n", ports[0], ports[1])), 0o644)
	out := filepath.Join(dir, "rtp.webm")
	done := make(chan int, 1)
	var stderr string
	go func() {
		var code int
		code, _, stderr = runCLI("record", "-o", out, "-duration", "4s", sdp)
		done <- code
	}()
	time.Sleep(300 * time.Millisecond) // let record bind its sockets
	for i, c := range [][]string{
		{"-re", "-i", mediatest.Testdata(t, "vp8.ivf"), "-c", "copy", "-f", "rtp", "-payload_type", "96"},
		{"-re", "-i", mediatest.Testdata(t, "opus-stereo.ogg"), "-c", "copy", "-f", "rtp", "-payload_type", "111"},
	} {
		args := append(append([]string{"-v", "error"}, c...), fmt.Sprintf("rtp://127.0.0.1:%d", ports[i]))
		cmd := exec.CommandContext(t.Context(), ffmpeg, args...)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cmd.Wait() })
	}
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("record did not end after -duration")
	}
	if o := mediatest.Decode(t, out); o != "" {
		t.Fatalf("ffmpeg: %s", o)
	}
	p := mediatest.FFprobe(t, out)
	if len(p.Streams) != 2 || p.Streams[0].CodecName != "vp8" || p.Streams[0].NbReadFrames < 50 || p.Streams[1].CodecName != "opus" {
		t.Errorf("streams %+v", p.Streams)
	}
}
