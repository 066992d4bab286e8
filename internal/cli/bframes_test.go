package cli

import (
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gomediarecorder/mediarecorder/internal/mediatest"
)

// TestRecordH264BFrames records libx264 Annex B streams with B-frames and
// a B-pyramid (and one without B-frames) from files into Matroska and
// MP4, and the Matroska recordings again into both: the recordings show
// every input picture in the input's order at increasing times, and
// decode cleanly. (Remuxed before the recorder took a source's
// presentation times for what they are, 2 s of B-frames took 5.5 s.)
func TestRecordH264BFrames(t *testing.T) {
	if testing.Short() {
		t.Skip("encodes with ffmpeg")
	}
	mediatest.RequireTool(t, "ffprobe")
	dir := t.TempDir()
	for _, in := range []struct {
		name string
		args []string
	}{
		{"bf2-pyramid", []string{"-bf", "2", "-x264-params", "b-pyramid=normal"}},
		{"bf3", []string{"-bf", "3", "-g", "20", "-x264-params", "b-pyramid=strict"}},
		{"bf0", []string{"-bf", "0"}},
	} {
		args := []string{"-f", "lavfi", "-i", "testsrc2=size=320x240:rate=30", "-frames:v", "60",
			"-pix_fmt", "yuv420p", "-c:v", "libx264", "-preset", "veryfast"}
		src := mediatest.FFmpeg(t, dir, append(append(args, in.args...), "-f", "h264", in.name+".h264")...)
		for _, ext := range []string{".mkv", ".mp4"} {
			t.Run(in.name+ext, func(t *testing.T) {
				out := filepath.Join(dir, in.name+ext)
				rec := []string{"record", "-o", out}
				if ext == ".mp4" {
					rec = append(rec, "-mime", "video/mp4")
				}
				if code, _, stderr := runCLI(append(rec, src)...); code != 0 {
					t.Fatalf("exit %d: %s", code, stderr)
				}
				mediatest.SamePictures(t, src, out)
				if ext == ".mp4" {
					if code, stdout, _ := runCLI("probe", out); code != 0 || !strings.Contains(stdout, `"seekable": true`) {
						t.Errorf("probe: %s", stdout)
					}
				} else {
					checkCues(t, out)
					// Remuxed, the Matroska file's blocks come with
					// presentation times: the recorder keeps them.
					for _, rext := range []string{".mkv", ".mp4"} {
						remux := filepath.Join(dir, in.name+"-remux"+rext)
						rec := []string{"record", "-o", remux}
						if rext == ".mp4" {
							rec = append(rec, "-mime", "video/mp4")
						}
						if code, _, stderr := runCLI(append(rec, out)...); code != 0 {
							t.Fatalf("remux: exit %d: %s", code, stderr)
						}
						mediatest.SamePictures(t, src, remux)
						if d := mediatest.FFprobe(t, remux).Duration; math.Abs(d-2) > 0.1 {
							t.Errorf("%s: duration %.3f s, want 2", remux, d)
						}
					}
				}
			})
		}
	}
}

// checkCues checks that the Cues of a Matroska file point at its key
// frames: one CuePoint per key frame, at its presentation time.
func checkCues(t *testing.T, path string) {
	t.Helper()
	var cues []int64
	for _, l := range strings.Split(mediatest.MKVInfo(t, path), "\n") {
		_, v, ok := strings.Cut(l, "Cue time: ")
		if !ok {
			continue
		}
		var h, m int
		var sec float64
		parts := strings.Split(strings.TrimSpace(v), ":")
		if len(parts) == 3 {
			h, _ = strconv.Atoi(parts[0])
			m, _ = strconv.Atoi(parts[1])
			sec, _ = strconv.ParseFloat(parts[2], 64)
		}
		d := time.Duration(h)*time.Hour + time.Duration(m)*time.Minute + time.Duration(sec*float64(time.Second))
		cues = append(cues, d.Round(time.Millisecond).Milliseconds())
	}
	var keys []int64
	for _, l := range mediatest.FFprobeLines(t, path, "-select_streams", "v:0", "-show_entries", "packet=pts,flags", "-of", "csv=p=0") {
		pts, flags, _ := strings.Cut(l, ",")
		if strings.HasPrefix(flags, "K") {
			v, err := strconv.ParseInt(pts, 10, 64)
			if err != nil {
				t.Fatalf("key frame pts %q", pts)
			}
			keys = append(keys, v)
		}
	}
	if len(keys) == 0 || !slices.Equal(cues, keys) {
		t.Errorf("cue times %v, key frames at %v (ms)", cues, keys)
	}
}
