package mediatest

import (
	"os"
	"strings"
	"testing"
)

// TestH264POCType1 rewrites a CAVLC stream with B-frames (ffmpeg decodes
// the same pictures from it: checked with the order counts in
// codecs/h264's TestPictureOrderFFmpeg) and refuses what it cannot
// rewrite.
func TestH264POCType1(t *testing.T) {
	if testing.Short() {
		t.Skip("encodes with ffmpeg")
	}
	dir := t.TempDir()
	enc := func(name string, args ...string) []byte {
		a := append([]string{"-f", "lavfi", "-i", "testsrc2=size=64x48:rate=25", "-frames:v", "12",
			"-pix_fmt", "yuv420p", "-c:v", "libx264", "-bf", "2"}, args...)
		b, err := os.ReadFile(FFmpeg(t, dir, append(a, "-f", "h264", name)...))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	out, err := H264POCType1(enc("cavlc.h264", "-coder", "0"))
	if err != nil {
		t.Fatal(err)
	}
	p := dir + "/type1.h264"
	if err := os.WriteFile(p, out, 0o644); err != nil {
		t.Fatal(err)
	}
	if n := len(FrameMD5(t, p)); n != 12 {
		t.Errorf("%d frames decoded from the rewritten stream", n)
	}
	for _, c := range []struct {
		name string
		in   []byte
		err  string
	}{
		{"cabac", enc("cabac.h264"), "CABAC"},
		{"type 2", enc("bf0.h264", "-bf", "0", "-coder", "0"), "pic_order_cnt_type is not 0"},
		{"no stop bit", []byte{0, 0, 1, 0x67, 0, 0}, "stop bit"},
		{"slice without PPS", []byte{0, 0, 1, 0x41, 0x88, 0x80}, "unknown PPS"},
	} {
		if _, err := H264POCType1(c.in); err == nil || !strings.Contains(err.Error(), c.err) {
			t.Errorf("%s: err %v, want one about %q", c.name, err, c.err)
		}
	}
}
