package mp4_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gomediarecorder/mediarecorder/internal/mediatest"
	"github.com/gomediarecorder/mediarecorder/mp4"
)

// browserFixtures is where the project keeps Chromium's recordings; the
// tests that need them skip when it is missing.
const browserFixtures = "/work/shared/fixtures/browser"

// chromeFiles are Chromium's MP4 recordings with what Probe should say
// beyond what ffprobe checks.
var chromeFiles = []struct {
	path     string
	index    bool
	seekable bool
	problems []string // substrings, in order
}{
	// Only the first of nine fragments: mvhd's duration (4.998 s) is more
	// than there is.
	{"testdata/chrome-av-5s-head.mp4", false, false, []string{"mdhd duration", "mdhd duration", "mvhd duration 4.998s, but the samples last 621ms", "no index"}},
	{"testdata/chrome-audio-3s.mp4", false, false, []string{"mdhd duration", "no index"}},
	{"testdata/chrome-avc1-init.mp4", false, false, []string{"no fragments", "no index"}},
	{"testdata/chrome-ts1000-chunk-000.mp4", false, false, []string{"no fragments", "no duration", "no index"}},
	{browserFixtures + "/av-5s.mp4", true, true, []string{"mdhd duration", "mdhd duration"}},
	{browserFixtures + "/av-3s-avc1.mp4", true, true, []string{"mdhd duration", "mdhd duration"}},
	{browserFixtures + "/audio-3s.mp4", false, false, []string{"mdhd duration", "no index"}},
	{browserFixtures + "/av-pause-resume.mp4", true, true, []string{"mdhd duration", "mdhd duration"}},
	{"ts1000", false, false, []string{"mdhd duration", "mdhd duration", "no duration", "no index"}},
}

// TestProbeChrome probes Chromium's recordings and compares the result
// with ffprobe's: codecs, picture sizes, channels and rates, packet counts
// and durations.
func TestProbeChrome(t *testing.T) {
	mediatest.RequireTool(t, "ffprobe")
	for _, c := range chromeFiles {
		t.Run(filepath.Base(c.path), func(t *testing.T) {
			path := c.path
			if path == "ts1000" { // the chunks of start(1000), joined
				var all []byte
				for i := range 3 {
					b, err := os.ReadFile(fmt.Sprintf("%s/mp4-ts1000/chunk-%03d.mp4", browserFixtures, i))
					if err != nil {
						t.Skip(err)
					}
					all = append(all, b...)
				}
				path = filepath.Join(t.TempDir(), "ts1000.mp4")
				os.WriteFile(path, all, 0o644)
			}
			if _, err := os.Stat(path); err != nil {
				t.Skip(err)
			}
			r := probeFile(t, path)
			if r.HasIndex != c.index || r.Seekable != c.seekable {
				t.Errorf("HasIndex %v, Seekable %v", r.HasIndex, r.Seekable)
			}
			if !matchProblems(r.Problems, c.problems) {
				t.Errorf("problems %q, want %q", r.Problems, c.problems)
			}
			if !r.Fragmented || r.MajorBrand != "isom" {
				t.Errorf("Fragmented %v, brand %q", r.Fragmented, r.MajorBrand)
			}
			compareFFprobe(t, path, r)
		})
	}
}

// matchProblems reports whether each problem contains the substring of
// want at the same index.
func matchProblems(got, want []string) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		if !strings.Contains(got[i], want[i]) {
			return false
		}
	}
	return true
}

// compareFFprobe compares a Probe result with ffprobe's view of the file.
func compareFFprobe(t *testing.T, path string, r mp4.ProbeResult) {
	t.Helper()
	lines := mediatest.FFprobeLines(t, path, "-count_packets", "-show_entries",
		"stream=codec_name,width,height,channels,sample_rate,nb_read_packets:format=duration", "-of", "compact=nk=0")
	var streams []map[string]string
	var duration float64
	for _, l := range lines {
		kv := map[string]string{}
		for _, f := range strings.Split(l, "|")[1:] {
			k, v, _ := strings.Cut(f, "=")
			kv[k] = v
		}
		if strings.HasPrefix(l, "stream|") {
			streams = append(streams, kv)
		} else {
			duration, _ = strconv.ParseFloat(kv["duration"], 64)
		}
	}
	if len(streams) != len(r.Tracks) {
		t.Fatalf("%d tracks, ffprobe %d", len(r.Tracks), len(streams))
	}
	for i, s := range streams {
		tr := r.Tracks[i]
		want := ffprobeCodec[tr.Codec]
		if s["codec_name"] != want {
			t.Errorf("track %d: codec %q, ffprobe %q", tr.ID, tr.Codec, s["codec_name"])
		}
		num := func(k string) int { n, _ := strconv.Atoi(s[k]); return n }
		switch tr.Type {
		case mp4.TrackTypeVideo:
			if int(tr.Width) != num("width") || int(tr.Height) != num("height") {
				t.Errorf("track %d: %dx%d, ffprobe %sx%s", tr.ID, tr.Width, tr.Height, s["width"], s["height"])
			}
		case mp4.TrackTypeAudio:
			if int(tr.Channels) != num("channels") || int(tr.SampleRate) != num("sample_rate") {
				t.Errorf("track %d: %d channels at %d Hz, ffprobe %s at %s", tr.ID, tr.Channels, tr.SampleRate, s["channels"], s["sample_rate"])
			}
		}
		if tr.Samples != num("nb_read_packets") {
			t.Errorf("track %d: %d samples, ffprobe %s packets", tr.ID, tr.Samples, s["nb_read_packets"])
		}
	}
	// ffprobe takes an init segment's duration from Chromium's mdhd (in
	// the wrong units).
	if r.Fragmented && r.Fragments == 0 {
		return
	}
	// ffprobe's duration is that of the longest track's samples; Probe's
	// is mvhd's when the file has one, which the problems compare with
	// the samples.
	var longest time.Duration
	for _, tr := range r.Tracks {
		longest = max(longest, tr.Duration)
	}
	got := time.Duration(duration * float64(time.Second))
	if absDur(longest-got) > 50*time.Millisecond {
		t.Errorf("longest track %v, ffprobe %v", longest, got)
	}
	if absDur(r.Duration-longest) > 50*time.Millisecond && !slices.ContainsFunc(r.Problems, func(s string) bool {
		return strings.Contains(s, "but the samples last")
	}) {
		t.Errorf("duration %v, longest track %v", r.Duration, longest)
	}
}

// TestProbeOwn checks Probe on the writer's output against ffprobe.
func TestProbeOwn(t *testing.T) {
	mediatest.RequireTool(t, "ffprobe")
	v, a := loadVP9(t, 1), loadOpus(t, 2)
	opts := mp4.Options{Tracks: []mp4.Track{v.track, a.track}}
	path := writeSeekable(t, t.TempDir(), "own.mp4", opts, interleave(v, a))
	r := probeFile(t, path)
	compareFFprobe(t, path, r)
	want := []mp4.ProbeTrack{
		{ID: 1, Type: mp4.TrackTypeVideo, Handler: "vide", Codec: "vp09", Width: 320, Height: 240,
			Timescale: 90000, Duration: 2 * time.Second, Samples: 60, SyncSamples: 2},
		{ID: 2, Type: mp4.TrackTypeAudio, Handler: "soun", Codec: "Opus", Channels: 2, SampleRate: 48000,
			Timescale: 48000, Duration: 2020 * time.Millisecond, Samples: 101, SyncSamples: 101},
	}
	if !slices.Equal(r.Tracks, want) {
		t.Errorf("tracks\n%+v, want\n%+v", r.Tracks, want)
	}
	if r.MajorBrand != "isom" || !slices.Equal(r.CompatibleBrands, []string{"isom", "iso6", "iso2", "vp09", "mp41"}) {
		t.Errorf("brands %q %q", r.MajorBrand, r.CompatibleBrands)
	}
	if r.Fragments != 2 || r.Duration != 2020*time.Millisecond || !r.Seekable || len(r.Problems) > 0 {
		t.Errorf("%+v", r)
	}
}

// readerOnly hides every method of a reader but Read.
type readerOnly struct{ r io.Reader }

func (r readerOnly) Read(p []byte) (int, error) { return r.r.Read(p) }

func TestProbeTruncated(t *testing.T) {
	opts, samples := chromeLike()
	s := &bytes.Buffer{}
	w, _ := mp4.NewWriter(s, opts)
	for _, x := range samples {
		w.WriteSample(x.track, x.ts, x.dur, x.key, x.data)
	}
	w.Close()
	full := s.Bytes()
	whole, err := mp4.Probe(bytes.NewReader(full))
	if err != nil {
		t.Fatal(err)
	}
	moof := bytes.Index(full, []byte("moof")) - 4
	mdat := bytes.Index(full, []byte("mdat")) - 4
	for _, c := range []struct {
		name      string
		n         int
		fragments int
	}{
		{"in moov", 600, 0},
		{"in a box header", moof + 5, 0},
		{"in moof", moof + 50, 0},
		{"in mdat", mdat + 10, 1},
		{"before the last byte", len(full) - 1, 2},
	} {
		for _, seek := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s/seeker=%v", c.name, seek), func(t *testing.T) {
				var r io.Reader = bytes.NewReader(full[:c.n])
				if !seek {
					r = readerOnly{r}
				}
				p, err := mp4.Probe(r)
				if err != nil {
					t.Fatal(err)
				}
				want := fmt.Sprintf("truncated at byte %d", c.n)
				if !slices.ContainsFunc(p.Problems, func(s string) bool { return strings.HasPrefix(s, want) }) {
					t.Errorf("problems %q, want %q", p.Problems, want)
				}
				if p.Fragments != c.fragments || p.Seekable {
					t.Errorf("%d fragments, Seekable %v", p.Fragments, p.Seekable)
				}
			})
		}
	}
	// The whole stream, with and without seeking, reads the same.
	other, err := mp4.Probe(readerOnly{bytes.NewReader(full)})
	if err != nil {
		t.Fatal(err)
	}
	if !sameProbe(whole, other) || whole.Size != int64(len(full)) || other.Size != whole.Size {
		t.Errorf("seeker %+v\nreader %+v", whole, other)
	}
}

func sameProbe(a, b mp4.ProbeResult) bool {
	return slices.Equal(a.Tracks, b.Tracks) && a.Duration == b.Duration && a.DurationSource == b.DurationSource &&
		a.Fragments == b.Fragments && a.HasIndex == b.HasIndex && a.Seekable == b.Seekable &&
		a.MajorBrand == b.MajorBrand && slices.Equal(a.CompatibleBrands, b.CompatibleBrands)
}

func TestProbeNotMP4(t *testing.T) {
	for _, c := range []struct {
		name string
		data []byte
	}{
		{"empty", nil},
		{"short", []byte{0, 0, 0}},
		{"text", []byte("hello, world, this is not a movie")},
		{"WebM", []byte{0x1a, 0x45, 0xdf, 0xa3, 0x9f, 0x42, 0x86, 0x81, 1}},
		{"Ogg", []byte("OggS\x00\x02\x00\x00\x00\x00\x00\x00\x00\x00")},
	} {
		if _, err := mp4.Probe(bytes.NewReader(c.data)); !errors.Is(err, mp4.ErrNotMP4) {
			t.Errorf("%s: %v", c.name, err)
		}
	}
}

// TestProbePlain probes an MP4 file without fragments made by ffmpeg.
func TestProbePlain(t *testing.T) {
	path := mediatest.FFmpeg(t, t.TempDir(), "-i", mediatest.Testdata(t, "vp9.ivf"), "-i", mediatest.Testdata(t, "opus-stereo.ogg"),
		"-c", "copy", "-fflags", "+bitexact", "plain.mp4")
	r := probeFile(t, path)
	if r.Fragmented || r.Fragments != 0 || !r.Seekable || r.HasIndex || len(r.Problems) > 0 || len(r.Tracks) != 2 {
		t.Fatalf("%+v", r)
	}
	v, a := r.Tracks[0], r.Tracks[1]
	if v.Codec != "vp09" || v.Samples != 60 || v.SyncSamples != 2 || v.Duration != 2*time.Second || v.Width != 320 {
		t.Errorf("video %+v", v)
	}
	if a.Codec != "Opus" || a.Samples != 101 || a.SyncSamples != 101 || a.Channels != 2 {
		t.Errorf("audio %+v", a)
	}
	compareFFprobe(t, path, r)
}
