package mediatest

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestTestdata(t *testing.T) {
	p := Testdata(t, "vp8.ivf")
	if !filepath.IsAbs(p) {
		t.Errorf("Testdata returned a relative path %q", p)
	}
	if _, err := os.Stat(p); err != nil {
		t.Error(err)
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(filepath.Dir(p)), "go.mod")); err != nil {
		t.Errorf("no go.mod next to %s: %v", filepath.Dir(p), err)
	}

	r := RunTB(t, func(tb testing.TB) { Testdata(tb, "no-such-file.ivf") })
	if len(r.Fatals) != 1 {
		t.Errorf("missing file: fatals = %q, want one", r.Fatals)
	}
}

func TestRequireTool(t *testing.T) {
	dir := t.TempDir()
	tool := filepath.Join(dir, "mediatest-fake-tool")
	if err := os.WriteFile(tool, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir)

	if testing.Short() {
		r := RunTB(t, func(tb testing.TB) { RequireTool(tb, "mediatest-fake-tool") })
		if len(r.Skips) != 1 || len(r.Fatals) != 0 {
			t.Errorf("-short, present tool: skips %q, fatals %q; want one skip", r.Skips, r.Fatals)
		}
		return
	}

	for _, ci := range []string{"", "true"} {
		t.Setenv("CI", ci)
		var got string
		r := RunTB(t, func(tb testing.TB) { got = RequireTool(tb, "mediatest-fake-tool") })
		if got != tool || len(r.Fatals)+len(r.Skips)+len(r.Errors) != 0 {
			t.Errorf("CI=%q, present tool: got %q (fatals %q, skips %q), want %q", ci, got, r.Fatals, r.Skips, tool)
		}
	}

	t.Setenv("CI", "")
	r := RunTB(t, func(tb testing.TB) { RequireTool(tb, "mediatest-missing-tool") })
	if len(r.Skips) != 1 || len(r.Fatals) != 0 {
		t.Errorf("CI unset, missing tool: skips %q, fatals %q; want one skip", r.Skips, r.Fatals)
	}

	t.Setenv("CI", "true")
	r = RunTB(t, func(tb testing.TB) { RequireTool(tb, "mediatest-missing-tool") })
	if len(r.Fatals) != 1 || len(r.Skips) != 0 {
		t.Errorf("CI=true, missing tool: skips %q, fatals %q; want one fatal", r.Skips, r.Fatals)
	}
}

// testFiles describes every file in the module's testdata/, as ffprobe
// reports it (see testdata/README.md).
var testFiles = []struct {
	name          string
	format, codec string
	fourCC        string // IVF files only
	width, height int
	sampleRate    int
	channels      int
	duration      float64 // stream duration, 0 when ffprobe has none
	frames        int     // nb_read_frames
}{
	{name: "vp8.ivf", format: "ivf", codec: "vp8", fourCC: "VP80", width: 320, height: 240, duration: 2, frames: 60},
	{name: "vp9.ivf", format: "ivf", codec: "vp9", fourCC: "VP90", width: 320, height: 240, duration: 2, frames: 60},
	{name: "av1.ivf", format: "ivf", codec: "av1", fourCC: "AV01", width: 320, height: 240, duration: 2, frames: 60},
	{name: "vp8-resize.ivf", format: "ivf", codec: "vp8", fourCC: "VP80", width: 320, height: 240, duration: 2, frames: 60},
	{name: "h264.h264", format: "h264", codec: "h264", width: 320, height: 240, frames: 60},
	{name: "h264-high.h264", format: "h264", codec: "h264", width: 636, height: 358, frames: 30},
	{name: "opus-stereo.ogg", format: "ogg", codec: "opus", sampleRate: 48000, channels: 2, duration: 2.0065, frames: 101},
	{name: "opus-mono-60ms.ogg", format: "ogg", codec: "opus", sampleRate: 48000, channels: 1, duration: 2.0065, frames: 34},
	{name: "pcm.wav", format: "wav", codec: "pcm_s16le", sampleRate: 48000, channels: 1, duration: 2, frames: 47},
}

// TestFiles checks each testdata file with ffmpeg and ffprobe, and checks
// ReadIVF and ReadWAV against what ffprobe reports.
func TestFiles(t *testing.T) {
	for _, tc := range testFiles {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			path := Testdata(t, tc.name)
			if out := Decode(t, path); out != "" {
				t.Errorf("Decode output %q, want none", out)
			}
			p := FFprobe(t, path)
			if p.FormatName != tc.format || len(p.Streams) != 1 {
				t.Fatalf("format %q with %d streams, want %q with 1", p.FormatName, len(p.Streams), tc.format)
			}
			s := p.Streams[0]
			want := Stream{
				Index:        0,
				CodecType:    "video",
				CodecName:    tc.codec,
				Width:        tc.width,
				Height:       tc.height,
				SampleRate:   tc.sampleRate,
				Channels:     tc.channels,
				Duration:     tc.duration,
				NbReadFrames: tc.frames,
			}
			if tc.sampleRate != 0 {
				want.CodecType = "audio"
			}
			if s != want {
				t.Errorf("stream\n got %+v\nwant %+v", s, want)
			}
			if p.Duration != tc.duration {
				t.Errorf("format duration %v, want %v", p.Duration, tc.duration)
			}

			switch filepath.Ext(tc.name) {
			case ".ivf":
				h, frames, err := ReadIVF(path)
				if err != nil {
					t.Fatal(err)
				}
				wantH := IVFHeader{FourCC: tc.fourCC, Width: uint16(tc.width), Height: uint16(tc.height),
					TimebaseDen: 30, TimebaseNum: 1, NumFrames: uint32(tc.frames)}
				if h != wantH {
					t.Errorf("header\n got %+v\nwant %+v", h, wantH)
				}
				if len(frames) != s.NbReadFrames {
					t.Errorf("ReadIVF: %d frames, ffprobe read %d", len(frames), s.NbReadFrames)
				}
				for i, f := range frames {
					if f.PTS != int64(i) || len(f.Data) == 0 {
						t.Errorf("frame %d: PTS %d, %d bytes; want PTS %d and data", i, f.PTS, len(f.Data), i)
					}
				}
			case ".wav":
				w, err := ReadWAV(path)
				if err != nil {
					t.Fatal(err)
				}
				if w.Channels != s.Channels || w.SampleRate != s.SampleRate || w.BitsPerSample != 16 {
					t.Errorf("ReadWAV: %d ch, %d Hz, %d bits; ffprobe: %d ch, %d Hz, s16",
						w.Channels, w.SampleRate, w.BitsPerSample, s.Channels, s.SampleRate)
				}
				if got := float64(len(w.Data)) / float64(2*w.Channels*w.SampleRate); got != s.Duration {
					t.Errorf("ReadWAV: %v s of samples, ffprobe %v s", got, s.Duration)
				}
			}
		})
	}
}

// vp8KeyFrameSize returns the size in a VP8 key frame's header (RFC 6386
// section 9.1), or ok false when frame is not a key frame.
func vp8KeyFrameSize(frame []byte) (w, h int, ok bool) {
	if len(frame) < 10 || frame[0]&1 != 0 || frame[3] != 0x9D || frame[4] != 0x01 || frame[5] != 0x2A {
		return 0, 0, false
	}
	return int(frame[6]) | int(frame[7]&0x3F)<<8, int(frame[8]) | int(frame[9]&0x3F)<<8, true
}

// TestVP8Resize checks the spliced file: key frames at 0 and 1 s, the second
// one carrying the new size, and ffmpeg decoding frames of both sizes.
func TestVP8Resize(t *testing.T) {
	path := Testdata(t, "vp8-resize.ivf")
	_, frames, err := ReadIVF(path)
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for i, f := range frames {
		if w, h, ok := vp8KeyFrameSize(f.Data); ok {
			keys = append(keys, fmt.Sprintf("%d:%dx%d", i, w, h))
		}
	}
	if got, want := strings.Join(keys, " "), "0:320x240 30:160x120"; got != want {
		t.Errorf("key frames %q, want %q", got, want)
	}

	// ffmpeg decodes frames of both sizes. (framemd5 cannot show this:
	// ffmpeg scales its output to the first frame's size.)
	ffprobe := RequireTool(t, "ffprobe")
	out, err := execOutput(t, ffprobe, "-v", "error", "-show_frames",
		"-show_entries", "frame=width,height", "-of", "csv=p=0", path)
	if err != nil {
		t.Fatalf("ffprobe: %v: %s", err, out)
	}
	sizes := map[string]int{}
	for _, line := range strings.Fields(string(out)) {
		sizes[line]++
	}
	if want := map[string]int{"320,240": 30, "160,120": 30}; fmt.Sprint(sizes) != fmt.Sprint(want) {
		t.Errorf("decoded frame sizes %v, want %v", sizes, want)
	}
}

func TestDecodeReportsErrors(t *testing.T) {
	RequireTool(t, "ffmpeg")
	path := filepath.Join(t.TempDir(), "junk.ivf")
	if err := os.WriteFile(path, []byte("this is not media"), 0o644); err != nil {
		t.Fatal(err)
	}
	var out string
	r := RunTB(t, func(tb testing.TB) { out = Decode(tb, path) })
	if len(r.Errors) != 1 || out == "" {
		t.Errorf("Decode of junk: errors %q, output %q; want one error and output", r.Errors, out)
	}
}

func TestMKVInfo(t *testing.T) {
	RequireTool(t, "ffmpeg")
	RequireTool(t, "mkvinfo")
	dir := t.TempDir()
	webm := filepath.Join(dir, "vp8.webm")
	remux(t, Testdata(t, "vp8.ivf"), webm)

	out := MKVInfo(t, webm)
	for _, want := range []string{"Document type: webm", "Codec ID: V_VP8", "Pixel width: 320"} {
		if !strings.Contains(out, want) {
			t.Errorf("mkvinfo output lacks %q:\n%s", want, out)
		}
	}
	if n := strings.Count(out, "+ Simple block: key,"); n != 2 {
		t.Errorf("mkvinfo shows %d key blocks, want 2 (is --all in effect?)", n)
	}

	r := RunTB(t, func(tb testing.TB) { MKVInfo(tb, Testdata(t, "pcm.wav")) })
	if len(r.Errors) != 1 {
		t.Errorf("MKVInfo of a WAV file: errors %q, want one", r.Errors)
	}
}

// remux copies the streams of src into dst with ffmpeg, without re-encoding.
func remux(t *testing.T, src, dst string) {
	t.Helper()
	ffmpeg := RequireTool(t, "ffmpeg")
	out, err := execOutput(t, ffmpeg, "-nostdin", "-v", "error", "-i", src, "-c", "copy", dst)
	if err != nil || len(out) > 0 {
		t.Fatalf("ffmpeg remux: %v: %s", err, out)
	}
}

func TestFrameMD5(t *testing.T) {
	RequireTool(t, "ffmpeg")
	ivf := Testdata(t, "vp8.ivf")
	webm := filepath.Join(t.TempDir(), "vp8.webm")
	remux(t, ivf, webm)

	a, b := FrameMD5(t, ivf), FrameMD5(t, webm)
	if len(a) != 60 {
		t.Errorf("%d framemd5 lines, want 60", len(a))
	}
	if strings.Join(a, "\n") != strings.Join(b, "\n") {
		t.Errorf("remuxed file decodes differently:\n%s\n---\n%s", strings.Join(a, "\n"), strings.Join(b, "\n"))
	}
	for _, line := range a {
		if strings.HasPrefix(line, "#") {
			t.Errorf("comment line kept: %q", line)
		}
	}
	if c := FrameMD5(t, Testdata(t, "vp9.ivf")); strings.Join(a, "\n") == strings.Join(c, "\n") {
		t.Error("vp8.ivf and vp9.ivf give the same framemd5")
	}
}

func TestFrameMD5Lines(t *testing.T) {
	in := "#format: frame checksums\n#version: 2\n#tb 0: 1/30\n\n0, 0, 0, 1, 115200, abc\n0, 1, 1, 1, 115200, def\n"
	got := frameMD5Lines([]byte(in))
	want := []string{"0, 0, 0, 1, 115200, abc", "0, 1, 1, 1, 115200, def"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestParseFFprobe(t *testing.T) {
	in := `{"streams":[{"index":0,"codec_name":"h264","codec_type":"video","width":636,"height":358,
		"duration":"N/A","nb_frames":"N/A","nb_read_frames":"30"},
		{"index":1,"codec_name":"opus","codec_type":"audio","sample_rate":"48000","channels":2,
		"duration":"2.006500","nb_frames":"101","nb_read_frames":"101"}],
		"format":{"format_name":"matroska,webm","duration":"N/A"}}`
	got, err := parseFFprobe([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	want := Probe{FormatName: "matroska,webm", Streams: []Stream{
		{Index: 0, CodecType: "video", CodecName: "h264", Width: 636, Height: 358, NbReadFrames: 30},
		{Index: 1, CodecType: "audio", CodecName: "opus", SampleRate: 48000, Channels: 2, Duration: 2.0065, NbFrames: 101, NbReadFrames: 101},
	}}
	if fmt.Sprintf("%+v", got) != fmt.Sprintf("%+v", want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
	if _, err := parseFFprobe([]byte("{")); err == nil {
		t.Error("bad JSON: no error")
	}
}
