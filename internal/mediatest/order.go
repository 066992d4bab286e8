package mediatest

import (
	"slices"
	"strconv"
	"strings"
	"testing"
)

// SamePictures checks that the video of the recording out shows the
// pictures of the source in (an H.264 elementary stream, say), in the same
// presentation order: ffmpeg decodes out without a word, its first video
// stream decodes to as many frames as in's with the same checksums in the
// same order (ffmpeg -f framemd5), and the frames' timestamps
// (best_effort_timestamp) strictly increase. Failures are reported with
// t.Errorf.
func SamePictures(t testing.TB, in, out string) {
	t.Helper()
	Decode(t, out)
	want := md5s(FrameMD5(t, in), "0")
	got := md5s(FrameMD5(t, out), "0")
	if len(got) != len(want) {
		t.Errorf("mediatest: %s decodes to %d frames, %s to %d", out, len(got), in, len(want))
	}
	if !slices.Equal(got, want) {
		for i := range min(len(got), len(want)) {
			if got[i] != want[i] {
				t.Errorf("mediatest: frame %d of %s is not frame %d of %s (the first of the differences)", i, out, i, in)
				break
			}
		}
	}
	ts := FrameTimestamps(t, out, "v:0")
	for i := 1; i < len(ts); i++ {
		if ts[i] <= ts[i-1] {
			t.Errorf("mediatest: %s: frame %d at %d, frame %d at %d: timestamps do not increase", out, i-1, ts[i-1], i, ts[i])
			break
		}
	}
	if len(ts) != len(got) {
		t.Errorf("mediatest: %s: ffprobe shows %d frames, ffmpeg decodes %d", out, len(ts), len(got))
	}
}

// md5s returns the checksums of the framemd5 lines of the stream index.
func md5s(lines []string, stream string) []string {
	var out []string
	for _, l := range lines {
		f := strings.Split(l, ",")
		if len(f) >= 6 && strings.TrimSpace(f[0]) == stream {
			out = append(out, strings.TrimSpace(f[len(f)-1]))
		}
	}
	return out
}

// FrameTimestamps returns the best_effort_timestamp of the decoded frames
// of the stream sel selects (ffprobe -select_streams), in presentation
// order, in the stream's time base. The test fails at once on a frame
// without one.
func FrameTimestamps(t testing.TB, path, sel string) []int64 {
	t.Helper()
	lines := FFprobeLines(t, path, "-select_streams", sel, "-show_entries", "frame=best_effort_timestamp", "-of", "csv=p=0")
	var ts []int64
	for _, l := range lines {
		l, _, _ = strings.Cut(l, ",") // side data may follow
		if l = strings.TrimSpace(l); l == "" {
			continue
		}
		v, err := strconv.ParseInt(l, 10, 64)
		if err != nil {
			t.Fatalf("mediatest: %s: frame timestamp %q", path, l)
			return nil
		}
		ts = append(ts, v)
	}
	return ts
}
