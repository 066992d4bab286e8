package filesource_test

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/gomediarecorder/mediarecorder/filesource"
	"github.com/gomediarecorder/mediarecorder/internal/mediatest"
)

// remux copies the streams of the testdata files ins into a new file
// named name with ffmpeg -c copy (inputs given as "-framerate 30 x.h264"
// style argument lists).
func remux(t *testing.T, name string, ins ...[]string) string {
	t.Helper()
	var args []string
	for _, in := range ins {
		args = append(args, in[:len(in)-1]...)
		args = append(args, "-i", mediatest.Testdata(t, in[len(in)-1]))
	}
	for i := range ins {
		args = append(args, "-map", string(rune('0'+i)))
	}
	out := filepath.Join(t.TempDir(), name)
	args = append(args, "-c", "copy", out)
	ffmpeg(t, args...)
	return out
}

func in(args ...string) []string { return args }

func TestRecordWebM(t *testing.T) {
	cases := []struct {
		mediaCase
		ins [][]string
	}{
		{mediaCase{name: "vp8.webm", format: filesource.FormatWebM, codec: "vp8", width: 320, height: 240, hasDur: true}, [][]string{in("vp8.ivf")}},
		{mediaCase{name: "vp9.webm", format: filesource.FormatWebM, codec: "vp9", width: 320, height: 240, hasDur: true}, [][]string{in("vp9.ivf")}},
		{mediaCase{name: "av1.webm", format: filesource.FormatWebM, codec: "av1", width: 320, height: 240, hasDur: true}, [][]string{in("av1.ivf")}},
		{mediaCase{name: "av1.mkv", format: filesource.FormatMatroska, codec: "av1", width: 320, height: 240, hasDur: true}, [][]string{in("av1.ivf")}},
		{mediaCase{name: "vp8-resize.mkv", format: filesource.FormatMatroska, codec: "vp8", width: 320, height: 240, hasDur: true}, [][]string{in("vp8-resize.ivf")}},
		{mediaCase{name: "opus.webm", format: filesource.FormatWebM, codec: "opus", channels: 2, hasDur: true}, [][]string{in("opus-stereo.ogg")}},
		{mediaCase{name: "opus-mono.mka", format: filesource.FormatMatroska, codec: "opus", channels: 1, hasDur: true}, [][]string{in("opus-mono-60ms.ogg")}},
		{mediaCase{name: "h264.mkv", format: filesource.FormatMatroska, codec: "h264", width: 320, height: 240, hasDur: true, mime: "video/x-matroska;codecs=avc1"}, [][]string{in("-framerate", "30", "h264.h264")}},
		{mediaCase{name: "h264-high.mkv", format: filesource.FormatMatroska, codec: "h264", width: 636, height: 358, hasDur: true}, [][]string{in("-framerate", "30", "h264-high.h264")}},
		{mediaCase{name: "pcm.mkv", format: filesource.FormatMatroska, codec: "pcm_s16le", channels: 1, frames: -1, hasDur: true}, [][]string{in("pcm.wav")}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := remux(t, c.name, c.ins...)
			checkRecord(t, c.mediaCase, p)
		})
	}
}

func TestRecordWebMTwoTracks(t *testing.T) {
	p := remux(t, "vp8-opus.webm", in("vp8.ivf"), in("opus-stereo.ogg"))
	f := open(t, p, filesource.Options{})
	if n := len(f.Tracks()); n != 2 {
		t.Fatalf("%d tracks", n)
	}
	r := recordFiles(t, context.Background(), f)
	if r.playErr != nil {
		t.Fatal(r.playErr)
	}
	if r.stats.Dropped > 0 || r.stats.Skipped > 0 {
		t.Errorf("stats %+v", r.stats)
	}
	mediatest.Decode(t, r.path)
	pr := mediatest.FFprobe(t, r.path)
	if len(pr.Streams) != 2 || pr.Streams[0].NbReadFrames != 60 || pr.Streams[1].NbReadFrames != 101 {
		t.Errorf("streams %+v", pr.Streams)
	}
	st := startTimes(t, r.path)
	if len(st) != 2 || math.Abs(st[0]-st[1]) > 0.030 {
		t.Errorf("start times %v", st)
	}
}

func TestTruncatedWebM(t *testing.T) {
	src := remux(t, "vp8-opus.webm", in("vp8.ivf"), in("opus-stereo.ogg"))
	fi, err := os.Stat(src)
	if err != nil {
		t.Fatal(err)
	}
	p := cut(t, src, fi.Size()/2, "cut.webm")
	f := open(t, p, filesource.Options{})
	r := recordFiles(t, context.Background(), f)
	checkTruncated(t, r.playErr, p, -1)
	mediatest.Decode(t, r.path)
	pr := mediatest.FFprobe(t, r.path)
	if len(pr.Streams) != 2 || pr.Streams[0].NbReadFrames < 20 || pr.Streams[1].NbReadFrames < 30 {
		t.Errorf("streams %+v", pr.Streams)
	}
}

func TestWebMSkipsOtherCodecs(t *testing.T) {
	// A Vorbis track next to VP8: the VP8 track alone is played.
	dir := t.TempDir()
	p := filepath.Join(dir, "vorbis.webm")
	ffmpeg(t, "-i", mediatest.Testdata(t, "vp8.ivf"), "-f", "lavfi", "-i", "sine=duration=2",
		"-map", "0", "-map", "1", "-c:v", "copy", "-c:a", "libvorbis", p)
	f := open(t, p, filesource.Options{})
	defer f.Close()
	if n := len(f.Tracks()); n != 1 || f.Tracks()[0].Codec().MimeType != "video/VP8" {
		t.Fatalf("tracks %v", f.Tracks())
	}
	// Only Vorbis: an error.
	q := filepath.Join(dir, "vorbis-only.webm")
	ffmpeg(t, "-f", "lavfi", "-i", "sine=duration=1", "-c:a", "libvorbis", q)
	if _, err := filesource.Open(q, filesource.Options{}); err == nil {
		t.Fatal("Open of a Vorbis-only WebM succeeded")
	} else {
		t.Log(err)
	}
}
