package mp4_test

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gomediarecorder/mediarecorder/internal/mediatest"
	"github.com/gomediarecorder/mediarecorder/mp4"
)

// combos are the track combinations the recorder produces.
var combos = []struct {
	name  string
	video func(testing.TB, uint32) media
	audio bool
}{
	{"avc1+opus", loadH264, true},
	{"av01+opus", loadAV1, true},
	{"vp09+opus", loadVP9, true},
	{"avc1", loadH264, false},
	{"av01", loadAV1, false},
	{"vp09", loadVP9, false},
	{"opus", nil, true},
}

// ffprobeCodec maps sample entries to ffprobe's codec names.
var ffprobeCodec = map[string]string{"avc1": "h264", "av01": "av1", "vp09": "vp9", "Opus": "opus"}

// TestMedia writes every combination of real media seekable into a file
// and as a live stream, and checks both with ffmpeg, ffprobe and Probe.
func TestMedia(t *testing.T) {
	mediatest.RequireTool(t, "ffmpeg")
	mediatest.RequireTool(t, "ffprobe")
	for _, c := range combos {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			var ms []media
			if c.video != nil {
				ms = append(ms, c.video(t, 1))
			}
			if c.audio {
				ms = append(ms, loadOpus(t, uint32(len(ms)+1)))
			}
			var opts mp4.Options
			var want time.Duration
			for _, m := range ms {
				opts.Tracks = append(opts.Tracks, m.track)
				want = max(want, m.duration)
			}
			samples := interleave(ms...)
			dir := t.TempDir()

			t.Run("seekable", func(t *testing.T) {
				path := writeSeekable(t, dir, "seekable.mp4", opts, samples)
				checkFile(t, path, ms, want)
				checkSeek(t, path, c.video != nil)
				pr := probeFile(t, path)
				if !pr.Seekable || !pr.HasIndex || len(pr.Problems) > 0 || pr.DurationSource != "mvhd" {
					t.Errorf("Probe: %+v", pr)
				}
				if d := pr.Duration - want; d < -50*time.Millisecond || d > 50*time.Millisecond {
					t.Errorf("Probe duration %v, want %v", pr.Duration, want)
				}
			})

			t.Run("live", func(t *testing.T) {
				chunks := writeLive(t, opts, samples, 300*time.Millisecond)
				if got := topBoxes(t, chunks[0]); strings.Join(got, " ") != "ftyp moov" {
					t.Errorf("first chunk holds %v, want ftyp moov only", got)
				}
				for i, ch := range chunks[1:] {
					if got := topBoxes(t, ch); len(got) < 2 || got[0] != "moof" || got[len(got)-1] != "mdat" {
						t.Errorf("chunk %d holds %v, want moof ... mdat", i+1, got)
					}
				}
				if len(chunks) < 6 {
					t.Errorf("%d chunks for 2 s flushed every 300 ms", len(chunks))
				}
				path := filepath.Join(dir, "live.mp4")
				if err := os.WriteFile(path, bytes.Join(chunks, nil), 0o644); err != nil {
					t.Fatal(err)
				}
				checkFile(t, path, ms, want)
				pr := probeFile(t, path)
				if pr.Seekable || pr.HasIndex || pr.DurationSource != "samples" {
					t.Errorf("Probe: %+v", pr)
				}
			})
		})
	}
}

// checkFile checks that ffmpeg decodes path without a word and that
// ffprobe finds the tracks of ms with their frame counts and a duration
// within 50 ms of want.
func checkFile(t *testing.T, path string, ms []media, want time.Duration) {
	t.Helper()
	mediatest.Decode(t, path)
	p := mediatest.FFprobe(t, path)
	if !strings.Contains(p.FormatName, "mp4") {
		t.Errorf("format %q", p.FormatName)
	}
	if got := time.Duration(p.Duration * float64(time.Second)); absDur(got-want) > 50*time.Millisecond {
		t.Errorf("duration %v, want %v", got, want)
	}
	if len(p.Streams) != len(ms) {
		t.Fatalf("%d streams, want %d", len(p.Streams), len(ms))
	}
	for i, m := range ms {
		s := p.Streams[i]
		if s.CodecName != ffprobeCodec[m.track.Codec] {
			t.Errorf("stream %d: codec %q, want %q", i, s.CodecName, ffprobeCodec[m.track.Codec])
		}
		if s.NbReadFrames != m.frames {
			t.Errorf("stream %d: %d frames, want %d", i, s.NbReadFrames, m.frames)
		}
		if m.track.Type == mp4.TrackTypeVideo && (s.Width != 320 || s.Height != 240) {
			t.Errorf("stream %d: %dx%d, want 320x240", i, s.Width, s.Height)
		}
		if m.track.Type == mp4.TrackTypeAudio && (s.Channels != 2 || s.SampleRate != 48000) {
			t.Errorf("stream %d: %d channels at %d Hz, want 2 at 48000", i, s.Channels, s.SampleRate)
		}
	}
}

// checkSeek checks that ffmpeg can start decoding at 1 s and that ffprobe,
// asked to read from 1 s, starts near it.
func checkSeek(t *testing.T, path string, video bool) {
	t.Helper()
	args := []string{"-nostdin", "-v", "error", "-ss", "1", "-i", path}
	if video {
		args = append(args, "-frames:v", "1")
	}
	args = append(args, "-f", "null", "-")
	if out, err := execOutput(t, "ffmpeg", args...); err != nil || len(out) > 0 {
		t.Errorf("ffmpeg -ss 1: %v\n%s", err, out)
	}
	lines := mediatest.FFprobeLines(t, path, "-read_intervals", "1%+0.1",
		"-show_entries", "packet=pts_time,stream_index", "-of", "csv=p=0")
	if len(lines) == 0 {
		t.Fatal("ffprobe -read_intervals 1%+0.1 found no packets")
	}
	first := math.Inf(1)
	near := false
	for _, l := range lines {
		f := strings.Split(l, ",")
		pts, err := strconv.ParseFloat(f[len(f)-1], 64)
		if err != nil {
			continue
		}
		first = min(first, pts)
		near = near || math.Abs(pts-1) <= 0.1
	}
	if !near || first < 0.5 {
		t.Errorf("ffprobe -read_intervals 1%%+0.1: packets from %v s, none near 1 s: %v", first, lines)
	}
}

func absDur(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}

// TestSurround writes 5.1 Opus (dOps with a channel mapping table) and
// checks that ffmpeg decodes all six channels.
func TestSurround(t *testing.T) {
	dir := t.TempDir()
	src := mediatest.FFmpeg(t, dir, "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000:duration=0.5",
		"-af", "pan=5.1|c0=c0|c1=c0|c2=c0|c3=c0|c4=c0|c5=c0", "-c:a", "libopus", "-b:a", "128k", "s51.ogg")
	m := loadOpusFile(t, 1, src)
	if m.track.Channels != 6 {
		t.Fatalf("%d channels", m.track.Channels)
	}
	path := writeSeekable(t, dir, "s51.mp4", mp4.Options{Tracks: []mp4.Track{m.track}}, m.samples)
	mediatest.Decode(t, path)
	lines := mediatest.FFprobeLines(t, path, "-show_entries", "stream=channels,channel_layout", "-of", "csv=p=0")
	if len(lines) != 1 || lines[0] != "6,5.1" {
		t.Errorf("ffprobe: %q", lines)
	}
	// The mapping table in dOps is the one libopus wrote into OpusHead.
	if got, want := mediatest.MP4Box(t, path, "dOps")[10:], []byte{1, 4, 2, 0, 4, 1, 2, 3, 5}; !bytes.Equal(got, want) {
		t.Errorf("dOps mapping %x, want %x", got, want)
	}
}

// TestDisableSeekingFFmpeg stops seeking part way: the file keeps its
// reserved mehd at zero and has no index, and ffmpeg reads it as a live
// stream.
func TestDisableSeekingFFmpeg(t *testing.T) {
	v, a := loadVP9(t, 1), loadOpus(t, 2)
	path := filepath.Join(t.TempDir(), "disabled.mp4")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w, err := mp4.NewWriter(f, mp4.Options{Tracks: []mp4.Track{v.track, a.track}, Seekable: true})
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range interleave(v, a) {
		if i == 10 {
			w.DisableSeeking()
		}
		if err := w.WriteSample(s.track, s.ts, s.dur, s.key, s.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	checkFile(t, path, []media{v, a}, 2020*time.Millisecond)
	pr := probeFile(t, path)
	if pr.HasIndex || pr.Seekable || pr.DurationSource != "samples" {
		t.Errorf("Probe: %+v", pr)
	}
}
