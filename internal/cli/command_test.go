package cli

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	mr "github.com/gomediarecorder/mediarecorder"
	"github.com/gomediarecorder/mediarecorder/internal/mediatest"
)

// OUT's extension picks the container when -mime does not. Before, every
// extension got WebM: -o x.mp4 and -o x.ogg wrote WebM and exited 0.
func TestRecordContainerFromExtension(t *testing.T) {
	mediatest.RequireTool(t, "ffprobe")
	dir := t.TempDir()
	vp8, opus := mediatest.Testdata(t, "vp8.ivf"), mediatest.Testdata(t, "opus-stereo.ogg")
	for _, c := range []struct {
		out       string
		inputs    []string
		container string // what probe says
		format    string // ffprobe's format_name
	}{
		{"a.webm", []string{vp8, opus}, "webm", "matroska,webm"},
		{"a.mkv", []string{vp8, opus}, "matroska", "matroska,webm"},
		{"a.ogg", []string{opus}, "ogg", "ogg"},
		{"a.opus", []string{opus}, "ogg", "ogg"},
		{"a.mp4", []string{vp8, opus}, "", ""}, // VP8 does not go in MP4: exit 1
		{"b.mp4", []string{mediatest.Testdata(t, "vp9.ivf"), opus}, "mp4", "mov,mp4,m4a,3gp,3g2,mj2"},
		{"a.m4a", []string{opus}, "mp4", "mov,mp4,m4a,3gp,3g2,mj2"},
		{"A.MP4", []string{mediatest.Testdata(t, "av1.ivf")}, "mp4", "mov,mp4,m4a,3gp,3g2,mj2"},
	} {
		out := filepath.Join(dir, c.out)
		code, _, stderr := runCLI(append([]string{"record", "-o", out}, c.inputs...)...)
		if c.container == "" {
			if code != 1 || !strings.Contains(stderr, "NotSupportedError") {
				t.Errorf("%s: exit %d: %s", c.out, code, stderr)
			}
			continue
		}
		if code != 0 {
			t.Errorf("%s: exit %d: %s", c.out, code, stderr)
			continue
		}
		res, err := probe(out)
		if err != nil || res.Container != c.container {
			t.Errorf("%s: probe says %q (%v), want %q", c.out, res.Container, err, c.container)
		}
		lines := mediatest.FFprobeLines(t, out, "-show_entries", "format=format_name", "-of", "default=nw=1:nk=1")
		if len(lines) != 1 || lines[0] != c.format {
			t.Errorf("%s: ffprobe format %v, want %s", c.out, lines, c.format)
		}
		mediatest.Decode(t, out)
	}
}

// A -mime that contradicts OUT's extension is bad usage: exit 2, no OUT.
func TestRecordMimeContradictsExtension(t *testing.T) {
	dir := t.TempDir()
	vp9 := mediatest.Testdata(t, "vp9.ivf")
	for _, c := range []struct {
		out, mime string
		code      int
	}{
		{"x.mp4", "video/webm", 2},
		{"x.ogg", "video/webm;codecs=vp9", 2},
		{"x.webm", "video/mp4", 2},
		{"x.webm", "video/x-matroska", 2},
		{"x.opus", "audio/webm", 2},
		{"x.mkv", "video/webm", 0}, // WebM is Matroska
		{"x.m4a", "video/mp4", 0},
		{"x.bin", "video/mp4", 0}, // an extension we do not know says nothing
	} {
		out := filepath.Join(dir, c.out)
		code, _, stderr := runCLI("record", "-o", out, "-mime", c.mime, vp9)
		if code != c.code {
			t.Errorf("-o %s -mime %s: exit %d, want %d: %s", c.out, c.mime, code, c.code, stderr)
		}
		_, err := os.Stat(out)
		if c.code == 2 {
			if err == nil {
				t.Errorf("-o %s -mime %s: OUT written", c.out, c.mime)
			}
			if !strings.Contains(stderr, c.mime) || !strings.Contains(stderr, "mediarecorder record -h") {
				t.Errorf("-o %s -mime %s: stderr %q", c.out, c.mime, stderr)
			}
		}
		os.Remove(out)
	}
}

// Flags may follow the inputs (record -o x.webm in.ivf -realtime); "--"
// ends the flags. Before, "-realtime" after the input was taken for an
// input file.
func TestRecordFlagsAfterInputs(t *testing.T) {
	var got recordConfig
	recordFunc = func(_ context.Context, c recordConfig) error { got = c; return nil }
	defer func() { recordFunc = record }()
	code, _, stderr := runCLI("record", "-o", "x.webm", "in.ivf", "-realtime", "b.ogg", "-timeslice", "2s",
		"-audio-bitrate", "64k", "-video-bitrate", "1.5M")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !got.realtime || got.timeslice != 2*time.Second || strings.Join(got.inputs, ",") != "in.ivf,b.ogg" ||
		got.audioBps != 64000 || got.videoBps != 1500000 || got.out != "x.webm" {
		t.Errorf("config %+v", got)
	}
	code, _, stderr = runCLI("record", "-o", "-", "--", "-realtime", "in.ivf")
	if code != 0 || got.realtime || strings.Join(got.inputs, ",") != "-realtime,in.ivf" || got.out != "-" {
		t.Errorf("after --: exit %d %q, config %+v", code, stderr, got)
	}
}

// The bit rates reach the Recorder's options, and its attributes.
func TestRecorderOptions(t *testing.T) {
	v := mr.NewSampleTrack(mr.Codec{MimeType: "video/VP8", ClockRate: 90000})
	a := mr.NewSampleTrack(mr.Codec{MimeType: "audio/opus", ClockRate: 48000, Channels: 2})
	for _, c := range []struct {
		cfg    recordConfig
		tracks []mr.Track
		mime   string
	}{
		{recordConfig{out: "x.webm"}, []mr.Track{v, a}, "video/webm"},
		{recordConfig{out: "x.webm"}, []mr.Track{a}, "audio/webm"},
		{recordConfig{out: "x.MKV"}, []mr.Track{v}, "video/x-matroska"},
		{recordConfig{out: "x.opus"}, []mr.Track{a}, "audio/ogg"},
		{recordConfig{out: "x.m4a"}, []mr.Track{a}, "audio/mp4"},
		{recordConfig{out: "x.mp4", mime: "video/mp4;codecs=vp9"}, []mr.Track{v}, "video/mp4;codecs=vp9"},
		{recordConfig{out: "-"}, []mr.Track{v}, ""},
		{recordConfig{out: "/dev/null"}, []mr.Track{v}, ""},
		{recordConfig{out: "x.webm", audioBps: 64000, videoBps: 1000000}, []mr.Track{v, a}, "video/webm"},
	} {
		o := recorderOptions(c.cfg, c.tracks)
		if o.MimeType != c.mime || o.AudioBitsPerSecond != c.cfg.audioBps || o.VideoBitsPerSecond != c.cfg.videoBps {
			t.Errorf("%+v: %+v", c.cfg, o)
		}
		rec, err := mr.New(mr.NewStream(c.tracks...), o)
		if err != nil {
			t.Fatal(err)
		}
		if c.cfg.audioBps != 0 && (rec.AudioBitsPerSecond() != c.cfg.audioBps || rec.VideoBitsPerSecond() != c.cfg.videoBps) {
			t.Errorf("recorder: audio %d, video %d", rec.AudioBitsPerSecond(), rec.VideoBitsPerSecond())
		}
	}
}

func TestParseBitrate(t *testing.T) {
	for _, c := range []struct {
		in   string
		want uint64
		err  string
	}{
		{"64000", 64000, ""}, {"64k", 64000, ""}, {"64K", 64000, ""}, {"1M", 1000000, ""},
		{"1.5M", 1500000, ""}, {"2.5k", 2500, ""}, {"1G", 1000000000, ""}, {"0.5", 1, ""},
		{"", 0, "not a bit rate"}, {"k", 0, "not a bit rate"}, {"1m", 0, "not a bit rate"},
		{"64kb", 0, "not a bit rate"}, {"-1k", 0, "at least 1"}, {"0", 0, "at least 1"},
		{"0x10", 0, "not a bit rate"}, {"NaN", 0, "not a bit rate"}, {"Inf", 0, "not a bit rate"},
		{"1e3", 1000, ""}, {"11G", 0, "more than 10G"}, {"1_000", 0, "not a bit rate"},
	} {
		got, err := parseBitrate(c.in)
		if got != c.want || (err == nil) != (c.err == "") || err != nil && !strings.Contains(err.Error(), c.err) {
			t.Errorf("parseBitrate(%q) = %d, %v; want %d, %q", c.in, got, err, c.want, c.err)
		}
	}
	for _, v := range []uint64{1, 999, 64000, 1500000, 2000000000} {
		if got, err := parseBitrate(formatBitrate(v)); got != v || err != nil {
			t.Errorf("%d -> %q -> %d, %v", v, formatBitrate(v), got, err)
		}
	}
}

// Usage errors say what is wrong and how to get help, with exit 2: a
// mistyped command or flag gets "did you mean", a duration without a unit
// says which units (before: "parse error"), a bad bit rate what it takes.
func TestUsageMessages(t *testing.T) {
	for _, c := range []struct {
		args []string
		want []string
	}{
		{[]string{"recrod"}, []string{`unknown command "recrod"`, `did you mean "record"?`}},
		{[]string{"prbe", "x"}, []string{`did you mean "probe"?`}},
		{[]string{"record", "-o", "x.webm", "-realtim", "in.ivf"}, []string{"unknown flag -realtim", "did you mean -realtime?"}},
		{[]string{"record", "-o", "x.webm", "-timeslic", "1s", "in.ivf"}, []string{"did you mean -timeslice?"}},
		{[]string{"record", "-mim", "audio/ogg"}, []string{"did you mean -mime?"}},
		{[]string{"record", "-o", "x.webm", "-timeslice", "1", "in.ivf"}, []string{"-timeslice", "1 what? give a unit: 1s or 1ms"}},
		{[]string{"record", "-o", "x.webm", "-duration", "soon", "in.ivf"}, []string{"-duration", "ms, s, m, h"}},
		{[]string{"record", "-o", "x.webm", "-duration", "-2s", "in.ivf"}, []string{"must not be negative"}},
		{[]string{"record", "-o", "x.webm", "-audio-bitrate", "lots", "in.ivf"}, []string{"-audio-bitrate", "64k"}},
		{[]string{"record", "-o", "x.webm", "-video-bitrate", "0", "in.ivf"}, []string{"-video-bitrate", "at least 1"}},
		{[]string{"fix", "in.webm"}, []string{"IN and OUT", "mediarecorder fix -h"}},
		{[]string{"probe"}, []string{"one or more FILEs"}},
	} {
		code, stdout, stderr := runCLI(c.args...)
		if code != 2 {
			t.Errorf("%q: exit %d, want 2: %s", c.args, code, stderr)
		}
		if stdout != "" {
			t.Errorf("%q: stdout %q", c.args, stdout)
		}
		for _, w := range c.want {
			if !strings.Contains(stderr, w) {
				t.Errorf("%q: stderr %q lacks %q", c.args, stderr, w)
			}
		}
	}
}

// record -h lists the kinds of input, .sdp and .y4m included, and at
// least three examples.
func TestRecordHelp(t *testing.T) {
	code, _, stderr := runCLI("record", "-h")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, w := range []string{".ivf", ".ogg", ".h264", ".wav", ".webm", ".mkv", ".sdp", ".y4m", "Examples:",
		"-audio-bitrate", "-video-bitrate", "500ms", "-o -"} {
		if !strings.Contains(stderr, w) {
			t.Errorf("record -h does not mention %q", w)
		}
	}
	if n := strings.Count(stderr, "\n  mediarecorder record "); n < 3 {
		t.Errorf("%d examples, want at least 3:\n%s", n, stderr)
	}
}

// probe takes several files: a JSON array, in order; one that cannot be
// read is named on stderr and makes the exit status 1, the others are
// still printed. Before, probe took exactly one file.
func TestProbeSeveral(t *testing.T) {
	vp8, wav := mediatest.Testdata(t, "vp8.ivf"), mediatest.Testdata(t, "pcm.wav")
	code, stdout, stderr := runCLI("probe", vp8, wav)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var res []probeResult
	if err := json.Unmarshal([]byte(stdout), &res); err != nil || len(res) != 2 || res[0].File != vp8 || res[1].File != wav ||
		res[0].Container != "ivf" || res[1].Container != "wav" {
		t.Fatalf("%v: %s", err, stdout)
	}
	missing := filepath.Join(t.TempDir(), "missing.webm")
	code, stdout, stderr = runCLI("probe", vp8, missing, wav)
	res = nil
	if err := json.Unmarshal([]byte(stdout), &res); err != nil || len(res) != 2 {
		t.Errorf("%v: %s", err, stdout)
	}
	if code != 1 || !strings.Contains(stderr, missing) || strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
	// One file: one object, as before.
	code, stdout, _ = runCLI("probe", wav)
	if code != 0 || !strings.HasPrefix(stdout, "{") {
		t.Errorf("one file: exit %d: %s", code, stdout)
	}
}
