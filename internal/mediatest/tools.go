package mediatest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

var errNoModule = errors.New("mediatest: no go.mod found above the working directory")

// Decode decodes every stream of the file at path with
// `ffmpeg -v error -i path -f null -` and returns what ffmpeg printed. The test
// fails (t.Errorf, quoting the output) when ffmpeg prints anything or exits
// with a non-zero status: a clean file decodes without a word.
func Decode(t testing.TB, path string) string {
	t.Helper()
	ffmpeg := RequireTool(t, "ffmpeg")
	cmd := exec.CommandContext(t.Context(), ffmpeg, "-nostdin", "-hide_banner", "-v", "error",
		"-i", path, "-f", "null", "-")
	out, err := cmd.CombinedOutput()
	if err != nil || len(out) > 0 {
		t.Errorf("mediatest: ffmpeg decode of %s: err=%v, output:\n%s", path, err, out)
	}
	return string(out)
}

// DecodeVFR is Decode for a recording of live capture (a browser's camera),
// whose frames keep their capture times, a millisecond or two off a
// regular grid: ffmpeg -v error -i path -enc_time_base -1 -f null -. By
// default ffmpeg's null output rounds video timestamps to the frame rate
// it guessed (20 or 30 fps), which can put two frames that are a frame
// period apart on one tick and make the null muxer report "non
// monotonically increasing dts"; on the file's own time base every frame
// is still decoded and checked, without that rounding.
func DecodeVFR(t testing.TB, path string) string {
	t.Helper()
	ffmpeg := RequireTool(t, "ffmpeg")
	cmd := exec.CommandContext(t.Context(), ffmpeg, "-nostdin", "-hide_banner", "-v", "error",
		"-i", path, "-enc_time_base", "-1", "-f", "null", "-")
	out, err := cmd.CombinedOutput()
	if err != nil || len(out) > 0 {
		t.Errorf("mediatest: ffmpeg decode (file time base) of %s: err=%v, output:\n%s", path, err, out)
	}
	return string(out)
}

// Stream is one stream of an FFprobe result. Numbers ffprobe reports as
// strings are parsed; a value that is missing or "N/A" is 0.
type Stream struct {
	Index        int
	CodecType    string // "video", "audio", ...
	CodecName    string // "vp8", "opus", "h264", ...
	Width        int
	Height       int
	SampleRate   int
	Channels     int
	Duration     float64 // seconds
	NbFrames     int     // as the container declares it
	NbReadFrames int     // as counted by decoding (-count_frames)
}

// Probe is the result of FFprobe.
type Probe struct {
	FormatName string  // e.g. "matroska,webm", "ogg", "ivf"
	Duration   float64 // seconds; 0 when ffprobe reports none
	Streams    []Stream
}

// ffprobeJSON mirrors the parts of `ffprobe -of json` that Probe keeps.
type ffprobeJSON struct {
	Format struct {
		FormatName string `json:"format_name"`
		Duration   string `json:"duration"`
	} `json:"format"`
	Streams []struct {
		Index        int    `json:"index"`
		CodecType    string `json:"codec_type"`
		CodecName    string `json:"codec_name"`
		Width        int    `json:"width"`
		Height       int    `json:"height"`
		SampleRate   string `json:"sample_rate"`
		Channels     int    `json:"channels"`
		Duration     string `json:"duration"`
		NbFrames     string `json:"nb_frames"`
		NbReadFrames string `json:"nb_read_frames"`
	} `json:"streams"`
}

// FFprobe runs `ffprobe -v error -show_format -show_streams -count_frames
// -of json path` and returns the parsed result. The test fails at once
// (t.Fatalf) when ffprobe fails, prints an error or its output cannot be
// parsed.
func FFprobe(t testing.TB, path string) Probe {
	t.Helper()
	p, complaints := FFprobeTruncated(t, path)
	if complaints != "" {
		t.Fatalf("mediatest: ffprobe %s: stderr:\n%s", path, complaints)
	}
	return p
}

// parseFFprobe turns ffprobe's JSON into a Probe.
func parseFFprobe(data []byte) (Probe, error) {
	var j ffprobeJSON
	if err := json.Unmarshal(data, &j); err != nil {
		return Probe{}, err
	}
	p := Probe{
		FormatName: j.Format.FormatName,
		Duration:   parseFloat(j.Format.Duration),
		Streams:    make([]Stream, 0, len(j.Streams)),
	}
	for _, s := range j.Streams {
		p.Streams = append(p.Streams, Stream{
			Index:        s.Index,
			CodecType:    s.CodecType,
			CodecName:    s.CodecName,
			Width:        s.Width,
			Height:       s.Height,
			SampleRate:   parseInt(s.SampleRate),
			Channels:     s.Channels,
			Duration:     parseFloat(s.Duration),
			NbFrames:     parseInt(s.NbFrames),
			NbReadFrames: parseInt(s.NbReadFrames),
		})
	}
	return p, nil
}

// parseFloat returns s as a number, or 0 when s is empty, "N/A" or not a number.
func parseFloat(s string) float64 {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0
	}
	return f
}

// parseInt returns s as an int, or 0 when s is empty, "N/A" or not a number.
func parseInt(s string) int {
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0
	}
	return n
}

// MKVInfo runs `mkvinfo --all path` (every element, including each Cluster's
// blocks, in English) and returns its output. The test fails (t.Errorf,
// quoting the output) unless mkvinfo exits 0; mkvinfo exits 1 on warnings
// and 2 on errors.
func MKVInfo(t testing.TB, path string) string {
	t.Helper()
	mkvinfo := RequireTool(t, "mkvinfo")
	cmd := exec.CommandContext(t.Context(), mkvinfo, "--all", path)
	cmd.Env = append(os.Environ(), "LC_ALL=C", "LANG=C", "LANGUAGE=")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Errorf("mediatest: mkvinfo %s: %v, output:\n%s", path, err, out)
	}
	return string(out)
}

// FrameMD5 returns the data lines of `ffmpeg -v error -i path -f framemd5 -`:
// one line per decoded frame ("stream, dts, pts, duration, size, md5"),
// comment lines dropped. Two files holding the same media give the same
// lines when their timestamps agree. After a change of picture size ffmpeg
// scales the frames to the first size before hashing them. The test fails (t.Errorf) when ffmpeg
// prints an error, and at once (t.Fatalf) when it exits non-zero.
func FrameMD5(t testing.TB, path string) []string {
	t.Helper()
	ffmpeg := RequireTool(t, "ffmpeg")
	cmd := exec.CommandContext(t.Context(), ffmpeg, "-nostdin", "-hide_banner", "-v", "error",
		"-i", path, "-f", "framemd5", "-")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("mediatest: ffmpeg framemd5 %s: %v, stderr:\n%s", path, err, stderr.Bytes())
		return nil
	}
	if stderr.Len() > 0 {
		t.Errorf("mediatest: ffmpeg framemd5 %s: stderr:\n%s", path, stderr.Bytes())
	}
	return frameMD5Lines(stdout.Bytes())
}

// frameMD5Lines returns the non-empty lines of out that are not comments.
func frameMD5Lines(out []byte) []string {
	var lines []string
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		lines = append(lines, line)
	}
	return lines
}

// FFmpeg runs `ffmpeg -nostdin -hide_banner -v error -y args...`, where the
// last of args names the output file relative to dir, and returns the
// output file's path. The test fails at once (t.Fatalf, quoting ffmpeg's
// output) when ffmpeg exits with a non-zero status, or when args is empty.
func FFmpeg(t testing.TB, dir string, args ...string) string {
	t.Helper()
	ffmpeg := RequireTool(t, "ffmpeg")
	if len(args) == 0 {
		t.Fatalf("mediatest: FFmpeg without an output file")
		return ""
	}
	out := filepath.Join(dir, args[len(args)-1])
	full := append([]string{"-nostdin", "-hide_banner", "-v", "error", "-y"}, args[:len(args)-1]...)
	full = append(full, out)
	if b, err := exec.CommandContext(t.Context(), ffmpeg, full...).CombinedOutput(); err != nil {
		t.Fatalf("mediatest: ffmpeg %q: %v\n%s", full, err, b)
	}
	return out
}

// FFprobeLines runs `ffprobe -v error args... path` and returns the lines of
// its standard output, without the final newline; none when it prints
// nothing. The test fails at once (t.Fatalf, quoting ffprobe's standard
// error) when ffprobe exits with a non-zero status.
func FFprobeLines(t testing.TB, path string, args ...string) []string {
	t.Helper()
	ffprobe := RequireTool(t, "ffprobe")
	full := append(append([]string{"-v", "error"}, args...), path)
	cmd := exec.CommandContext(t.Context(), ffprobe, full...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("mediatest: ffprobe %q: %v\n%s", full, err, stderr.Bytes())
		return nil
	}
	out := strings.TrimSpace(stdout.String())
	if out == "" {
		return nil
	}
	return strings.Split(out, "\n")
}

// PacketPTS returns the pts of the packets of the streams sel selects
// (ffprobe -select_streams: "v", "a", "0"...), in the stream's time base
// (milliseconds for WebM), in file order. The test fails at once on a
// packet without a pts.
func PacketPTS(t testing.TB, path, sel string) []int64 {
	t.Helper()
	lines := FFprobeLines(t, path, "-select_streams", sel, "-show_entries", "packet=pts", "-of", "csv=p=0")
	pts := make([]int64, 0, len(lines))
	for _, l := range lines {
		v, err := strconv.ParseInt(strings.TrimSpace(l), 10, 64)
		if err != nil {
			t.Fatalf("mediatest: %s: packet pts %q", path, l)
		}
		pts = append(pts, v)
	}
	return pts
}
